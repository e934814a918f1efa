"""What must hold before a step may start, and before it may commit.

Before every step (a retry included): no stop was requested (Ctrl-C, SIGTERM,
SIGHUP), the audit log is writable with room to spare, and the runner's
session still holds the run lock (checked in the same statement that marks the
step in flight on the run's row). The first step that passes also starts the
run's history row: a run refused before this point has left nothing in the
target. Inside the step, just before it commits, a stop requested meanwhile
rolls the step back, and so does a ``step_started`` that could not be made
durable (its fsync runs while the step's statements do). Whatever fails is raised as ``StepStopped``, so the
stepper ends the batch with the database at the last committed step.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from runner.audit import AuditLog
from runner.database import runlock
from runner.database.history import History
from runner.run.interrupts import StopRequest
from runner.run.steps import FailureKind, StepStopped

UNRECORDED = "so that nothing happens that the audit log does not record"


class StepGate:
    def __init__(
        self,
        conn: psycopg.Connection,
        audit: AuditLog,
        history: History,
        stop: StopRequest,
        *,
        start_history: Callable[[], None],
    ) -> None:
        self.conn = conn
        self.audit = audit
        self.history = history
        self.stop = stop
        self._start_history = start_history

    def before_step(self, revision: str, direction: str) -> None:
        if self.stop.requested:
            raise StepStopped(
                FailureKind.INTERRUPTED, f"stopped by {self.stop.describe()} before {revision} started"
            )
        self.audit_writable()
        problem = self.audit.room_problem()
        if problem is not None:
            raise StepStopped(
                FailureKind.AUDIT_FAILED, f"{problem}; the run stopped before {revision}, {UNRECORDED}"
            )
        lost = StepStopped(FailureKind.LOCK_LOST, f"{runlock.LOST_MESSAGE} ({revision} was next)")
        try:
            if not self.history.started:
                if not runlock.still_held(self.conn):
                    raise lost
                self._start_history()
            held = self.history.step_in_flight(revision, direction)  # checks the lock in the same statement
        except psycopg.Error as exc:
            if not runlock.still_held(self.conn):  # the lock's own session died just now
                raise StepStopped(
                    FailureKind.LOCK_LOST, f"{runlock.LOST_MESSAGE} ({revision} was next)"
                ) from None
            raise StepStopped(
                FailureKind.REFUSED,
                f"the runner's history table can't be written ({type(exc).__name__}: {str(exc).strip()}); "
                f"nothing more was run",
                next_step="grant the runner's role CREATE on the schema (or create runner_history for it), then "
                "run the same command again.",
            ) from None
        if not held:
            raise lost

    def audit_writable(self) -> None:
        """The events so far are on disk (step_started included, once it is emitted)."""
        if not self.audit.healthy:
            raise StepStopped(
                FailureKind.AUDIT_FAILED,
                f"the audit log {self.audit.path} can't be written ({self.audit.write_error}); the run "
                f"stopped before its next statement, {UNRECORDED}",
            )

    def audit_durable(self, revision: str) -> None:
        """Before anything of the step can commit: every event so far, step_started included, is on disk."""
        self.audit.settle()
        if not self.audit.healthy:
            raise StepStopped(
                FailureKind.AUDIT_FAILED,
                f"the audit log {self.audit.path} can't be written ({self.audit.write_error}); {revision} was "
                f"rolled back before it could commit, {UNRECORDED}",
            )

    def before_commit(self, revision: str) -> None:
        """Inside the step's transaction: a stop requested while it ran rolls it back."""
        if self.stop.requested:
            raise StepStopped(
                FailureKind.INTERRUPTED,
                f"stopped by {self.stop.describe()} while {revision} ran; its transaction was rolled back",
            )
