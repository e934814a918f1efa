"""One run, read out of the audit log: what both runbook reports (Markdown and HTML) show.

Built from the log's events alone, with every string passed through the
redactor first, so a report can be regenerated and checked long after the run.
Each report only lays this out; what a run's outcome, steps, risks, snapshot,
decisions and drill were is decided here, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from runner.audit.describe import describe
from runner.audit.normal import Event, normal_events, timestamp

ENDINGS = ("run_finished", "run_halted", "run_refused")
STEP_ENDS = ("step_applied", "step_reverted", "step_failed")
ATTENTION = {
    "lock_timeout_hit",
    "queue_limit_hit",
    "blockers_found",
    "blocker_terminated",
    "blocker_not_terminated",
    "blockers_remain",
    "run_resumed",
    "dead_run_session_ended",
    "leftover_index_dropped",
    "retry_scheduled",
    "step_failed",
    "check_failed",
    "decision_made",
    "rollback_refused",
    "state_mismatch",
    "state_unreadable",
    "run_refused",
    "unfinished_run_found",
    "step_session_ended",
    "console_lost",
}


def runs_in(events: Sequence[Event]) -> list[str]:
    return list(dict.fromkeys(str(e["run_id"]) for e in events))


@dataclass(frozen=True)
class StepRow:
    """One finished attempt of a step (applied, reverted or failed)."""

    number: int
    revision: str
    direction: str
    result: str  # applied, reverted, FAILED (kind)
    attempts: Any
    duration_ms: int | None
    lock_waited_ms: int | None


@dataclass(frozen=True)
class ChainStep:
    """One revision of the plan, with the risk assessed before the run and what became of it."""

    revision: str
    message: str
    risk: str
    lock: str
    reversible: str
    profile: str
    estimated_ms: int | None
    duration_ms: int | None  # the applying attempt that ended it, when one did
    result: str  # applied, reverted, failed, not started

    @property
    def one_way(self) -> bool:
        return self.reversible.startswith("no")


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    events: tuple[Event, ...]  # this run's, redacted, in order

    @classmethod
    def of(cls, events: Sequence[Event], run_id: str) -> RunRecord:
        mine = normal_events(events, run_id)
        if not mine:
            raise ValueError(f"run {run_id} is not in this log")
        return cls(run_id, mine)

    # -- single events -----------------------------------------------------------------------
    def first(self, name: str) -> Event:
        return next((e for e in self.events if e["event"] == name), {})

    def named(self, *names: str) -> list[Event]:
        return [e for e in self.events if e["event"] in names]

    @property
    def last(self) -> Event:
        return self.events[-1]

    @property
    def ending(self) -> Event:
        """The event that ended the run (a rehearsal's drill may be logged after it); else the last one."""
        return next((e for e in reversed(self.events) if e["event"] in ENDINGS), self.events[-1])

    @property
    def started(self) -> Event:
        return self.first("run_started") or self.events[0]

    @property
    def prior_heads(self) -> list[str] | None:
        recorded = self.first("revision_recorded")
        return list(recorded.get("prior_heads") or []) if recorded else None

    @property
    def final_heads(self) -> list[str] | None:
        final = self.ending.get("final_heads")
        return list(final) if final is not None else None

    @property
    def snapshot(self) -> Event | None:
        """The run's snapshot event (``snapshot_available`` or any ``snapshot_*``), if it has one."""
        found = [e for e in self.events if str(e["event"]).startswith("snapshot_")]
        return next((e for e in found if e.get("snapshot_id")), found[0] if found else None)

    @property
    def drill(self) -> Event | None:
        return self.first("drill_finished") or None

    @property
    def config(self) -> str | None:
        """The alembic.ini the run used, where the log names it."""
        request = self.started.get("request") or {}
        return (
            request.get("config")
            or self.started.get("config")
            or self.first("playbook_loaded").get("alembic_config")
        )

    # -- what the run came to ------------------------------------------------------------------
    @property
    def outcome(self) -> str:
        ending = self.ending
        if ending["event"] in ENDINGS:
            return f"{ending.get('status', ending['event'])} (exit code {ending.get('exit_code')})"
        return f"incomplete: {self.where_it_stopped()}; the log ends at {ending['event']} (the process died)"

    @property
    def finished(self) -> bool:
        return self.ending["event"] in ENDINGS

    def where_it_stopped(self) -> str:
        """For a run whose log just ends: the step it was in, or the last one it finished."""
        started = self.named("step_started")
        if not started:
            return "stopped before its first step"
        current = started[-1]
        later = self.events[self.events.index(current) + 1 :]
        finished = [e for e in later if e["event"] in STEP_ENDS and e.get("revision") == current["revision"]]
        direction = f" ({current.get('direction', 'upgrade')})"
        if finished:
            return f"stopped after {current['revision']}{direction}, before its next step"
        return f"stopped during {current['revision']}{direction}"

    def summary(self) -> list[tuple[str, Any]]:
        """(label, value) for the report's head; rows without a value are left out."""
        started, last, ending = self.started, self.last, self.ending
        lock = self.first("run_lock_acquired")
        server = lock.get("server") or {}
        rows = [
            ("Target", started.get("target")),
            (
                "Server",
                f"{server.get('database')} (system {server.get('system_identifier')}, "
                f"PostgreSQL {lock.get('server_version')})"
                if server
                else None,
            ),
            ("Operator", started.get("operator")),
            ("Started", started.get("ts")),
            ("Ended", f"{last.get('ts')} ({duration(started.get('ts'), last.get('ts'))})"),
            ("Outcome", self.outcome),
            ("Prior revision", heads_text(self.prior_heads)),
            ("Final revision", heads_text(self.final_heads) if self.final_heads is not None else None),
            ("Guards", started.get("guards")),
            ("Message", ending.get("message") or ending.get("reason")),
        ]
        return [(name, value) for name, value in rows if value]

    # -- steps ---------------------------------------------------------------------------------
    def step_rows(self) -> list[StepRow]:
        rows = []
        for number, event in enumerate(self.named(*STEP_ENDS), start=1):
            result = {"step_applied": "applied", "step_reverted": "reverted"}.get(event["event"])
            rows.append(
                StepRow(
                    number,
                    str(event.get("revision")),
                    event.get("direction", "upgrade"),
                    result or f"FAILED ({event.get('kind')})",
                    event.get("attempts", ""),
                    event.get("duration_ms"),
                    event.get("lock_waited_ms") or None,
                )
            )
        return rows

    def chain(self) -> list[ChainStep]:
        """The plan's revisions in order, with their assessed risk and what became of each."""
        planned = list(self.first("plan_made").get("steps") or [])
        risks = {s.get("revision"): s for s in self.first("risk_assessed").get("steps") or []}
        messages = {e.get("revision"): e.get("message", "") for e in self.named("step_started")}
        for revision in risks:
            if revision not in planned:
                planned.append(revision)
        found = []
        for revision in planned:
            risk = risks.get(revision, {})
            ends = [e for e in self.named(*STEP_ENDS) if e.get("revision") == revision]
            result = {"step_applied": "applied", "step_reverted": "reverted", "step_failed": "failed"}
            applying = [e for e in ends if e.get("direction", "upgrade") == "upgrade"]
            found.append(
                ChainStep(
                    revision,
                    str(messages.get(revision) or ""),
                    str(risk.get("risk", "")),
                    str(risk.get("lock", "")),
                    str(risk.get("reversible", "")),
                    str(risk.get("profile", "")),
                    risk.get("estimated_ms"),
                    applying[-1].get("duration_ms") if applying else None,
                    result[ends[-1]["event"]] if ends else "not started",
                )
            )
        return found

    def attention(self) -> list[tuple[str, str]]:
        """(timestamp, sentence) for every event an operator should read afterwards."""
        notes = [e for e in self.events if e["event"] in ATTENTION]
        drill = self.drill
        if drill and not drill.get("clean"):
            notes.append(drill)
        return [(str(e["ts"]), (describe(e) or e["event"]).strip()) for e in notes]

    def decisions(self) -> list[Event]:
        return self.named("decision_made")

    def statements(self) -> list[tuple[Event, list[dict[str, Any]]]]:
        return [(e, list(e["statements"])) for e in self.events if e.get("statements")]


def heads_text(heads: Any) -> str:
    return ", ".join(heads) if heads else "<base>"


def duration(start: Any, end: Any) -> str:
    try:
        seconds = (timestamp(end) - timestamp(start)).total_seconds()
    except (TypeError, ValueError):
        return "?"
    return f"{seconds:.1f} s"
