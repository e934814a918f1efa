"""One guarded run, start to finish: the state machine around the steps.

connect → lock → plan → record the prior revision → steps (with hooks) →
decide (continue / halt / rollback / restore) → read back where the database is
→ finish. Every transition is an audit event; every failure ends with the
database at a revision the runner has read back, and a next safe command.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import closing, suppress

import alembic
import psycopg
import sqlalchemy

from runner import db, runlock
from runner.audit import AuditLog
from runner.decision import Action, Decision
from runner.errors import RunnerError
from runner.history import History
from runner.lockwatch import LockWatcher
from runner.project import AlembicProject
from runner.redact import redact
from runner.run import (
    EXIT_FOR_STATUS,
    RunHooks,
    RunResult,
    RunSettings,
    RunStatus,
    RunView,
    default_operator,
    new_run_id,
)
from runner.stepper import Stepper
from runner.steps import Batch, Direction, Failure, FailureKind
from runner.target import DatabaseTarget


class Executor:
    def __init__(
        self,
        project: AlembicProject,
        target: DatabaseTarget,
        audit: AuditLog,
        settings: RunSettings,
        *,
        hooks: RunHooks | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.project = project
        self.target = target
        self.audit = audit
        self.settings = settings
        self.hooks = hooks or RunHooks(settings.guards, settings.retry)
        self.sleep = sleep

    @property
    def run_id(self) -> str:
        return self.audit.run_id

    def _refused(self, exc: RunnerError) -> None:
        self.audit.emit(
            "run_refused", reason=exc.message, next_step=exc.next_step, exit_code=int(exc.exit_code)
        )
        exc.audited = True

    # -- the run ------------------------------------------------------------------------------
    def apply(self, to: str = "heads") -> RunResult:
        self.audit.emit(
            "run_started",
            target=self.target.display,
            to=to,
            guards=self.settings.guards.describe(),
            lock_retry=vars(self.settings.retry),
            operator=self.settings.operator,
            versions={"alembic": alembic.__version__, "sqlalchemy": sqlalchemy.__version__},
        )
        try:
            conn = db.connect(self.target, application_name=f"migration-runner {self.run_id}")
        except RunnerError as exc:
            self._refused(exc)
            raise
        with closing(conn):
            conn.execute("SET lock_timeout = '5s'")
            conn.execute("SET statement_timeout = '30s'")
            try:
                identity = db.identity(conn)
                runlock.acquire(conn, database_label=identity.describe())
            except RunnerError as exc:
                self._refused(exc)
                raise
            self.audit.emit(
                "run_lock_acquired",
                server=identity.as_fields(),
                backend_pid=identity.backend_pid,
                server_version=db.server_version(conn),
            )
            try:
                return self._run_locked(conn, identity, to)
            finally:
                with suppress(psycopg.Error):  # a lost connection has released the lock already
                    runlock.release(conn)

    def _run_locked(self, conn: psycopg.Connection, identity: db.ServerIdentity, to: str) -> RunResult:
        prior = db.read_heads(conn, self.settings.version_table)
        try:
            plan = self.project.pending(prior, to)
            target_heads = self.project.resolve(to)
        except RunnerError as exc:
            self._refused(exc)
            raise
        view = RunView(self.run_id, conn, self.audit, prior, plan, target=self.target)
        self.audit.emit(
            "revision_recorded", prior_heads=list(prior), version_table=str(self.settings.version_table)
        )
        self.audit.emit("plan_made", to=list(target_heads), steps=[r.revision for r in plan])
        if not plan:
            return self._finish(
                conn, None, view, RunStatus.NOTHING_TO_DO, prior, f"Already at {_fmt(prior)}."
            )
        try:
            self.hooks.before_run(view)
        except RunnerError as exc:
            self._refused(exc)
            raise
        history = History(conn, self.run_id, self.settings.operator)
        history.ensure_table()
        history.start_run(target_heads, prior)
        watcher = LockWatcher(
            db.connect(self.target, application_name=f"migration-runner {self.run_id} watcher")
        )
        try:
            stepper = self._stepper(conn, identity, history, view, watcher.start())
            return self._upgrade(conn, history, stepper, view)
        finally:
            watcher.close()

    def _upgrade(
        self, conn: psycopg.Connection, history: History, stepper: Stepper, view: RunView
    ) -> RunResult:
        prior = view.prior_heads
        batch = Batch(Direction.UPGRADE, list(view.plan), prior)
        view.batch = batch
        failure = stepper.run(batch)
        decision = self._decide(failure, batch, view)
        if decision.action is Action.CONTINUE:
            done = RunStatus.DONE
            message = f"Applied {len(batch.done)} step(s); the database is at {_fmt(batch.heads)}."
            return self._finish(conn, history, view, done, batch.heads, message, batch=batch)
        self.audit.emit("decision_made", **decision.as_fields())
        if decision.action is Action.ROLLBACK:
            return self._rollback(conn, history, stepper, view, batch, failure, decision)
        status = RunStatus.RESTORE_REQUIRED if decision.action is Action.RESTORE else RunStatus.HALTED
        if failure is not None and failure.kind is FailureKind.REFUSED and not batch.done:
            status = RunStatus.REFUSED
        return self._finish(
            conn,
            history,
            view,
            status,
            batch.heads,
            self._halt_message(batch, failure, decision),
            batch=batch,
            failure=failure,
            decision=decision,
        )

    def _stepper(
        self,
        conn: psycopg.Connection,
        identity: db.ServerIdentity,
        history: History,
        view: RunView,
        watcher: LockWatcher,
    ) -> Stepper:
        return Stepper(
            self.project,
            conn,
            identity,
            self.audit,
            history,
            guards_for=self.hooks.guards_for,
            retry_for=self.hooks.retry_for,
            before_step=lambda revision, direction: self.hooks.before_step(revision, direction, view),
            after_step=lambda revision, direction: self.hooks.after_step(revision, direction, view),
            sleep=self.sleep,
            watcher=watcher,
        )

    def _decide(self, failure: Failure | None, batch: Batch, view: RunView) -> Decision:
        if failure is not None:
            if failure.kind in (FailureKind.REFUSED, FailureKind.INTERRUPTED, FailureKind.NO_PROGRESS):
                return Decision(Action.HALT, failure.message)  # a guard said no: never act further
            return self.hooks.on_failure(failure, view)
        if batch.stop is not None:
            return batch.stop
        return self.hooks.after_run(view) or Decision(Action.CONTINUE, "")

    # -- rollback -----------------------------------------------------------------------------
    def _rollback(
        self,
        conn: psycopg.Connection,
        history: History,
        stepper: Stepper,
        view: RunView,
        up: Batch,
        failure: Failure | None,
        decision: Decision,
    ) -> RunResult:
        if decision.rollback_to:
            path = self.project.downgrade_path(up.heads, decision.rollback_to)
        else:
            applied = {outcome.revision for outcome in up.done}
            path = [r for r in reversed(view.plan) if r.revision in applied]
        one_way = [(r, why) for r in path if (why := self.hooks.irreversible(r))]
        if one_way:
            revision, why = one_way[0]
            message = (
                f"{self._halt_message(up, failure, decision)} Rolling back would pass through {revision.revision} "
                f"({revision.message}), which can't be undone: {why}. No downgrade was run: restore required."
            )
            self.audit.emit("rollback_refused", revision=revision.revision, reason=why)
            return self._finish(
                conn,
                history,
                view,
                RunStatus.RESTORE_REQUIRED,
                up.heads,
                message,
                batch=up,
                failure=failure,
                decision=decision,
            )
        self.audit.emit("rollback_started", revisions=[r.revision for r in path])
        down = Batch(Direction.DOWNGRADE, list(path), up.heads)
        view.batch = down
        down_failure = stepper.run(down)
        opening = self._halt_message(up, failure, decision)  # what made the run roll back
        status, why = RunStatus.ROLLED_BACK, decision
        if down_failure is not None:
            status, failure = RunStatus.HALTED, down_failure
            ending = f"The rollback then failed at {down_failure.revision}: {down_failure.message}."
        elif down.stop is not None:
            status, why = RunStatus.HALTED, down.stop
            ending = f"The rollback was stopped at {_fmt(down.heads)}: {down.stop.reason}."
        else:
            ending = f"Rolled back to {_fmt(down.heads)}."
        return self._finish(
            conn,
            history,
            view,
            status,
            down.heads,
            f"{opening} {ending}",
            batch=up,
            down=down,
            failure=failure,
            decision=why,
        )

    # -- the end of a run ---------------------------------------------------------------------
    def _finish(
        self,
        conn: psycopg.Connection,
        history: History | None,
        view: RunView,
        status: RunStatus,
        expected: tuple[str, ...],
        message: str,
        *,
        batch: Batch | None = None,
        down: Batch | None = None,
        failure: Failure | None = None,
        decision: Decision | None = None,
    ) -> RunResult:
        try:
            actual = db.read_heads(conn, self.settings.version_table)
        except psycopg.Error as exc:  # the server went away (failover, restart): say what is known
            self.audit.emit("state_unreadable", expected=list(expected), error=redact(str(exc).strip()))
            status = RunStatus.HALTED if status is RunStatus.DONE else status
            message += (
                f" The database stopped answering, so the revision could not be read back; the last step known "
                f"to have committed left it at {_fmt(expected)}."
            )
            return self._result(
                view,
                status,
                expected,
                message,
                batch,
                down,
                failure,
                decision,
                history=None,
                next_step="runner status once the database answers again, then decide from there.",
            )
        if not db.same_heads(actual, expected):
            self.audit.emit("state_mismatch", expected=list(expected), found=list(actual))
            message += f" The version table reads {_fmt(actual)}, not {_fmt(expected)}: check it before anything else."
            status = RunStatus.HALTED if status is RunStatus.DONE else status
        return self._result(view, status, actual, message, batch, down, failure, decision, history=history)

    def _result(
        self,
        view: RunView,
        status: RunStatus,
        heads: tuple[str, ...],
        message: str,
        batch: Batch | None,
        down: Batch | None,
        failure: Failure | None,
        decision: Decision | None,
        *,
        history: History | None,
        next_step: str | None = None,
    ) -> RunResult:
        next_step = next_step or self._next_step(status, failure, decision)
        event = "run_finished" if status in (RunStatus.DONE, RunStatus.NOTHING_TO_DO) else "run_halted"
        self.audit.emit(
            event,
            status=str(status),
            final_heads=list(heads),
            message=message,
            next_step=next_step,
            exit_code=int(EXIT_FOR_STATUS[status]),
        )
        if history is not None:
            history.finish_run(str(status), message, self.audit.last_hash)
        return RunResult(
            run_id=self.run_id,
            status=status,
            prior_heads=view.prior_heads,
            final_heads=tuple(heads),
            applied=tuple(batch.done) if batch else (),
            reverted=tuple(down.done) if down else (),
            message=message,
            next_step=next_step,
            failure=failure,
            decision=decision,
        )

    def _halt_message(self, batch: Batch, failure: Failure | None, decision: Decision) -> str:
        if failure is not None and failure.kind is FailureKind.REFUSED:
            what = f"Refused before step {failure.revision}: {failure.message}"
        elif failure is not None:
            attempts = f" after {failure.attempts} attempts" if failure.attempts > 1 else ""
            what = f"Step {failure.revision} failed{attempts}: {failure.message}."
        else:
            what = f"Stopped: {decision.reason}."
        return f"{what} The database is at {_fmt(batch.heads)}, the last completed step."

    def _next_step(self, status: RunStatus, failure: Failure | None, decision: Decision | None) -> str | None:
        cmd = self.settings.command
        if status in (RunStatus.DONE, RunStatus.NOTHING_TO_DO):
            return None
        if decision is not None and decision.next_step:
            return decision.next_step
        if status is RunStatus.RESTORE_REQUIRED:
            return "restore the database from the snapshot taken before this run; the audit log has its id."
        if status is RunStatus.ROLLED_BACK:
            return f"fix the cause, rehearse again, then {cmd}."
        if failure is not None and failure.error is not None and failure.error.next_step:
            return failure.error.next_step
        if failure is not None and failure.kind is FailureKind.LOCK_TIMEOUT:
            return f"wait for (or end) the session holding the lock, then {cmd} to resume."
        return f"fix the cause, then {cmd} to resume from the current revision."


def _fmt(heads: tuple[str, ...] | list[str]) -> str:
    return ", ".join(heads) or "<base>"


__all__ = [
    "Executor",
    "RunHooks",
    "RunResult",
    "RunSettings",
    "RunStatus",
    "RunView",
    "default_operator",
    "new_run_id",
]
