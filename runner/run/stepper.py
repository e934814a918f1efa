"""Running a batch of steps through the application's env.py: one env.py run, lock retries, failures.

env.py runs once per batch (per attempt), inside ``GuardedEnvironment``: its
connection is guarded before Alembic sees it, and the ``Feeder`` hands Alembic
one revision at a time. When env.py wraps everything in one outer transaction
(``engine.begin()``), the runner can't commit between steps, so each env.py run
then applies exactly one step.

Only a step that waited for its lock and gave up is retried: a lock timeout
(55P03), or a step that gave way to the queue behind it (its queue limit). Its
transaction rolled back, so the next attempt starts clean, and every attempt
runs under the same lock_timeout. Anything else ends the batch with the database at the last
committed step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg
from tenacity import RetryCallState, Retrying, retry_if_result

from runner.audit import AuditLog
from runner.database.connections import ServerIdentity
from runner.database.history import History
from runner.database.lockwatch import LockWatcher
from runner.errors import RunnerError
from runner.guards import Guards, LockRetryPolicy
from runner.planning.environment import GuardedEnvironment
from runner.planning.project import AlembicProject
from runner.planning.revisions import Revision
from runner.run import interrupts
from runner.run.batch import BatchState
from runner.run.connection_guard import (
    application_name,
    barrier_before_commits,
    capture_statements,
    pgoptions,
    prepare,
    verify,
)
from runner.run.feeder import Feeder, StepHook
from runner.run.gate import StepGate
from runner.run.interrupts import interruptible_waits
from runner.run.recorder import BookkeepingConnection, StepRecorder
from runner.run.retry import sqlstate
from runner.run.steps import (
    CANCELLED_MESSAGE,
    BatchResult,
    Direction,
    Failure,
    FailureKind,
    StepStopped,
    kind_of,
    message_of,
    statement_of,
)

NO_PROGRESS = "env.py returned without running the step (does it call context.run_migrations() online?)"


class Stepper:
    """Runs batches of steps for one run: env.py runs, guards, retries, audit."""

    def __init__(
        self,
        project: AlembicProject,
        conn: psycopg.Connection,
        runner_identity: ServerIdentity,
        audit: AuditLog,
        history: History,
        *,
        guards_for: Callable[[Revision], Guards],
        retry_for: Callable[[Revision], LockRetryPolicy],
        before_step: StepHook,
        after_step: StepHook,
        gate: StepGate,
        bookkeeping: BookkeepingConnection,
        sleep: Callable[[float], None] = time.sleep,
        watcher: LockWatcher | None = None,
    ) -> None:
        self.project = project
        self.runner_identity = runner_identity
        self.audit = audit
        self.history = history
        self.guards_for = guards_for
        self.retry_for = retry_for
        self.before_step = before_step
        self.after_step = after_step
        self.gate = gate
        self.sleep = sleep
        self.recorder = StepRecorder(audit, history, conn, bookkeeping, watcher)
        self.last_session_pid: int | None = None  # env.py's backend of the last step: must end before unlock
        self._mode_noted = False

    # -- the batch loop with lock retries ---------------------------------------------------
    def run(self, direction: Direction, revisions: list[Revision], heads: tuple[str, ...]) -> BatchResult:
        """Apply ``revisions`` in order from ``heads``; how far it got, and why it stopped if it did."""
        batch = BatchState(direction, list(revisions), heads)
        failure: Failure | None = None
        while batch.todo and batch.stop is None:
            failure = failure or self._attempt(batch)
            if failure is None:
                continue
            if not failure.kind.retried:
                break
            step = failure.revision
            failure = self._retry_lock(batch, failure)
            if failure is not None and failure.kind.retried and failure.revision == step:
                break
        self.recorder.outside_steps(batch)
        return BatchResult(batch.progress(), failure, batch.stop)

    def _retry_lock(self, batch: BatchState, first: Failure) -> Failure | None:
        policy = self.retry_for(batch.todo[0])
        seen = [first]  # the failure already met counts as attempt 1

        def attempt() -> Failure | None:
            return seen.pop() if seen else self._attempt(batch)

        def same_step_locked(result: Failure | None) -> bool:
            return result is not None and result.kind.retried and result.revision == first.revision

        def before_sleep(state: RetryCallState) -> None:
            wait = state.next_action.sleep if state.next_action else 0.0
            self.audit.emit(
                "retry_scheduled",
                revision=first.revision,
                attempt=state.attempt_number + 1,
                max_attempts=policy.attempts,
                wait_s=round(wait, 3),
            )

        retrying = Retrying(
            stop=policy.stop(),
            wait=policy.wait(),
            retry=retry_if_result(same_step_locked),
            before_sleep=before_sleep,
            sleep=self.sleep,
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        )
        result: Failure | None = retrying(attempt)
        return result

    # -- one env.py run ---------------------------------------------------------------------
    def _attempt(self, batch: BatchState) -> Failure | None:
        done_before = len(batch.done)
        feeder = self._feeder(batch)
        try:
            self._run_env(batch, feeder)
        except KeyboardInterrupt:
            return self._failed(batch, FailureKind.INTERRUPTED, "interrupted by the operator (Ctrl-C)", None)
        except StepStopped as exc:
            return self._failed(batch, exc.kind, exc.message, None, error=exc)
        except RunnerError as exc:
            return self._failed(batch, FailureKind.REFUSED, exc.message, None, error=exc)
        except Exception as exc:
            return self._failed_with(batch, exc)
        if batch.current is not None:  # env.py held one outer transaction: committed only now
            feeder.committed()
        if len(batch.done) == done_before and batch.todo and batch.stop is None:
            return self._failed(batch, FailureKind.NO_PROGRESS, NO_PROGRESS, None)
        return None

    def _feeder(self, batch: BatchState) -> Feeder:
        return Feeder(
            self.project,
            batch,
            gate=self.gate,
            recorder=self.recorder,
            history=self.history,
            runner_identity=self.runner_identity,
            guards_for=self.guards_for,
            queue_limit_for=lambda revision: self.retry_for(revision).queue_limit,
            before_step=self.before_step,
            after_step=self.after_step,
        )

    def _run_env(self, batch: BatchState, feeder: Feeder) -> None:
        guards = self.guards_for(batch.todo[0])
        environment = GuardedEnvironment(
            self.project.config,
            self.project.script,
            fn=feeder,
            on_connection=lambda connection: self._guard_connection(batch, connection, guards, environment),
            on_version_apply=feeder.on_version_apply,
        )
        name = f"migration-runner {self.audit.run_id} env.py"
        with pgoptions(guards), application_name(name), interruptible_waits(), environment:
            self.project.run_env()

    def _guard_connection(
        self, batch: BatchState, connection: Any, guards: Guards, environment: GuardedEnvironment
    ) -> None:
        check = prepare(connection, guards, self.runner_identity)
        self.audit.emit("session_checked", **check.as_fields())
        verify(check, guards, self.runner_identity)
        batch.session, batch.session_guards = check, guards
        batch.cancel = driver_cancel(connection)
        self.last_session_pid = check.backend_pid
        capture_statements(connection, batch.statement_sink)
        barrier_before_commits(connection, lambda: self.gate.audit_durable(_in_flight(batch)))
        self._note_changes_to_env_py(environment, check.outer_transaction)

    def _note_changes_to_env_py(self, environment: GuardedEnvironment, outer_transaction: bool) -> None:
        """Say once per run what the runner changed about how env.py runs (and restore its own signals)."""
        if not interrupts.handlers_installed() and interrupts.stop_handling_active():
            interrupts.install_handlers()
            self.audit.emit(
                "signal_handlers_reclaimed",
                detail="env.py (or the application it imports) replaced the SIGINT/SIGTERM/SIGHUP handlers; the "
                "runner put its own back for the rest of the run and restores theirs at the end.",
            )
        if self._mode_noted or environment.env_py_options.get("transaction_per_migration"):
            return
        self._mode_noted = True
        self.audit.emit(
            "transaction_mode_changed",
            env_py_asked="one transaction for all revisions"
            if outer_transaction
            else "transaction_per_migration not set (one transaction for all revisions)",
            runner_uses="one transaction per revision",
            implication="each revision commits before the next starts; a migration that expects to see an "
            "earlier revision's uncommitted changes through another connection behaves differently.",
        )

    # -- failures ---------------------------------------------------------------------------
    def _failed_with(self, batch: BatchState, exc: Exception) -> Failure:
        kind = kind_of(exc)
        if kind is not FailureKind.INTERRUPTED:
            return self._failed(batch, kind, message_of(exc), exc)
        gave_way = self.recorder.gave_way()
        if gave_way is not None and not self.gate.stop.requested:
            queued, limit = gave_way
            message = (
                f"gave way while waiting for its lock: {queued} sessions were queued behind it, more than its "
                f"queue limit of {limit}; it was cancelled and rolled back so they could go on"
            )
            return self._failed(batch, FailureKind.QUEUE_LIMIT, message, exc)
        if not self.gate.stop.requested:
            return self._failed(batch, kind, CANCELLED_MESSAGE, exc)
        step = batch.current.revision.revision if batch.current else "the step"
        message = f"stopped by {self.gate.stop.describe()}: the running statement was cancelled and {step} rolled back"
        return self._failed(batch, kind, message, exc, error=StepStopped(kind, message))

    def _failed(
        self,
        batch: BatchState,
        kind: FailureKind,
        message: str,
        exc: BaseException | None,
        error: RunnerError | None = None,
    ) -> Failure:
        step = batch.current
        failure = Failure(
            kind=kind,
            revision=step.revision.revision if step else (batch.todo[0].revision if batch.todo else None),
            message=message,
            sqlstate=sqlstate(exc) if exc else None,
            statement=statement_of(exc),
            attempts=step.attempt if step else 1,
            error=error,
        )
        guards = batch.session_guards or (self.guards_for(step.revision) if step else None)
        self.recorder.failed(batch, failure, guards)
        batch.current = None
        return failure


def _in_flight(batch: BatchState) -> str:
    return batch.current.revision.revision if batch.current is not None else "the next step"


def driver_cancel(connection: Any) -> Callable[[], None] | None:
    """The DB-API connection's own cancel request (psycopg 3, psycopg2), usable from another thread."""
    raw = getattr(getattr(connection, "connection", None), "dbapi_connection", None)
    raw = raw if raw is not None else getattr(getattr(connection, "connection", None), "connection", None)
    safe = getattr(raw, "cancel_safe", None)  # psycopg 3.2+: the libpq 17 cancel API when there is one
    if callable(safe):
        return lambda: safe(timeout=5)
    cancel = getattr(raw, "cancel", None)
    return cancel if callable(cancel) else None


__all__ = ["Stepper"]
