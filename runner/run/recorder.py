"""The record of each step: its audit events and its history rows, written as it starts and ends.

``step_started`` is written to the audit log before the step's first statement
and is on disk before the step can commit (its fsync runs beside the step's
statements); ``step_applied``/``step_reverted`` carries every statement the step
ran and how long it waited for locks, and is on disk before anything else is
written (the next step_started included); a failed step gets ``step_failed`` (and, for a lock
timeout, ``lock_timeout_hit`` naming the blockers) and a history row written on
the runner's own connection, or a new one if the server dropped it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

from runner.audit import AuditLog
from runner.database import blockers
from runner.database.history import History
from runner.database.lockwatch import LockWatcher
from runner.durations import format_ms
from runner.guards import Guards
from runner.planning.revisions import Revision
from runner.run.batch import BatchState, InFlight
from runner.run.steps import Direction, Failure, FailureKind, StepOutcome

BookkeepingConnection = Callable[[], psycopg.Connection | None]
# Statements env.py's connection runs between steps that only read or set session state: not recorded.
_NOT_CHANGES = ("SELECT", "SHOW", "SET", "RESET", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


class StepRecorder:
    def __init__(
        self,
        audit: AuditLog,
        history: History,
        conn: psycopg.Connection,
        bookkeeping: BookkeepingConnection,
        watcher: LockWatcher | None,
    ) -> None:
        self.audit = audit
        self.history = history
        self.conn = conn  # the run lock's session: used to name blockers
        self.bookkeeping = bookkeeping
        self.watcher = watcher

    def started(
        self, batch: BatchState, step: InFlight, guards: Guards, queue_limit: int | None = None
    ) -> None:
        self.outside_steps(batch)
        if self.watcher is not None and batch.session is not None:
            self.watcher.watch(batch.session.backend_pid, batch.cancel, queue_limit)
        self.audit.emit_overlapped(
            "step_started",
            revision=step.revision.revision,
            direction=str(batch.direction),
            message=step.revision.message,
            attempt=step.attempt,
            heads=list(step.prior),
            timeouts={name: format_ms(ms) for name, ms in guards.settings_ms().items()},
        )

    def committed(self, batch: BatchState, step: InFlight, outcome: StepOutcome) -> None:
        self.audit.emit_overlapped(
            "step_applied" if batch.direction is Direction.UPGRADE else "step_reverted",
            revision=outcome.revision,
            direction=str(batch.direction),
            duration_ms=outcome.duration_ms,
            attempts=outcome.attempts,
            heads=list(batch.heads),
            statements=step.statements,
            **self._lock_wait(),
        )

    def failed(self, batch: BatchState, failure: Failure, guards: Guards | None) -> None:
        """Record a failure; for one inside a step, that step's lock wait, blockers and history row too."""
        step = batch.current
        lock_wait = self._lock_wait()
        if step is not None:
            if failure.kind.retried:
                self.audit.emit(
                    "lock_timeout_hit" if failure.kind is FailureKind.LOCK_TIMEOUT else "queue_limit_hit",
                    revision=failure.revision,
                    attempt=failure.attempts,
                    statement=failure.statement,
                    lock_timeout=format_ms(guards.lock_timeout_ms) if guards else None,
                    blockers=[b.as_fields() for b in self._blockers(failure.statement, batch)],
                    **lock_wait,
                )
            self._history_row(batch, step, failure)
        self.audit.emit("step_failed", **failure.as_fields(), statements=step.statements if step else [])

    def outside_steps(self, batch: BatchState) -> None:
        """Changes env.py's connection made outside any step (Alembic creating its version table)."""
        changes = [s for s in batch.outside if _first_word(s["sql"]) not in _NOT_CHANGES]
        batch.outside = []
        if changes:
            self.audit.emit("statements_outside_step", statements=changes)

    def _blockers(self, statement: str | None, batch: BatchState) -> list[blockers.Blocker]:
        mine = [batch.session.backend_pid] if batch.session else []
        try:
            return blockers.find_blockers(self.conn, blockers.relations_in(statement), mine)
        except psycopg.Error:  # the runner's session is gone: the lock check before the retry says so
            return []

    def _history_row(self, batch: BatchState, step: InFlight, failure: Failure) -> None:
        if not self.history.started:
            return  # refused before the run's row existed: the target stays untouched
        conn = self.bookkeeping()
        if conn is None:
            return  # the server is gone; the audit log has the step, the run's end says what is known
        try:
            self.history.step_failed(
                conn,
                step.revision.revision,
                batch.direction,
                step.prior,
                step.started_at,
                str(failure.kind),
                failure.attempts,
                failure.message,
            )
        except psycopg.Error as exc:
            self.audit.emit("history_unwritten", revision=step.revision.revision, error=str(exc).strip())

    def gave_way(self) -> tuple[int, int] | None:
        """(sessions queued, limit) when the step in flight was cancelled for its queue."""
        return self.watcher.gave_way() if self.watcher is not None else None

    def _lock_wait(self) -> dict[str, Any]:
        """What the watcher saw of the step that just ended; nothing if it never waited on a lock."""
        if self.watcher is None:
            return {}
        wait = self.watcher.done()
        return wait.as_fields() if wait.seen else {}


def _first_word(sql: str) -> str:
    words = sql.lstrip("( \n\t").split(None, 1)
    return words[0].upper() if words else ""


def revision_label(revision: Revision | None) -> str | None:
    return revision.revision if revision is not None else None
