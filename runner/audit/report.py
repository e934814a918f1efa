"""A readable runbook report, made only from the audit log.

Nothing here asks the database or the runner's memory: whatever the report
says, the hash-chained log says too, so the report can be regenerated and
checked long after the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from runner.audit.describe import describe
from runner.redact import redact

Event = dict[str, Any]


def runs_in(events: Sequence[Event]) -> list[str]:
    return list(dict.fromkeys(str(e["run_id"]) for e in events))


def render_markdown(events: Sequence[Event], run_id: str, *, chain_note: str | None = None) -> str:
    """The runbook report of one run, as Markdown."""
    mine = [e for e in events if str(e["run_id"]) == run_id]
    if not mine:
        raise ValueError(f"run {run_id} is not in this log")
    first = {e["event"]: e for e in reversed(mine)}  # the first event of each name
    # how the run ended (events that follow it, such as the end notification, don't change that)
    last = next((e for e in reversed(mine) if e["event"] in ENDINGS), mine[-1])
    lines = [f"# Migration run {run_id}", ""]
    lines += _summary(mine, first, last)
    lines += _steps(mine)
    lines += _attention(mine)
    lines += _statements(mine)
    if last.get("next_step"):
        lines += ["## Next step", "", str(last["next_step"]), ""]
    lines += ["## Integrity", ""]
    lines.append(
        f"Events {mine[0].get('seq')}-{mine[-1].get('seq')} of this run; the last one hashes to "
        f"`{mine[-1].get('hash')}`."
    )
    if chain_note:
        lines.append(chain_note)
    return redact("\n".join(lines).rstrip() + "\n")


def _summary(mine: Sequence[Event], first: dict[str, Event], last: Event) -> list[str]:
    started = first.get("run_started", mine[0])
    recorded = first.get("revision_recorded", {})
    lock = first.get("run_lock_acquired", {})
    server = lock.get("server") if isinstance(lock.get("server"), dict) else {}
    final = last.get("final_heads")
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
        ("Ended", f"{last.get('ts')} ({_duration(started.get('ts'), last.get('ts'))})"),
        ("Outcome", _outcome(mine, last)),
        ("Prior revision", _heads(recorded.get("prior_heads"))),
        ("Final revision", _heads(final) if final is not None else None),
        ("Guards", started.get("guards")),
        ("Message", last.get("message") or last.get("reason")),
    ]
    return [f"- **{name}**: {value}" for name, value in rows if value] + [""]


ENDINGS = ("run_finished", "run_halted", "run_refused")


def _outcome(mine: Sequence[Event], last: Event) -> str:
    if last["event"] in ENDINGS:
        return f"{last.get('status', last['event'])} (exit code {last.get('exit_code')})"
    return f"incomplete: {_where_it_stopped(mine)}; the log ends at {last['event']} (the process died)"


def _where_it_stopped(mine: Sequence[Event]) -> str:
    """For a run whose log just ends: the step it was in, or the last one it finished."""
    started = [e for e in mine if e["event"] == "step_started"]
    ended = {"step_applied", "step_reverted", "step_failed"}
    if not started:
        return "stopped before its first step"
    current = started[-1]
    later = mine[mine.index(current) + 1 :]
    finished = [e for e in later if e["event"] in ended and e.get("revision") == current["revision"]]
    direction = f" ({current.get('direction', 'upgrade')})"
    if finished:
        return f"stopped after {current.get('revision')}{direction}, before its next step"
    return f"stopped during {current.get('revision')}{direction}"


def _steps(mine: Sequence[Event]) -> list[str]:
    done = [e for e in mine if e["event"] in ("step_applied", "step_reverted", "step_failed")]
    if not done and any(e["event"] == "step_started" for e in mine):
        return [f"The log ends while the run was in progress: it {_where_it_stopped(mine)}.", ""]
    if not done:
        return ["No step was started.", ""]
    lines = [
        "## Steps",
        "",
        "| # | revision | direction | result | attempts | duration | lock wait |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for number, event in enumerate(done, start=1):
        result = {"step_applied": "applied", "step_reverted": "reverted"}.get(event["event"], "FAILED")
        if result == "FAILED":
            result = f"FAILED ({event.get('kind')})"
        waited = f"{event['lock_waited_ms']} ms" if event.get("lock_waited_ms") else ""
        duration = f"{event['duration_ms']} ms" if "duration_ms" in event else ""
        lines.append(
            f"| {number} | {event.get('revision')} | {event.get('direction', 'upgrade')} | {result} | "
            f"{event.get('attempts', '')} | {duration} | {waited} |"
        )
    return [*lines, ""]


_ATTENTION = {
    "lock_timeout_hit",
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


def _attention(mine: Sequence[Event]) -> list[str]:
    notes = [
        f"- {e.get('ts')} {(describe(e) or e['event']).strip()}" for e in mine if e["event"] in _ATTENTION
    ]
    return ["## What needed attention", "", *notes, ""] if notes else []


def _statements(mine: Sequence[Event]) -> list[str]:
    lines = ["## Statements", ""]
    found = False
    for event in mine:
        statements = event.get("statements")
        if not statements or not isinstance(statements, list):
            continue
        found = True
        lines += [f"### {event.get('revision')} ({event['event']})", "", "```sql"]
        lines += [_statement(s) for s in statements]
        lines += ["```", ""]
    return lines if found else []


def _statement(statement: Any) -> str:
    if not isinstance(statement, dict):
        return f"{statement};"
    return f"{str(statement.get('sql')).rstrip(';')};  -- {statement.get('ms')} ms"


def _heads(heads: Any) -> str:
    if isinstance(heads, list):
        return ", ".join(str(h) for h in heads) or "<base>"
    return str(heads) if heads else "<base>"


def _duration(start: Any, end: Any) -> str:
    try:
        seconds = (_ts(end) - _ts(start)).total_seconds()
    except (TypeError, ValueError):
        return "?"
    return f"{seconds:.1f} s"


def _ts(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
