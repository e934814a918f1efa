"""The run's own hooks, with one addition: the schema is recorded before each step's upgrade.

A rehearsal runs the playbook exactly as ``apply`` would; this wrapper only
watches (``BaselineRecorder.before``), so the rollback drill afterwards can
compare each downgrade with what the database looked like before that step.
Every question is answered by the wrapped hooks.
"""

from __future__ import annotations

from runner.guards import Guards, LockRetryPolicy
from runner.planning.revisions import Revision
from runner.rehearsal.baselines import BaselineRecorder
from runner.run.decision import Decision
from runner.run.hooks import RunHooks, RunView
from runner.run.steps import Direction, Failure, Progress


class RecordingHooks:
    def __init__(self, inner: RunHooks, recorder: BaselineRecorder) -> None:
        self.inner = inner
        self.recorder = recorder

    def guards_for(self, revision: Revision) -> Guards:
        return self.inner.guards_for(revision)

    def retry_for(self, revision: Revision) -> LockRetryPolicy:
        return self.inner.retry_for(revision)

    def before_run(self, run: RunView) -> None:
        self.inner.before_run(run)

    def before_step(self, revision: Revision, progress: Progress, run: RunView) -> Decision | None:
        decision = self.inner.before_step(revision, progress, run)
        if progress.direction is Direction.UPGRADE and (decision is None or not decision.stops):
            self.recorder.before(revision.revision)  # after the hook's own waits: just before the step
        return decision

    def after_step(self, revision: Revision, progress: Progress, run: RunView) -> Decision | None:
        return self.inner.after_step(revision, progress, run)

    def after_run(self, progress: Progress, run: RunView) -> Decision | None:
        return self.inner.after_run(progress, run)

    def on_failure(self, failure: Failure, progress: Progress, run: RunView) -> Decision:
        return self.inner.on_failure(failure, progress, run)

    def irreversible(self, revision: Revision) -> str | None:
        return self.inner.irreversible(revision)
