"""What a step is while it runs, and how it ended: the values the stepper and the run share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from runner.decision import Decision
from runner.errors import RunnerError
from runner.project import Revision
from runner.redact import redact
from runner.retry import QUERY_CANCELED, LockRetryPolicy, is_lock_timeout, sqlstate
from runner.session import STATEMENT_TEXT_LIMIT, Guards, SessionCheck

CANCELLED_MESSAGE = "interrupted: the statement was cancelled on request (Ctrl-C here, or pg_cancel_backend from another session)"


class Direction(StrEnum):
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"


class FailureKind(StrEnum):
    LOCK_TIMEOUT = "lock_timeout"
    STATEMENT_TIMEOUT = "statement_timeout"
    ERROR = "error"  # the migration or env.py raised
    REFUSED = "refused"  # a guard refused before the step ran
    INTERRUPTED = "interrupted"
    NO_PROGRESS = "no_progress"  # env.py returned without running the step


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


# Hooks the run supplies: guards for a step, and a decision before / after it.
GuardsFor = Callable[[Revision], Guards]
RetryFor = Callable[[Revision], LockRetryPolicy]
StepHook = Callable[[Revision, Direction], Decision | None]


@dataclass
class Batch:
    """Revisions to apply in one direction, and where the run has got to."""

    direction: Direction
    todo: list[Revision]
    heads: tuple[str, ...]
    done: list[StepOutcome] = field(default_factory=list)
    stop: Decision | None = None
    # the step in flight
    current: Revision | None = None
    current_prior: tuple[str, ...] = ()
    current_started: float = 0.0
    current_started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    heads_after: tuple[str, ...] | None = None
    attempts: dict[str, int] = field(default_factory=dict)
    session: SessionCheck | None = None
    session_guards: Guards | None = None
    statements: list[dict[str, Any]] = field(default_factory=list)  # run by the step in flight


def kind_of(exc: BaseException) -> FailureKind:
    if is_lock_timeout(exc):
        return FailureKind.LOCK_TIMEOUT
    if sqlstate(exc) == QUERY_CANCELED:
        # the same SQLSTATE means a statement_timeout, or a cancel request (Ctrl-C, pg_cancel_backend)
        return FailureKind.INTERRUPTED if "user request" in str(exc) else FailureKind.STATEMENT_TIMEOUT
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
