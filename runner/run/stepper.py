"""Applying revisions one transaction at a time through the application's env.py.

One env.py run applies as many steps as it can: the runner's own migration
function hands Alembic one revision at a time and, between two steps (the
previous one committed), runs the after-step hook before handing over the next.
When env.py wraps everything in its own transaction, the runner can't commit
between steps, so each env.py run then applies exactly one step.

Only lock timeouts (55P03) are retried: the failed step's transaction rolled
back, so the next attempt starts clean, and every attempt runs under the same
lock_timeout. Anything else stops the batch with the database at the last
committed step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
from alembic.runtime.migration import MigrationStep
from tenacity import Retrying, retry_if_result

from runner.audit import AuditLog
from runner.database import blockers, history, runlock
from runner.database.connections import ServerIdentity, same_heads
from runner.database.lockwatch import LockWatcher
from runner.durations import format_ms
from runner.errors import Refused, RunnerError
from runner.guards import Guards
from runner.plan.project import AlembicProject, Revision
from runner.run import interrupts
from runner.run.connection_guard import application_name, capture_statements, pgoptions, prepare, verify
from runner.run.environment import GuardedEnvironment
from runner.run.gate import StepGate
from runner.run.interrupts import interruptible_waits
from runner.run.retry import sqlstate
from runner.run.steps import (
    CANCELLED_MESSAGE,
    Batch,
    Direction,
    Failure,
    FailureKind,
    GuardsFor,
    RetryFor,
    StepHook,
    StepOutcome,
    StepStopped,
    kind_of,
    message_of,
    statement_of,
)

BookkeepingConnection = Callable[[], psycopg.Connection | None]
# Statements env.py's connection runs between steps that only read or set session state: not recorded.
_NOT_CHANGES = ("SELECT", "SHOW", "SET", "RESET", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


class Stepper:
    """Runs batches of steps for one run: env.py runs, guards, retries, audit."""

    def __init__(
        self,
        project: AlembicProject,
        conn: psycopg.Connection,
        runner_identity: ServerIdentity,
        audit: AuditLog,
        history_log: history.History,
        *,
        guards_for: GuardsFor,
        retry_for: RetryFor,
        before_step: StepHook,
        after_step: StepHook,
        gate: StepGate,
        bookkeeping: BookkeepingConnection,
        sleep: Callable[[float], None] = time.sleep,
        watcher: LockWatcher | None = None,
    ) -> None:
        self.project = project
        self.conn = conn
        self.runner_identity = runner_identity
        self.audit = audit
        self.history = history_log
        self.guards_for = guards_for
        self.retry_for = retry_for
        self.before_step = before_step
        self.after_step = after_step
        self.gate = gate
        self.bookkeeping = bookkeeping
        self.sleep = sleep
        self.watcher = watcher
        self.last_session_pid: int | None = None  # env.py's backend of the last step: must end before unlock
        self._mode_noted = False

    # -- the batch loop with lock retries ---------------------------------------------------
    def run(self, batch: Batch) -> Failure | None:
        """Apply the batch; None when every step is done or a hook stopped it."""
        failure: Failure | None = None
        while batch.todo and batch.stop is None:
            failure = failure or self._attempt(batch)
            if failure is None:
                continue
            if failure.kind is not FailureKind.LOCK_TIMEOUT:
                return failure
            step = failure.revision
            failure = self._retry_lock(batch, failure)
            if failure is not None and failure.kind is FailureKind.LOCK_TIMEOUT and failure.revision == step:
                return failure
        self._flush_outside(batch)
        return failure

    def _retry_lock(self, batch: Batch, first: Failure) -> Failure | None:
        policy = self.retry_for(batch.todo[0])
        seen = [first]  # the failure already met counts as attempt 1

        def attempt() -> Failure | None:
            return seen.pop() if seen else self._attempt(batch)

        def same_step_locked(result: Failure | None) -> bool:
            return (
                result is not None
                and result.kind is FailureKind.LOCK_TIMEOUT
                and result.revision == first.revision
            )

        def before_sleep(state: Any) -> None:
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
        return retrying(attempt)

    # -- one env.py run ---------------------------------------------------------------------
    def _attempt(self, batch: Batch) -> Failure | None:
        done_before = len(batch.done)
        try:
            self._run_env(batch)
        except KeyboardInterrupt:
            return self._failed(batch, FailureKind.INTERRUPTED, "interrupted by the operator (Ctrl-C)", None)
        except StepStopped as exc:
            return self._failed(batch, exc.kind, exc.message, None, error=exc)
        except RunnerError as exc:
            return self._failed(batch, FailureKind.REFUSED, exc.message, None, error=exc)
        except Exception as exc:
            kind = kind_of(exc)
            message = message_of(exc)
            if kind is FailureKind.INTERRUPTED:
                message = CANCELLED_MESSAGE
                if self.gate.stop.requested:
                    step = batch.current.revision if batch.current else "the step"
                    message = (
                        f"stopped by {self.gate.stop.describe()}: the running statement was cancelled and "
                        f"{step} rolled back"
                    )
                    return self._failed(batch, kind, message, exc, error=StepStopped(kind, message))
            return self._failed(batch, kind, message, exc)
        if batch.current is not None:  # env.py held one outer transaction: committed only now
            self._committed(batch)
        if len(batch.done) == done_before and batch.todo and batch.stop is None:
            return self._failed(
                batch,
                FailureKind.NO_PROGRESS,
                "env.py returned without running the step (does it call context.run_migrations() online?)",
                None,
            )
        return None

    def _run_env(self, batch: Batch) -> None:
        guards = self.guards_for(batch.todo[0])
        environment = GuardedEnvironment(
            self.project.config,
            self.project.script,
            fn=self._feeder(batch),
            on_connection=lambda connection: self._guard_connection(batch, connection, guards, environment),
            on_version_apply=lambda **kw: self._on_version_apply(batch, **kw),
        )
        name = f"migration-runner {self.audit.run_id} env.py"
        with pgoptions(guards), application_name(name), interruptible_waits(), environment:
            self.project.run_env()

    def _guard_connection(
        self, batch: Batch, connection: Any, guards: Guards, environment: GuardedEnvironment
    ) -> None:
        check = prepare(connection, guards, self.runner_identity)
        self.audit.emit("session_checked", **check.as_fields())
        verify(check, guards, self.runner_identity)
        batch.session, batch.session_guards = check, guards
        batch.cancel = _driver_cancel(connection)
        self.last_session_pid = check.backend_pid
        capture_statements(
            connection, lambda: batch.statements if batch.current is not None else batch.outside
        )
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

    def _feeder(self, batch: Batch) -> Callable[[Any, Any], Iterator[Any]]:
        def steps(heads: Any, context: Any) -> Iterator[Any]:
            heads = tuple(heads)
            if not same_heads(heads, batch.heads):
                raise Refused(
                    f"The database is at {_fmt(heads)}, but this run expected {_fmt(batch.heads)}: something "
                    "else changed it since the plan was made. Nothing more was run.",
                    next_step="runner status, then plan again.",
                )
            while batch.todo and batch.stop is None:
                revision = batch.todo[0]
                decision = self.before_step(revision, batch.direction)
                if decision is not None and decision.stops:
                    batch.stop = decision
                    return
                self.gate.before_step(revision.revision, str(batch.direction))
                step = self._migration_step(revision, batch.direction, heads)
                self._set_step_guards(batch, revision, context)
                self._begin(batch, revision, heads)
                self.gate.audit_writable()  # step_started must be on disk before the step's first statement
                yield step
                # Alembic asks for the next step only after this one's transaction ended.
                if batch.session is not None and batch.session.outer_transaction:
                    return
                heads = self._committed(batch)

        return steps

    def _migration_step(self, revision: Revision, direction: Direction, heads: tuple[str, ...]) -> Any:
        script = self.project.script
        found = script.get_revision(revision.revision)
        if direction is Direction.UPGRADE:
            if revision.revision in heads:
                raise Refused(f"{revision.revision} is already applied: the database is at {_fmt(heads)}.")
            if set(revision.down_revisions) <= set(heads):  # the common case: its parents are the heads
                return MigrationStep.upgrade_from_script(script.revision_map, found)
            would_apply = [s.revision.revision for s in script._upgrade_revs(revision.revision, heads)]
            if would_apply != [revision.revision]:
                raise Refused(
                    f"Upgrading {_fmt(heads)} to {revision.revision} would apply {', '.join(would_apply)}, "
                    "not exactly that one revision. Nothing more was run."
                )
            return MigrationStep.upgrade_from_script(script.revision_map, found)
        if revision.revision not in heads:
            raise Refused(f"Can't downgrade {revision.revision}: the database is at {_fmt(heads)}.")
        return MigrationStep.downgrade_from_script(script.revision_map, found)

    def _set_step_guards(self, batch: Batch, revision: Revision, context: Any) -> None:
        """A step whose guards differ from the session's gets its own, read back, in its transaction."""
        guards = self.guards_for(revision)
        if guards == batch.session_guards or batch.session is None:
            return
        connection = context.connection
        for name, ms in guards.settings_ms().items():
            connection.exec_driver_sql(f"SET {name} = '{int(ms)}ms'")
        check = prepare(connection, guards, self.runner_identity)
        verify(check, guards, self.runner_identity)
        batch.session_guards = guards
        self.audit.emit("guards_changed", revision=revision.revision, timeouts=check.as_fields()["timeouts"])

    # -- bookkeeping around each step -------------------------------------------------------
    def _begin(self, batch: Batch, revision: Revision, heads: tuple[str, ...]) -> None:
        attempt = batch.attempts.get(revision.revision, 0) + 1
        batch.attempts[revision.revision] = attempt
        batch.current, batch.current_prior, batch.heads_after = revision, heads, None
        batch.statements = []
        batch.current_started = time.monotonic()
        batch.current_started_at = datetime.now(UTC)
        self._flush_outside(batch)
        if self.watcher is not None and batch.session is not None:
            self.watcher.watch(batch.session.backend_pid, batch.cancel)
        self.audit.emit(
            "step_started",
            revision=revision.revision,
            direction=str(batch.direction),
            message=revision.message,
            attempt=attempt,
            heads=list(heads),
            timeouts={
                k: format_ms(v)
                for k, v in (batch.session_guards or self.guards_for(revision)).settings_ms().items()
            },
        )

    def _on_version_apply(self, batch: Batch, *, ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
        current = batch.current
        applied = step.up_revision_id  # the revision this step applied or reverted
        if current is None or applied != current.revision:
            raise Refused(
                f"Alembic applied {applied}, but the runner handed it {current and current.revision}."
            )
        self.gate.before_commit(current.revision)
        held = self.history.applied_in_step(
            ctx.connection,
            current.revision,
            batch.direction,
            batch.current_prior,
            batch.attempts[current.revision],
            self.runner_identity.backend_pid,
        )
        if not held:
            raise StepStopped(
                FailureKind.LOCK_LOST,
                f"{runlock.LOST_MESSAGE}; {current.revision} was rolled back before it could commit",
            )
        batch.heads_after = tuple(sorted(heads))

    def _flush_outside(self, batch: Batch) -> None:
        """Changes env.py's connection made outside any step (Alembic creating its version table)."""
        changes = [
            s for s in batch.outside if s["sql"].lstrip("(").split(None, 1)[0].upper() not in _NOT_CHANGES
        ]
        batch.outside = []
        if changes:
            self.audit.emit("statements_outside_step", statements=changes)

    def _committed(self, batch: Batch) -> tuple[str, ...]:
        revision = batch.current
        assert revision is not None and batch.heads_after is not None
        outcome = StepOutcome(
            revision.revision,
            batch.direction,
            int((time.monotonic() - batch.current_started) * 1000),
            batch.attempts[revision.revision],
        )
        batch.heads = batch.heads_after
        batch.todo.pop(0)
        batch.done.append(outcome)
        batch.current = None
        self.audit.emit(
            "step_applied" if batch.direction is Direction.UPGRADE else "step_reverted",
            revision=revision.revision,
            direction=str(batch.direction),
            duration_ms=outcome.duration_ms,
            attempts=outcome.attempts,
            heads=list(batch.heads),
            statements=batch.statements,
            **self._lock_wait(),
        )
        decision = self.after_step(revision, batch.direction)
        if decision is not None and decision.stops:
            batch.stop = decision
        return batch.heads

    def _failed(
        self,
        batch: Batch,
        kind: FailureKind,
        message: str,
        exc: BaseException | None,
        error: RunnerError | None = None,
    ) -> Failure:
        revision = batch.current
        statement = statement_of(exc)
        lock_wait = self._lock_wait()
        failure = Failure(
            kind=kind,
            revision=revision.revision if revision else (batch.todo[0].revision if batch.todo else None),
            message=message,
            sqlstate=sqlstate(exc) if exc else None,
            statement=statement,
            attempts=batch.attempts.get(revision.revision, 1) if revision else 1,
            error=error,
        )
        if revision is not None:
            if kind is FailureKind.LOCK_TIMEOUT:
                found = self._blockers(statement, batch)
                self.audit.emit(
                    "lock_timeout_hit",
                    revision=revision.revision,
                    attempt=failure.attempts,
                    statement=statement,
                    lock_timeout=format_ms(
                        (batch.session_guards or self.guards_for(revision)).lock_timeout_ms
                    ),
                    blockers=[b.as_fields() for b in found],
                    **lock_wait,
                )
            self._record_failed_step(batch, revision, kind, failure, message)
            batch.current = None
        self.audit.emit("step_failed", **failure.as_fields(), statements=batch.statements if revision else [])
        return failure

    def _blockers(self, statement: str | None, batch: Batch) -> list[blockers.Blocker]:
        try:
            return blockers.find_blockers(
                self.conn,
                blockers.relations_in(statement),
                [batch.session.backend_pid] if batch.session else [],
            )
        except psycopg.Error:  # the runner's session is gone: the lock check before the retry says so
            return []

    def _record_failed_step(
        self, batch: Batch, revision: Revision, kind: FailureKind, failure: Failure, message: str
    ) -> None:
        if not self.history.started:
            return  # refused before the run's row existed: the target stays untouched
        conn = self.bookkeeping()
        if conn is None:
            return  # the server is gone; the audit log has the step, the run's end says what is known
        try:
            self.history.step_failed(
                conn,
                revision.revision,
                batch.direction,
                batch.current_prior,
                batch.current_started_at,
                str(kind),
                failure.attempts,
                message,
            )
        except psycopg.Error as exc:
            self.audit.emit("history_unwritten", revision=revision.revision, error=str(exc).strip())

    def _lock_wait(self) -> dict[str, Any]:
        """What the watcher saw of the step that just ended; nothing if it never waited on a lock."""
        if self.watcher is None:
            return {}
        wait = self.watcher.done()
        return wait.as_fields() if wait.seen else {}


def _fmt(heads: tuple[str, ...] | list[str]) -> str:
    return ", ".join(heads) or "<base>"


def _driver_cancel(connection: Any) -> Callable[[], None] | None:
    """The DB-API connection's own cancel request (psycopg 3, psycopg2), usable from another thread."""
    raw = getattr(getattr(connection, "connection", None), "dbapi_connection", None)
    raw = raw if raw is not None else getattr(getattr(connection, "connection", None), "connection", None)
    safe = getattr(raw, "cancel_safe", None)  # psycopg 3.2+: the libpq 17 cancel API when there is one
    if callable(safe):
        return lambda: safe(timeout=5)
    cancel = getattr(raw, "cancel", None)
    return cancel if callable(cancel) else None


__all__ = ["Stepper"]
