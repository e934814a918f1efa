"""The migration function the runner hands Alembic: exactly one revision at a time, each behind the gate.

Alembic asks this generator for the next step only after the previous one's
transaction has ended, so between two ``yield``s the runner knows the step
committed. Before each step the playbook's hooks may stop the batch, the gate
checks the stop request, the audit log and the run lock, and the step is checked
to apply exactly the one revision planned; inside the step, just before its
commit, ``on_version_apply`` proves the run lock is still held and waits for
``step_started`` to be on disk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from runner.alembic_compat import downgrade_step, upgrade_step, would_apply
from runner.database import runlock
from runner.database.connections import same_heads
from runner.database.history import History
from runner.errors import Refused
from runner.guards import Guards
from runner.planning.project import AlembicProject
from runner.planning.revisions import Revision
from runner.run.batch import BatchState
from runner.run.connection_guard import prepare, verify
from runner.run.decision import Decision
from runner.run.gate import StepGate
from runner.run.recorder import StepRecorder
from runner.run.steps import Direction, FailureKind, Progress, StepStopped

StepHook = Callable[[Revision, Progress], Decision | None]


class Feeder:
    """One batch's steps, fed to Alembic; ``identity`` is the runner's own session (for the lock checks)."""

    def __init__(
        self,
        project: AlembicProject,
        batch: BatchState,
        *,
        gate: StepGate,
        recorder: StepRecorder,
        history: History,
        runner_identity: Any,
        guards_for: Callable[[Revision], Guards],
        queue_limit_for: Callable[[Revision], int | None],
        before_step: StepHook,
        after_step: StepHook,
    ) -> None:
        self.project = project
        self.batch = batch
        self.gate = gate
        self.recorder = recorder
        self.history = history
        self.runner_identity = runner_identity
        self.guards_for = guards_for
        self.queue_limit_for = queue_limit_for
        self.before_step = before_step
        self.after_step = after_step

    def __call__(self, heads: Any, context: Any) -> Iterator[Any]:
        batch = self.batch
        heads = tuple(heads)
        if not same_heads(heads, batch.heads):
            raise Refused(
                f"The database is at {fmt(heads)}, but this run expected {fmt(batch.heads)}: something "
                "else changed it since the plan was made. Nothing more was run.",
                next_step="runner status, then plan again.",
            )
        while batch.todo and batch.stop is None:
            revision = batch.todo[0]
            decision = self.before_step(revision, batch.progress())
            if decision is not None and decision.stops:
                batch.stop = decision
                return
            self.gate.before_step(revision.revision, str(batch.direction))
            step = self._migration_step(revision, heads)
            guards = self._step_guards(revision, context)
            self.recorder.started(batch, batch.begin(revision), guards, self.queue_limit_for(revision))
            self.gate.audit_writable()  # step_started written; on disk before the step can commit
            yield step
            # Alembic asks for the next step only after this one's transaction ended.
            if batch.session is not None and batch.session.outer_transaction:
                return
            heads = self.committed()

    def committed(self) -> tuple[str, ...]:
        """The step in flight has committed: record it and ask the hooks whether to go on."""
        batch = self.batch
        step, outcome = batch.commit()
        self.recorder.committed(batch, step, outcome)
        decision = self.after_step(step.revision, batch.progress())
        if decision is not None and decision.stops:
            batch.stop = decision
        return batch.heads

    def on_version_apply(self, *, ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
        """Inside the step's transaction, after its version row: commit only under the run lock."""
        batch = self.batch
        current = batch.current
        applied = step.up_revision_id  # the revision this step applied or reverted
        if current is None or applied != current.revision.revision:
            raise Refused(
                f"Alembic applied {applied}, but the runner handed it {current and current.revision.revision}."
            )
        self.gate.before_commit(current.revision.revision)
        self.gate.audit_durable(current.revision.revision)
        held = self.history.applied_in_step(
            ctx.connection,
            current.revision.revision,
            batch.direction,
            current.prior,
            current.attempt,
            self.runner_identity.backend_pid,
        )
        if not held:
            raise StepStopped(
                FailureKind.LOCK_LOST,
                f"{runlock.LOST_MESSAGE}; {current.revision.revision} was rolled back before it could commit",
            )
        current.heads_after = tuple(sorted(heads))

    def _migration_step(self, revision: Revision, heads: tuple[str, ...]) -> Any:
        script = self.project.script
        if self.batch.direction is Direction.DOWNGRADE:
            if revision.revision not in heads:
                raise Refused(f"Can't downgrade {revision.revision}: the database is at {fmt(heads)}.")
            return downgrade_step(script, revision.revision)
        if revision.revision in heads:
            raise Refused(f"{revision.revision} is already applied: the database is at {fmt(heads)}.")
        if not set(revision.down_revisions) <= set(heads):  # a branch point: prove it is one revision
            applying = would_apply(script, revision.revision, heads)
            if applying != [revision.revision]:
                raise Refused(
                    f"Upgrading {fmt(heads)} to {revision.revision} would apply {', '.join(applying)}, "
                    "not exactly that one revision. Nothing more was run."
                )
        return upgrade_step(script, revision.revision)

    def _step_guards(self, revision: Revision, context: Any) -> Guards:
        """A step whose guards differ from the session's gets its own, read back, in its transaction."""
        batch = self.batch
        guards = self.guards_for(revision)
        if batch.session is None or guards == batch.session_guards:
            return guards
        connection = context.connection
        for name, ms in guards.settings_ms().items():
            connection.exec_driver_sql(f"SET {name} = '{int(ms)}ms'")
        check = prepare(connection, guards, self.runner_identity)
        verify(check, guards, self.runner_identity)
        batch.session_guards = guards
        self.recorder.audit.emit(
            "guards_changed", revision=revision.revision, timeouts=check.as_fields()["timeouts"]
        )
        return guards


def fmt(heads: tuple[str, ...] | list[str]) -> str:
    return ", ".join(heads) or "<base>"
