"""The vocabulary of one run: its settings, its result, what hooks see and may decide.

The executor drives a run; everything that plugs into it (the command line, a
playbook, lint) speaks through these types.
"""

from __future__ import annotations

import getpass
import os
import secrets
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

import psycopg

from runner import db
from runner.audit import AuditLog
from runner.decision import Action, Decision
from runner.errors import ExitCode
from runner.project import Downgrade, Revision
from runner.retry import LockRetryPolicy
from runner.risk import RiskReview
from runner.session import Guards
from runner.steps import Batch, Direction, Failure, StepOutcome
from runner.target import DatabaseTarget


class RunStatus(StrEnum):
    DONE = "done"
    NOTHING_TO_DO = "nothing_to_do"
    HALTED = "halted"
    REFUSED = "refused"  # a guard refused before this run changed anything
    ROLLED_BACK = "rolled_back"
    RESTORE_REQUIRED = "restore_required"
    UNREACHABLE = "unreachable"  # the server went away and did not come back: last committed step named


EXIT_FOR_STATUS = {
    RunStatus.DONE: ExitCode.DONE,
    RunStatus.NOTHING_TO_DO: ExitCode.DONE,
    RunStatus.HALTED: ExitCode.HALTED,
    RunStatus.REFUSED: ExitCode.REFUSED,
    RunStatus.ROLLED_BACK: ExitCode.ROLLED_BACK,
    RunStatus.RESTORE_REQUIRED: ExitCode.RESTORE_REQUIRED,
    RunStatus.UNREACHABLE: ExitCode.UNREACHABLE,
}


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def default_operator() -> str:
    return os.environ.get("RUNNER_OPERATOR") or f"{getpass.getuser()}@{socket.gethostname()}"


@dataclass(frozen=True)
class RunSettings:
    guards: Guards = field(default_factory=Guards)
    retry: LockRetryPolicy = field(default_factory=LockRetryPolicy)
    version_table: db.VersionTable = field(default_factory=db.VersionTable)
    operator: str = field(default_factory=default_operator)
    command: str = "runner"  # how the operator invoked us, for next-step hints


@dataclass(frozen=True)
class RunResult:
    run_id: str
    status: RunStatus
    prior_heads: tuple[str, ...]
    final_heads: tuple[str, ...]
    applied: tuple[StepOutcome, ...]
    reverted: tuple[StepOutcome, ...]
    message: str
    next_step: str | None = None
    failure: Failure | None = None
    decision: Decision | None = None

    @property
    def exit_code(self) -> ExitCode:
        return EXIT_FOR_STATUS[self.status]


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
