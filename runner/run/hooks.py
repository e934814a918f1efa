"""What hooks see during a run, what they may decide, and the standard policy they refine.

The executor drives a run; everything that plugs into it (the command line, a
playbook, lint) answers its questions through ``RunHooks``. Hooks are shown
immutable values (``RunView``, ``Progress``) and answer with a ``Decision``;
the live state of a batch stays private to the stepper.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import psycopg

from runner.audit import AuditLog
from runner.database.history import SnapshotRef
from runner.guards import GuardPolicy, Guards, LockRetryPolicy, StepSettings
from runner.planning.revisions import Downgrade, Revision
from runner.run.decision import Action, Decision
from runner.run.risk import RiskReview
from runner.run.steps import Failure, Progress
from runner.target import DatabaseTarget


@dataclass(frozen=True)
class RunView:
    """What hooks may look at during a run (the runner's own connection included)."""

    run_id: str
    conn: psycopg.Connection
    audit: AuditLog
    prior_heads: tuple[str, ...]
    plan: tuple[Revision, ...]
    target: DatabaseTarget | None = None  # for hooks that need a connection of their own (checks)


# Takes (or reuses) the snapshot a run is anchored on, under the run lock, before its first step; a
# RunnerError refuses the run (nothing was changed). None: the run needs no snapshot.
Anchoring = Callable[[RunView], SnapshotRef | None]


class RunHooks(Protocol):
    """The questions the executor asks; a RunnerError from ``before_run`` refuses the run."""

    def guards_for(self, revision: Revision) -> Guards: ...

    def retry_for(self, revision: Revision) -> LockRetryPolicy: ...

    def before_run(self, run: RunView) -> None: ...

    def before_step(self, revision: Revision, progress: Progress, run: RunView) -> Decision | None: ...

    def after_step(self, revision: Revision, progress: Progress, run: RunView) -> Decision | None: ...

    def after_run(self, progress: Progress, run: RunView) -> Decision | None: ...

    def on_failure(self, failure: Failure, progress: Progress, run: RunView) -> Decision: ...

    def irreversible(self, revision: Revision) -> str | None: ...


class StandardHooks:
    """The command line's policy: the resolved guards, lint's verdict, no extra checks, halt on failure."""

    def __init__(self, policy: GuardPolicy, *, risk: RiskReview | None = None) -> None:
        self.policy = policy
        self.risk = risk

    def settings_for(self, revision: Revision) -> StepSettings:
        profile = self.risk.profile_for(revision) if self.risk is not None else None
        return self.policy.for_step(revision.revision, profile)

    def guards_for(self, revision: Revision) -> Guards:
        return self.settings_for(revision).guards

    def retry_for(self, revision: Revision) -> LockRetryPolicy:
        return self.settings_for(revision).retry

    def before_run(self, run: RunView) -> None:
        if self.risk is not None:
            self.risk.assess(run)

    def before_step(self, revision: Revision, progress: Progress, run: RunView) -> Decision | None:
        return None

    def after_step(self, revision: Revision, progress: Progress, run: RunView) -> Decision | None:
        return None

    def after_run(self, progress: Progress, run: RunView) -> Decision | None:
        return None

    def on_failure(self, failure: Failure, progress: Progress, run: RunView) -> Decision:
        return Decision(Action.HALT, failure.message)

    def irreversible(self, revision: Revision) -> str | None:
        """Why this revision can't be downgraded, or None."""
        if revision.downgrade is Downgrade.EMPTY:
            return "its downgrade() does nothing"
        if revision.downgrade is Downgrade.MISSING:
            return "it has no downgrade()"
        return self.risk.one_way(revision) if self.risk else None
