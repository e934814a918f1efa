"""Taking over from a run that did not finish: the link in the log, its sessions, what its step left.

``runner resume`` decides *whether* a run can be continued (same database, same
playbook, snapshot still there); this is what the continuing run does about it,
under the run lock: write ``run_resumed`` (the dead run's id, log and last
hash, so the two runs read as one chain of events), end the dead run's sessions
that are still connected (a statement whose client was killed can run on), and,
just before its first step, clear the indexes the interrupted step was building
concurrently, so that step can run again from the start.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runner.errors import Refused

if TYPE_CHECKING:  # building a request (every command) must not load psycopg and the audit log
    import psycopg

    from runner.audit import AuditLog
    from runner.database.connections import ServerIdentity
    from runner.database.unfinished import UnfinishedRun


@dataclass(frozen=True)
class BuiltIndex:
    """An index a step builds with CREATE INDEX CONCURRENTLY, as its SQL names it."""

    name: str  # [schema.]index, quoted as needed
    if_not_exists: bool  # with IF NOT EXISTS the index may have been there before the step


@dataclass(frozen=True)
class Resumption:
    """The run this one continues, as ``runner resume`` read it from its audit log."""

    run_id: str
    audit_log: str
    last_hash: str  # the last record the dead run wrote: the link between the two runs
    ended: str  # "killed" (its log just stops) or the status it ended with (halted, unreachable)
    step_in_flight: str | None  # the step it had started and not finished, per its log
    snapshot_id: str | None
    server: Mapping[str, Any] = field(default_factory=dict)  # system_identifier and database it locked
    path: tuple[str, ...] = ()  # where it could have left the database: its prior heads (joined), each step
    built_indexes: tuple[BuiltIndex, ...] = ()  # what step_in_flight builds concurrently

    def as_fields(self) -> dict[str, object]:
        return {
            "resumed_run_id": self.run_id,
            "resumed_log": self.audit_log,
            "resumed_last_hash": self.last_hash,
            "ended": self.ended,
            "step_in_flight": self.step_in_flight,
            "snapshot_id": self.snapshot_id,
        }


def take_over(
    conn: psycopg.Connection,
    audit: AuditLog,
    resuming: Resumption,
    *,
    identity: ServerIdentity,
    heads: Sequence[str],
    unfinished: Sequence[UnfinishedRun],
) -> None:
    """First thing under the run lock: the same database, still on the dead run's path; then the link in the
    log, and the dead run's sessions ended. A Refused before anything changed, otherwise."""
    from runner.database import leftovers

    _same_database(resuming, identity)
    _on_the_path(resuming, heads)
    row = next((run.as_json() for run in unfinished if run.run_id == resuming.run_id), None)
    audit.emit("run_resumed", **resuming.as_fields(), history=row)
    for session in leftovers.sessions_of(conn, resuming.run_id):
        ended = leftovers.end_session(conn, session.pid)
        audit.emit("dead_run_session_ended", session=session.as_fields(), ended=ended)


def _same_database(resuming: Resumption, identity: ServerIdentity) -> None:
    then = resuming.server
    system = then.get("system_identifier")
    moved = then.get("database") not in (None, identity.database) or (
        system is not None and identity.system_identifier is not None and system != identity.system_identifier
    )
    if moved:
        raise Refused(
            f"Run {resuming.run_id} ran on database {then.get('database')!r} (system {system}); this URL reaches "
            f"{identity.describe()}. A run is resumed only where it started: a restored or replaced server is a new "
            "start. Nothing was changed.",
            next_step="runner status on this database, then start a new run with apply if it needs one.",
        )


def _on_the_path(resuming: Resumption, heads: Sequence[str]) -> None:
    now = ",".join(sorted(heads))
    if not resuming.path or now == resuming.path[0] or (len(heads) == 1 and heads[0] in resuming.path[1:]):
        return
    raise Refused(
        f"The database is at {now or '<base>'}, which is not on the path of run {resuming.run_id} "
        f"({' -> '.join(p or '<base>' for p in resuming.path)}): something else moved it since. Nothing was "
        "changed.",
        next_step="runner status shows where it is; plan a new run from there.",
    )


def clear_leftovers(
    conn: psycopg.Connection, audit: AuditLog, resuming: Resumption, first_step: str | None
) -> None:
    """Before the first step: drop what the interrupted step half-built, if that step runs again now.

    An INVALID index is always dropped (a rebuild with IF NOT EXISTS would keep
    it, unusable). A valid one is dropped only when the step's statement has no
    IF NOT EXISTS: then it can't have been there before the step, and the step
    would fail on it.
    """
    from runner.database import leftovers

    if first_step is None or first_step != resuming.step_in_flight:
        return
    for built in resuming.built_indexes:
        state = leftovers.index_state(conn, built.name)
        if state is None:
            continue
        if state.valid and built.if_not_exists:
            audit.emit(
                "leftover_index_kept",
                index=state.name,
                table=state.table,
                valid=True,
                why="the step builds it with IF NOT EXISTS, so it may predate the step; the step skips it",
            )
            continue
        leftovers.drop_index(conn, state.name)
        audit.emit(
            "leftover_index_dropped",
            index=state.name,
            table=state.table,
            valid=state.valid,
            why=f"{resuming.step_in_flight} was building it when run {resuming.run_id} stopped; it builds it again",
        )
