"""What a step is while it runs, and how it ended: the values the stepper and the run share."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from runner.errors import RunnerError
from runner.planning.revisions import Revision
from runner.redact import redact
from runner.run.connection_guard import STATEMENT_TEXT_LIMIT
from runner.run.decision import Decision
from runner.run.retry import QUERY_CANCELED, is_lock_timeout, sqlstate

CANCELLED_MESSAGE = (
    "interrupted: the statement was cancelled on request (pg_cancel_backend from another session, or a stop "
    "signal here)"
)


class Direction(StrEnum):
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"


class FailureKind(StrEnum):
    LOCK_TIMEOUT = "lock_timeout"
    STATEMENT_TIMEOUT = "statement_timeout"
    ERROR = "error"  # the migration or env.py raised
    REFUSED = "refused"  # a guard refused before the step ran
    INTERRUPTED = "interrupted"  # Ctrl-C, SIGTERM, SIGHUP, or pg_cancel_backend from elsewhere
    NO_PROGRESS = "no_progress"  # env.py returned without running the step
    LOCK_LOST = "lock_lost"  # the run lock's session ended: nothing more may run
    AUDIT_FAILED = "audit_failed"  # the audit log can't be written (full disk, file-size limit)
    CONNECTION_LOST = "connection_lost"  # the server went away under the step (restart, failover)
    QUEUE_LIMIT = "queue_limit"  # it gave way: too many sessions queued behind its lock wait

    @property
    def halts(self) -> bool:
        """A guard said no, or the run can't go on safely: halt, never roll back or retry."""
        return self not in (*WAITED_FOR_A_LOCK, FailureKind.STATEMENT_TIMEOUT, FailureKind.ERROR)

    @property
    def retried(self) -> bool:
        """The step waited for a lock and gave up: its transaction rolled back, trying again is harmless."""
        return self in WAITED_FOR_A_LOCK


WAITED_FOR_A_LOCK = (FailureKind.LOCK_TIMEOUT, FailureKind.QUEUE_LIMIT)


class StepStopped(RunnerError):
    """Raised by the runner itself before a step starts, or inside it before it may commit."""

    def __init__(self, kind: FailureKind, message: str, *, next_step: str | None = None) -> None:
        super().__init__(message, next_step=next_step)
        self.kind = kind


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    revision: str | None
    message: str
    sqlstate: str | None = None
    statement: str | None = None
    attempts: int = 1
    error: RunnerError | None = None

    def as_fields(self) -> dict[str, Any]:
        return redact(
            {
                "kind": str(self.kind),
                "revision": self.revision,
                "message": self.message,
                "sqlstate": self.sqlstate,
                "statement": self.statement,
                "attempts": self.attempts,
            }
        )


@dataclass(frozen=True)
class StepOutcome:
    revision: str
    direction: Direction
    duration_ms: int
    attempts: int


@dataclass(frozen=True)
class Progress:
    """Where a batch of steps has got to, as hooks are shown it: a snapshot, never the live state."""

    direction: Direction
    heads: tuple[str, ...]  # the heads after the last committed step
    done: tuple[StepOutcome, ...] = ()
    remaining: tuple[Revision, ...] = ()

    @property
    def applied(self) -> tuple[str, ...]:
        return tuple(outcome.revision for outcome in self.done)


@dataclass(frozen=True)
class BatchResult:
    """How a batch ended: all done, stopped by a hook's decision, or failed."""

    progress: Progress
    failure: Failure | None = None
    stop: Decision | None = None

    @property
    def heads(self) -> tuple[str, ...]:
        return self.progress.heads

    @property
    def done(self) -> tuple[StepOutcome, ...]:
        return self.progress.done


# SQLSTATEs of a server that went away: admin shutdown (restart, pg_terminate_backend), crash, not yet up
_SERVER_GONE = {"57P01", "57P02", "57P03"}


def kind_of(exc: BaseException) -> FailureKind:
    if is_lock_timeout(exc):
        return FailureKind.LOCK_TIMEOUT
    code = sqlstate(exc)
    if code == QUERY_CANCELED:
        # the same SQLSTATE means a statement_timeout, or a cancel request (Ctrl-C, pg_cancel_backend)
        return FailureKind.INTERRUPTED if "user request" in str(exc) else FailureKind.STATEMENT_TIMEOUT
    if code in _SERVER_GONE or (code or "").startswith("08") or getattr(exc, "connection_invalidated", False):
        return FailureKind.CONNECTION_LOST
    return FailureKind.ERROR


def message_of(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    if isinstance(exc, AssertionError) and not str(exc):
        text = (
            "AssertionError inside Alembic: env.py probably handed Alembic a connection already inside a "
            "transaction, which autocommit_block() can't use"
        )
    return redact(f"{type(original).__name__}: {text}")


def statement_of(exc: BaseException | None) -> str | None:
    statement = getattr(exc, "statement", None)
    return redact(str(statement))[:STATEMENT_TEXT_LIMIT] if statement else None
