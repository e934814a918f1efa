"""How a run ended: the value the executor returns, and the exit code each outcome maps to.

``RunResult`` is what a caller of the Python API or the command line gets back;
its status maps to the documented exit code in one table.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from runner.errors import ExitCode
from runner.run.decision import Decision
from runner.run.steps import Failure, StepOutcome


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
    runbook: str | None = None  # the restore runbook, when the run ended needing a restore

    @property
    def exit_code(self) -> ExitCode:
        return EXIT_FOR_STATUS[self.status]
