"""How a run ends: one value says what happened, and the ending is read back, recorded and explained.

Whatever stopped the run, the ending is the same sequence: make sure the last
step's own session has let go of its locks (before the run lock is released),
read back where the database really is (on a new connection if the run's own
was lost), write ``run_finished`` or ``run_halted``, finish the history row,
and hand the operator one message and the next safe command.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psycopg

from runner.audit import AuditLog
from runner.database import connections
from runner.database.history import History
from runner.database.reads import ReadBlocked
from runner.redact import redact
from runner.run.decision import Decision
from runner.run.hooks import RunView
from runner.run.result import EXIT_FOR_STATUS, RunResult, RunStatus
from runner.run.settings import RunSettings
from runner.run.steps import BatchResult, Failure, FailureKind, StepStopped

BACKEND_QUIET_WITHIN_S = 10.0
BACKEND_GONE_SQL = "SELECT state FROM pg_stat_activity WHERE pid = %s"


@dataclass(frozen=True)
class Ending:
    """What the run believes when it stops; the database is then read back to check it."""

    status: RunStatus
    expected: tuple[str, ...]  # the heads after the last step known to have committed
    message: str
    up: BatchResult | None = None
    down: BatchResult | None = None
    failure: Failure | None = None
    decision: Decision | None = None


class RunEnder:
    """Ends one run; ``bookkeeping`` gives the run's own connection, or a new one if that is gone."""

    def __init__(
        self,
        audit: AuditLog,
        settings: RunSettings,
        bookkeeping: Callable[[], psycopg.Connection | None],
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.audit = audit
        self.settings = settings
        self.bookkeeping = bookkeeping
        self.sleep = sleep

    def end(
        self, view: RunView, ending: Ending, history: History | None, step_pid: int | None = None
    ) -> RunResult:
        conn = self.bookkeeping()
        if conn is not None and step_pid is not None:
            self._await_quiet(conn, step_pid)
        status, message, heads = ending.status, ending.message, ending.expected
        try:
            if conn is None:
                raise psycopg.OperationalError("no connection")
            actual = connections.read_heads(conn, self.settings.version_table)
        except psycopg.Error as exc:  # the server went away (failover, restart): say what is known
            self.audit.emit("state_unreadable", expected=list(heads), error=redact(str(exc).strip()))
            message += (
                f" The database stopped answering, so the revision could not be read back; the last step known "
                f"to have committed left it at {fmt(heads)}."
            )
            status = RunStatus.UNREACHABLE
            return self._result(view, ending, status, heads, message, None, history)
        except ReadBlocked as exc:  # the server answers, but something holds the version table
            self.audit.emit("state_unreadable", expected=list(heads), error=exc.message)
            message += (
                f" The version table could not be read back ({exc.message}); the last step known to have "
                f"committed left it at {fmt(heads)}."
            )
            status = RunStatus.HALTED if status is RunStatus.DONE else status
            return self._result(view, ending, status, heads, message, conn, history)
        if not connections.same_heads(actual, heads):
            self.audit.emit("state_mismatch", expected=list(heads), found=list(actual))
            message += (
                f" The version table reads {fmt(actual)}, not {fmt(heads)}: check it before anything else."
            )
            status = RunStatus.HALTED if status is RunStatus.DONE else status
        return self._result(view, ending, status, actual, message, conn, history)

    def _await_quiet(self, conn: psycopg.Connection, pid: int) -> None:
        """The last step's session must have ended its transaction before the run lock is let go.

        After a cancel the step's backend rolls back and env.py closes it; one
        still busy after a while is ended (it is the runner's own step, and
        ending it rolls it back).
        """
        try:
            state = self._state(conn, pid)
            if state in (None, "idle"):
                return
            deadline = time.monotonic() + BACKEND_QUIET_WITHIN_S
            while state not in (None, "idle") and time.monotonic() < deadline:
                self.sleep(0.02)
                state = self._state(conn, pid)
            how = "ended its transaction"
            if state not in (None, "idle"):
                conn.execute("SELECT pg_terminate_backend(%s)", [pid])
                how = f"was still {state} after {BACKEND_QUIET_WITHIN_S:.0f}s and was terminated"
            self.audit.emit("step_session_ended", backend_pid=pid, how=how)
        except psycopg.Error:
            return  # nothing more can be done from here; the server's own timeouts end it

    @staticmethod
    def _state(conn: psycopg.Connection, pid: int) -> str | None:
        row = conn.execute(BACKEND_GONE_SQL, [pid]).fetchone()
        return None if row is None else str(row[0])

    def _result(
        self,
        view: RunView,
        ending: Ending,
        status: RunStatus,
        heads: tuple[str, ...],
        message: str,
        conn: psycopg.Connection | None,
        history: History | None,
    ) -> RunResult:
        next_step = self._next_step(status, ending)
        event = "run_finished" if status in (RunStatus.DONE, RunStatus.NOTHING_TO_DO) else "run_halted"
        exit_code = int(EXIT_FOR_STATUS[status])
        self.audit.emit(
            event,
            status=str(status),
            final_heads=list(heads),
            message=message,
            next_step=next_step,
            exit_code=exit_code,
        )
        if not self.audit.healthy:
            message += (
                f" The audit log could not be written ({self.audit.write_error}); it ends before this run did, "
                "and runner_history records the outcome."
            )
        if history is not None and history.started and conn is not None:
            try:
                history.finish_run(conn, str(status), message, self.audit.last_hash)
            except psycopg.Error as exc:
                self.audit.emit("history_unwritten", error=redact(str(exc).strip()))
        return RunResult(
            run_id=self.audit.run_id,
            status=status,
            prior_heads=view.prior_heads,
            final_heads=tuple(heads),
            applied=tuple(ending.up.done) if ending.up else (),
            reverted=tuple(ending.down.done) if ending.down else (),
            message=message,
            next_step=next_step,
            failure=ending.failure,
            decision=ending.decision,
        )

    def _next_step(self, status: RunStatus, ending: Ending) -> str | None:
        cmd = self.settings.command
        failure, decision = ending.failure, ending.decision
        if status in (RunStatus.DONE, RunStatus.NOTHING_TO_DO):
            return None
        if status is RunStatus.UNREACHABLE:
            return f"runner status once the database answers again, then {cmd} to continue from there."
        if decision is not None and decision.next_step:
            return decision.next_step
        if status is RunStatus.RESTORE_REQUIRED:
            log = f" --audit-log {self.audit.path}" if self.audit.path else ""
            return (
                "restore the database from the snapshot taken before this run: runner restore"
                f"{log} prints the exact runbook, and with --execute --yes restores into a new instance."
            )
        if status is RunStatus.ROLLED_BACK:
            return f"fix the cause, rehearse again, then {cmd}."
        if failure is not None and failure.error is not None and failure.error.next_step:
            return failure.error.next_step
        if failure is not None and failure.kind.retried:
            return f"wait for (or end) the session holding the lock, then {cmd} to resume."
        if failure is not None and failure.kind is FailureKind.AUDIT_FAILED:
            return f"free space where the audit log lives (or give --audit-log another place), then {cmd} to resume."
        if failure is not None and failure.kind in (FailureKind.LOCK_LOST, FailureKind.CONNECTION_LOST):
            return f"runner status (no other run should hold the lock), then {cmd} to resume from the current revision."
        if failure is not None and failure.kind is FailureKind.INTERRUPTED:
            return f"{cmd} to resume from the current revision when you are ready."
        return f"fix the cause, then {cmd} to resume from the current revision."


def what_happened(failure: Failure | None, decision: Decision | None) -> str:
    """The first sentence of a stopped run's message: what made it stop."""
    if failure is not None and failure.kind is FailureKind.REFUSED:
        return f"Refused before step {failure.revision}: {failure.message}"
    if failure is not None and isinstance(failure.error, StepStopped):
        return f"{failure.message[:1].upper()}{failure.message[1:]}."
    if failure is not None:
        attempts = f" after {failure.attempts} attempts" if failure.attempts > 1 else ""
        return f"Step {failure.revision} failed{attempts}: {failure.message}."
    reason = decision.reason if decision is not None else "stopped"
    return f"Stopped: {reason}."


def fmt(heads: Sequence[str]) -> str:
    return ", ".join(heads) or "<base>"
