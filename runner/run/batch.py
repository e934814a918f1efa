"""The live state of one batch of steps, private to the stepper and the code it hands to Alembic.

Alembic calls back into the runner from inside env.py (the migration function,
``on_version_apply``, the connection's statement events), so where the batch has
got to must be kept somewhere those callbacks can reach. It is kept here and
nowhere else: hooks only ever see a ``Progress`` snapshot of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from runner.guards import Guards
from runner.planning.revisions import Revision
from runner.run.connection_guard import SessionCheck
from runner.run.decision import Decision
from runner.run.steps import Direction, Progress, StepOutcome


@dataclass
class InFlight:
    """The step Alembic is running now (one attempt of it)."""

    revision: Revision
    prior: tuple[str, ...]
    attempt: int
    started: float = field(default_factory=time.monotonic)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    statements: list[dict[str, Any]] = field(default_factory=list)
    heads_after: tuple[str, ...] | None = (
        None  # set inside the step's transaction, once its version row is written
    )

    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)


@dataclass
class BatchState:
    """Revisions to apply in one direction, and where the batch has got to."""

    direction: Direction
    todo: list[Revision]
    heads: tuple[str, ...]
    done: list[StepOutcome] = field(default_factory=list)
    stop: Decision | None = None
    attempts: dict[str, int] = field(default_factory=dict)
    current: InFlight | None = None
    # env.py's connection, once it has been guarded
    session: SessionCheck | None = None
    session_guards: Guards | None = None
    cancel: Callable[[], None] | None = None  # cancels the statement running on env.py's connection
    outside: list[dict[str, Any]] = field(default_factory=list)  # what env.py's connection ran between steps

    def progress(self) -> Progress:
        return Progress(self.direction, self.heads, tuple(self.done), tuple(self.todo))

    def begin(self, revision: Revision) -> InFlight:
        attempt = self.attempts.get(revision.revision, 0) + 1
        self.attempts[revision.revision] = attempt
        self.current = InFlight(revision, self.heads, attempt)
        return self.current

    def commit(self) -> tuple[InFlight, StepOutcome]:
        """The step in flight committed: move it to ``done``."""
        current = self.current
        assert current is not None and current.heads_after is not None
        outcome = StepOutcome(
            current.revision.revision, self.direction, current.elapsed_ms(), current.attempt
        )
        self.heads = current.heads_after
        self.todo.pop(0)
        self.done.append(outcome)
        self.current = None
        return current, outcome

    def statement_sink(self) -> list[dict[str, Any]]:
        """Where a statement env.py's connection just ran belongs: the step in flight, or between steps."""
        return self.current.statements if self.current is not None else self.outside
