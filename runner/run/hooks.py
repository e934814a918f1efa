"""What hooks see during a run, and the default policy they refine.

The executor drives a run; everything that plugs into it (the command line, a
playbook, lint) answers its questions through these hooks.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from runner.audit import AuditLog
from runner.guards import Guards
from runner.plan.project import Downgrade, Revision
from runner.run.decision import Action, Decision
from runner.run.retry import LockRetryPolicy
from runner.run.risk import RiskReview
from runner.run.steps import Batch, Direction, Failure
from runner.target import DatabaseTarget


@dataclass
class RunView:
    """What hooks may look at during a run (the runner's own connection included)."""

    run_id: str
    conn: psycopg.Connection
    audit: AuditLog
    prior_heads: tuple[str, ...]
    plan: list[Revision]
    batch: Batch | None = None
    target: DatabaseTarget | None = None  # for hooks that need a connection of their own (checks)


class RunHooks:
    """Default policy: the command-line guards, lint's verdict, no extra checks, halt on any failure."""

    def __init__(self, guards: Guards, retry: LockRetryPolicy, *, risk: RiskReview | None = None) -> None:
        self.guards = guards
        self.retry = retry
        self.risk = risk

    def guards_for(self, revision: Revision) -> Guards:
        """The configured guards, unless lint says this step needs its own profile."""
        return (self.risk.guards_for(revision) if self.risk else None) or self.guards

    def retry_for(self, revision: Revision) -> LockRetryPolicy:
        return self.retry

    def before_run(self, run: RunView) -> None:
        """Raise a RunnerError to refuse the run before anything changes."""
        if self.risk is not None:
            self.risk.assess(run)

    def before_step(self, revision: Revision, direction: Direction, run: RunView) -> Decision | None:
        return None

    def after_step(self, revision: Revision, direction: Direction, run: RunView) -> Decision | None:
        return None

    def after_run(self, run: RunView) -> Decision | None:
        return None

    def on_failure(self, failure: Failure, run: RunView) -> Decision:
        return Decision(Action.HALT, failure.message)

    def irreversible(self, revision: Revision) -> str | None:
        """Why this revision can't be downgraded, or None."""
        if revision.downgrade is Downgrade.EMPTY:
            return "its downgrade() does nothing"
        if revision.downgrade is Downgrade.MISSING:
            return "it has no downgrade()"
        return self.risk.one_way(revision) if self.risk else None
