"""One error family and one table of exit codes.

Errors carry the data their message needs; only the command-line boundary turns
them into text and an exit code, so scripts can rely on the numbers below.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes documented in the README; never renumber them."""

    DONE = 0
    HALTED = 1  # stopped on purpose or on failure, database at a known revision
    USAGE = 2
    INVALID_INPUT = 3  # config, revision, playbook
    REFUSED = 4  # a safety check said no before anything changed
    ROLLED_BACK = 5  # rolled back to the prior revision
    UNREACHABLE = 6  # database or AWS could not be reached
    RESTORE_REQUIRED = 7
    DRIFT_FOUND = 8  # runner drift: the schemas differ, or a pending step conflicts with the source
    DRILL_MISMATCH = 9  # runner rehearse: a downgrade did not restore the schema it started from
    INTERNAL = 70


class RunnerError(Exception):
    """Base of every error the runner reports to an operator.

    ``message`` says what happened and where; ``next_step`` names the next safe
    command, when there is one.
    """

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, *, next_step: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.next_step = next_step
        self.audited = False  # set once an audit log has recorded this error

    def __str__(self) -> str:
        if self.next_step:
            return f"{self.message} Next: {self.next_step}"
        return self.message


class InvalidInput(RunnerError):
    """The operator gave something the runner cannot use (file, option, revision)."""

    exit_code = ExitCode.INVALID_INPUT


class ConfigError(InvalidInput):
    """alembic.ini, env.py or a command-line option is unusable."""


class UnknownRevision(InvalidInput):
    """A revision named by the operator is not in the Alembic project."""


class MultipleHeads(InvalidInput):
    """'head' was asked for, but the project's history has several heads: which one is not said."""

    def __init__(self, heads: tuple[str, ...], where: str) -> None:
        self.heads = heads
        super().__init__(
            f"{where} has {len(heads)} heads ({', '.join(heads)}), so 'head' does not say which branch to "
            "upgrade; nothing was changed.",
            next_step=f"name the head to upgrade to (--to {heads[0]}), or pass --to heads to apply every branch.",
        )


class Refused(RunnerError):
    """A safety check refused to go on; nothing was changed by this run."""

    exit_code = ExitCode.REFUSED


class Unreachable(RunnerError):
    """The database (or AWS) could not be reached."""

    exit_code = ExitCode.UNREACHABLE


class Halted(RunnerError):
    """A run stopped with the database at a known revision."""

    exit_code = ExitCode.HALTED


class EnvPyError(RunnerError):
    """The application's env.py did something the runner cannot guard."""

    exit_code = ExitCode.REFUSED
