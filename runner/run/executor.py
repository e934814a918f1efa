"""One guarded run, start to finish: the state machine around the steps.

connect → lock → plan → record the prior revision → steps (with hooks) →
decide (continue / halt / rollback / restore) → read back where the database is
→ finish. Every transition is an audit event; every failure ends with the
database at a revision the runner has read back, and a next safe command.
While the run is in progress, Ctrl-C, SIGTERM and SIGHUP are stop requests
(runner.run.interrupts): the step in flight is cancelled and rolled back, and the
run ends here like any other halt.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import closing, suppress

import alembic
import psycopg
import sqlalchemy

from runner.audit import AuditLog
from runner.database import connections, history, runlock
from runner.database.history import History, SnapshotRef
from runner.database.lockwatch import LockWatcher, WaitProgress
from runner.database.unfinished import UnfinishedRun, close_abandoned, unfinished_runs
from runner.errors import Refused
from runner.planning.project import AlembicProject
from runner.run.decision import Action, Decision
from runner.run.ending import Ending, RunEnder, fmt, what_happened
from runner.run.gate import StepGate
from runner.run.hooks import Anchoring, RunHooks, RunView, StandardHooks
from runner.run.interrupts import StopRequest, graceful_stop
from runner.run.result import RunResult, RunStatus
from runner.run.resuming import clear_leftovers, take_over
from runner.run.rollback import roll_back
from runner.run.settings import RunSettings
from runner.run.stepper import Stepper
from runner.run.steps import BatchResult, Direction, FailureKind
from runner.target import DatabaseTarget


class Executor:
    """Runs one request to its end; a refusal before the first step raises (and changed nothing)."""

    def __init__(
        self,
        project: AlembicProject,
        settings: RunSettings,
        audit: AuditLog,
        *,
        hooks: RunHooks | None = None,
        confirmed: str | None = None,
        anchor: Anchoring | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.project = project
        self.settings = settings
        self.target: DatabaseTarget = settings.target
        self.audit = audit
        self.hooks: RunHooks = hooks or StandardHooks(settings.guards)
        self.confirmed = confirmed  # how the operator confirmed the target, for the audit log
        self.anchor = anchor  # takes (or reuses) the snapshot the run is anchored on, before the first step
        self._sleep = sleep
        self._conn: psycopg.Connection | None = None  # the run lock's session
        self._books: psycopg.Connection | None = None  # a new session for the records, if that one is lost
        self._gave_up = False  # the server did not answer again within the reconnect window

    @property
    def run_id(self) -> str:
        return self.audit.run_id

    # -- the run ------------------------------------------------------------------------------
    def apply(self) -> RunResult:
        with graceful_stop() as stop:
            try:
                return self._apply(stop)
            finally:
                if self._books is not None:
                    self._books.close()

    def _apply(self, stop: StopRequest) -> RunResult:
        run_wide = self.settings.guards.run_wide
        self.audit.emit(
            "run_started",
            target=self.target.display,
            to=self.settings.to,
            guards=run_wide.guards.describe(),
            guards_source=run_wide.source,
            lock_retry=vars(run_wide.retry),
            operator=self.settings.operator,
            versions={"alembic": alembic.__version__, "sqlalchemy": sqlalchemy.__version__},
            request=dict(self.settings.request_record),
        )
        self._check_audit_room()
        if self.confirmed:
            self.audit.emit("target_confirmed", target=self.settings.target_name, how=self.confirmed)
        conn = connections.connect(self.target, application_name=f"migration-runner {self.run_id}")
        self._conn = conn
        with closing(conn):
            conn.execute("SET lock_timeout = '5s'")
            conn.execute("SET statement_timeout = '30s'")
            runlock.protect(conn)
            identity = connections.identity(conn)
            runlock.acquire(conn, database_label=identity.describe())
            self.audit.emit(
                "run_lock_acquired",
                server=identity.as_fields(),
                backend_pid=identity.backend_pid,
                server_version=connections.server_version(conn),
            )
            try:
                return self._run_locked(conn, identity, stop)
            finally:
                with suppress(psycopg.Error):  # a lost connection has released the lock already
                    runlock.release(conn)

    def _check_audit_room(self) -> None:
        if not self.audit.healthy:
            raise Refused(
                f"The audit log {self.audit.path} can't be written ({self.audit.write_error}). Nothing was changed.",
                next_step="free space where the audit log lives, or give --audit-log another place.",
            )
        problem = self.audit.room_problem()
        if problem is not None:
            raise Refused(
                f"There is no room to record this run: {problem}. Nothing was changed.",
                next_step="free space where the audit log lives, or give --audit-log another place.",
            )

    def _run_locked(
        self, conn: psycopg.Connection, identity: connections.ServerIdentity, stop: StopRequest
    ) -> RunResult:
        version_table = self.settings.version_table
        prior = connections.read_heads(conn, version_table)
        unfinished = self._unfinished(conn)
        plan = self.project.pending(prior, self.settings.to)
        target_heads = self.project.resolve(self.settings.to)
        resuming = self.settings.resuming
        if resuming is not None:  # the dead run's sessions ended, and its step's half-built indexes gone
            take_over(conn, self.audit, resuming, identity=identity, heads=prior, unfinished=unfinished)
            clear_leftovers(conn, self.audit, resuming, plan[0].revision if plan else None)
        view = RunView(self.run_id, conn, self.audit, prior, tuple(plan), target=self.target)
        self.audit.emit("revision_recorded", prior_heads=list(prior), version_table=str(version_table))
        self.audit.emit("plan_made", to=list(target_heads), steps=[r.revision for r in plan])
        ender = RunEnder(self.audit, self.settings, self._bookkeeping, sleep=self._real_sleep())
        if not plan:
            if unfinished:  # the table exists: they wrote to it
                self._close_unfinished(conn, unfinished)
            return ender.end(view, Ending(RunStatus.NOTHING_TO_DO, prior, f"Already at {fmt(prior)}."), None)
        self.hooks.before_run(view)  # a refusal here (lint, window, checks) changed nothing
        snapshot = self.anchor(view) if self.anchor is not None else None  # no DDL until it is available
        records = History(conn, self.run_id, self.settings.operator)

        def start_history() -> None:
            self._start_history(records, conn, unfinished, target_heads, prior, snapshot)

        gate = StepGate(conn, self.audit, records, stop, start_history=start_history)
        watching = connections.connect(
            self.target, application_name=f"migration-runner {self.run_id} watcher"
        )
        runlock.protect(watching)  # the watcher cancels on a stop request: it must outlive idle timeouts too
        watcher = LockWatcher(watching, on_progress=self._lock_waiting)
        stop.on_request(watcher.cancel_in_flight)
        stepper = self._stepper(conn, identity, records, view, watcher.start(), gate, stop)
        try:
            ending = self._upgrade(stepper, view)
        finally:
            watcher.close()
        return ender.end(view, ending, records, stepper.last_session_pid)

    def _unfinished(self, conn: psycopg.Connection) -> list[UnfinishedRun]:
        """Runs that died without finishing (this run holds the lock, so none of them is alive)."""
        found = unfinished_runs(conn)
        for run in found:
            self.audit.emit("unfinished_run_found", run=run.as_json())
        return found

    def _start_history(
        self,
        records: History,
        conn: psycopg.Connection,
        unfinished: list[UnfinishedRun],
        target_heads: tuple[str, ...],
        prior: tuple[str, ...],
        snapshot: SnapshotRef | None,
    ) -> None:
        """The first step may start: only now does the run write anything into the target."""
        statements = history.ensure_table(conn)
        if statements:
            self.audit.emit("history_table_ready", table=history.TABLE, statements=statements)
        if unfinished:
            self._close_unfinished(conn, unfinished)
        records.start_run(
            target_heads,
            prior,
            audit_chain=self.audit.chain_id,
            audit_log=str(self.audit.path.resolve()) if self.audit.path else None,
            command=self.settings.command,
            snapshot=snapshot,
        )

    def _close_unfinished(self, conn: psycopg.Connection, unfinished: list[UnfinishedRun]) -> None:
        resumed = self.settings.resuming.run_id if self.settings.resuming is not None else None
        close_abandoned(conn, unfinished, self.run_id, resumed=resumed)
        self.audit.emit("unfinished_runs_closed", runs=[run.run_id for run in unfinished], resumed=resumed)

    def _lock_waiting(self, progress: WaitProgress) -> None:
        self.audit.emit(
            "lock_waiting",
            backend_pid=progress.pid,
            waited_ms=progress.waited_ms,
            queued_behind=progress.queued_behind,
            blockers=progress.blockers,
        )

    def _bookkeeping(self) -> psycopg.Connection | None:
        """The run's own session for its records, or a new one when that was lost (None: unreachable)."""
        for conn in (self._conn, self._books):
            if conn is not None and connections.is_alive(conn):
                return conn
        self._books = connections.reconnect(
            self.target,
            f"migration-runner {self.run_id} records",
            within_s=0.0 if self._gave_up else None,  # wait for the server once per run, not at every record
            sleep=self._real_sleep(),
        )
        self._gave_up = self._books is None
        return self._books

    def _real_sleep(self) -> Callable[[float], None]:
        return self._sleep or time.sleep

    def _stepper(
        self,
        conn: psycopg.Connection,
        identity: connections.ServerIdentity,
        records: History,
        view: RunView,
        watcher: LockWatcher,
        gate: StepGate,
        stop: StopRequest,
    ) -> Stepper:
        hooks = self.hooks
        return Stepper(
            self.project,
            conn,
            identity,
            self.audit,
            records,
            guards_for=hooks.guards_for,
            retry_for=hooks.retry_for,
            before_step=lambda revision, progress: hooks.before_step(revision, progress, view),
            after_step=lambda revision, progress: hooks.after_step(revision, progress, view),
            gate=gate,
            bookkeeping=self._bookkeeping,
            sleep=self._sleep or stop.sleep,
            watcher=watcher,
        )

    def _upgrade(self, stepper: Stepper, view: RunView) -> Ending:
        up = stepper.run(Direction.UPGRADE, list(view.plan), view.prior_heads)
        decision = self._decide(up, view)
        if decision.action is Action.CONTINUE:
            message = f"Applied {len(up.done)} step(s); the database is at {fmt(up.heads)}."
            return Ending(RunStatus.DONE, up.heads, message, up=up)
        self.audit.emit("decision_made", **decision.as_fields())
        if decision.action is Action.ROLLBACK:
            return roll_back(
                up,
                decision,
                project=self.project,
                hooks=self.hooks,
                audit=self.audit,
                stepper=stepper,
                view=view,
            )
        status = RunStatus.RESTORE_REQUIRED if decision.action is Action.RESTORE else RunStatus.HALTED
        failure = up.failure
        if failure is not None and failure.kind is FailureKind.REFUSED and not up.done:
            status = RunStatus.REFUSED
        message = (
            f"{what_happened(failure, decision)} The database is at {fmt(up.heads)}, the last completed step."
        )
        return Ending(status, up.heads, message, up=up, failure=failure, decision=decision)

    def _decide(self, up: BatchResult, view: RunView) -> Decision:
        if up.failure is not None:
            if up.failure.kind.halts:
                return Decision(Action.HALT, up.failure.message)  # a guard said no: never act further
            return self.hooks.on_failure(up.failure, up.progress, view)
        if up.stop is not None:
            return up.stop
        return self.hooks.after_run(up.progress, view) or Decision(Action.CONTINUE, "")


__all__ = ["Executor"]
