"""What the runner does next when a step, a check or the window says stop."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    CONTINUE = "continue"
    HALT = "halt"  # stay at the last completed revision
    ROLLBACK = "rollback"  # downgrade this run's steps (or to ``rollback_to``)
    RESTORE = "restore"  # the database must be restored from the snapshot


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str
    rollback_to: str | None = None  # ROLLBACK only; None means the run's prior revision
    next_step: str | None = None  # what the operator should do next, when the decider knows better

    @property
    def stops(self) -> bool:
        return self.action is not Action.CONTINUE

    def as_fields(self) -> dict[str, str | None]:
        return {
            "action": str(self.action),
            "reason": self.reason,
            "rollback_to": self.rollback_to,
            "next_step": self.next_step,
        }


CONTINUE = Decision(Action.CONTINUE, "")


def halt(reason: str) -> Decision:
    return Decision(Action.HALT, reason)
