"""What the playbook says to do when a step or a check fails: a pure function.

``decide`` looks only at what went wrong, the policy that applies, and where
the run stands; it does no I/O, so every branch is tested without a database.
It returns the executor's own ``Decision``; the executor carries it out, and
it alone refuses a rollback that would pass through a one-way step (the
hooks tell it which steps those are).

The branches that turn a ``rollback`` into a ``halt`` are the ones where
rolling back would be wrong or pointless: the failed step ran outside a
transaction (it may have left part of its work, such as an INVALID index, and
downgrading around it is guesswork), the run had applied nothing yet, or the
rollback target is not below the database's current revision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from runner.run.decision import Action, Decision


class PolicyAction(StrEnum):
    HALT = "halt"
    ROLLBACK = "rollback"
    RESTORE = "restore"


@dataclass(frozen=True)
class FailurePolicy:
    """One on_failure setting, and where in the playbook it was set."""

    action: PolicyAction = PolicyAction.HALT
    rollback_to: str | None = None
    source: str = "on_failure"

    def describe(self) -> str:
        if self.action is PolicyAction.ROLLBACK and self.rollback_to:
            return f"rollback to {self.rollback_to}"
        return str(self.action)


class TroubleKind(StrEnum):
    STEP_FAILED = "step_failed"  # the step itself failed; its transaction rolled back
    CHECK_FAILED = "check_failed"  # a check after a committed step failed
    RUN_CHECK_FAILED = "run_check_failed"  # a check after the last step failed


@dataclass(frozen=True)
class Trouble:
    kind: TroubleKind
    revision: str | None
    detail: str  # what went wrong, as a clause
    non_transactional: bool = False  # the failed step runs outside a transaction


@dataclass(frozen=True)
class RunState:
    """Where the run stands when the trouble happened."""

    prior_heads: tuple[str, ...]
    heads: tuple[str, ...]
    applied: tuple[str, ...]  # steps this run applied, in order
    below: frozenset[str]  # revisions a downgrade from ``heads`` can reach


def decide(trouble: Trouble, policy: FailurePolicy, state: RunState) -> Decision:
    """The decision for ``trouble`` under ``policy``; reasons are clauses without a final period."""
    what = trouble.detail
    said = f"the playbook's {policy.source} is {policy.describe()}"
    if policy.action is PolicyAction.HALT:
        return Decision(Action.HALT, f"{what}; {said}")
    if policy.action is PolicyAction.RESTORE:
        return Decision(
            Action.RESTORE,
            f"{what}; {said}, so the database is to be restored from the snapshot taken before this run",
        )
    if trouble.kind is TroubleKind.STEP_FAILED and trouble.non_transactional:
        return Decision(
            Action.HALT,
            f"{what}; {said}, but {trouble.revision} runs outside a transaction and may have left part of its "
            "work behind (an INVALID index, for one), so nothing was rolled back automatically",
        )
    if policy.rollback_to:
        if policy.rollback_to in state.heads:
            return Decision(
                Action.HALT,
                f"{what}; {said}, and the database is already at {policy.rollback_to}, so there was nothing "
                "to roll back",
            )
        if policy.rollback_to not in state.below:
            return Decision(
                Action.HALT,
                f"{what}; {said}, but {policy.rollback_to} is not below the database's revision "
                f"{_fmt(state.heads)}, so no rollback was attempted",
            )
        return Decision(Action.ROLLBACK, f"{what}; {said}", rollback_to=policy.rollback_to)
    if not state.applied:
        return Decision(
            Action.HALT,
            f"{what}; {said}, but this run had not applied any step, so the database is still at its prior "
            f"revision {_fmt(state.prior_heads)}",
        )
    return Decision(Action.ROLLBACK, f"{what}; {said}")


def _fmt(heads: Sequence[str]) -> str:
    return ", ".join(heads) or "<base>"
