"""The failure policy as a pure function: every branch, without a database."""

from __future__ import annotations

import pytest

from runner.playbook.policy import FailurePolicy, PolicyAction, RunState, Trouble, TroubleKind, decide
from runner.run.decision import Action

CHAIN_STATE = RunState(
    prior_heads=("20260115_0200",),
    heads=("20260131_0000",),
    applied=("20260115_0300", "20260127_0100", "7702d353e5b8", "20260131_0000"),
    below=frozenset({"7702d353e5b8", "20260127_0100", "20260115_0300", "20260115_0200", "20260108_0100"}),
)
CHECK = Trouble(TroubleKind.CHECK_FAILED, "20260131_0000", "a check after 20260131_0000 failed: x")
STEP = Trouble(TroubleKind.STEP_FAILED, "20260131_0000", "step 20260131_0000 failed: LockNotAvailable")


def test_halt_says_what_failed_and_which_setting_decided():
    """halt keeps the database where it is and names the playbook key that chose it."""
    decision = decide(
        CHECK, FailurePolicy(PolicyAction.HALT, source="steps.20260131_0000.on_failure"), CHAIN_STATE
    )
    assert decision.action is Action.HALT
    assert decision.reason == (
        "a check after 20260131_0000 failed: x; the playbook's steps.20260131_0000.on_failure is halt"
    )


def test_restore_is_recorded_as_a_restore_decision():
    """restore becomes the executor's RESTORE (exit 7); the AWS work is a later step's."""
    decision = decide(STEP, FailurePolicy(PolicyAction.RESTORE), CHAIN_STATE)
    assert decision.action is Action.RESTORE
    assert decision.reason.endswith(
        "so the database is to be restored from the snapshot taken before this run"
    )


def test_rollback_goes_back_to_the_prior_revision_by_default():
    """Plain rollback leaves rollback_to empty: the executor undoes this run's steps."""
    decision = decide(CHECK, FailurePolicy(PolicyAction.ROLLBACK), CHAIN_STATE)
    assert decision.action is Action.ROLLBACK
    assert decision.rollback_to is None


def test_rollback_to_a_revision_below_the_database():
    """rollback_to names the revision to stop at."""
    policy = FailurePolicy(PolicyAction.ROLLBACK, "7702d353e5b8", "steps.20260131_0000.on_failure")
    decision = decide(CHECK, policy, CHAIN_STATE)
    assert (decision.action, decision.rollback_to) == (Action.ROLLBACK, "7702d353e5b8")
    assert "rollback to 7702d353e5b8" in decision.reason


def test_rollback_to_the_current_revision_halts():
    """A step failure leaves the database at the step's parent; rolling back to it is nothing to do."""
    state = RunState(("20260115_0200",), ("7702d353e5b8",), ("20260115_0300",), frozenset({"20260115_0200"}))
    decision = decide(STEP, FailurePolicy(PolicyAction.ROLLBACK, "7702d353e5b8"), state)
    assert decision.action is Action.HALT
    assert "already at 7702d353e5b8, so there was nothing to roll back" in decision.reason


def test_rollback_to_a_revision_not_below_halts():
    """A target above the database (or on another branch) is never attempted."""
    state = RunState(("20260115_0200",), ("20260115_0300",), ("20260115_0300",), frozenset({"20260115_0200"}))
    decision = decide(STEP, FailurePolicy(PolicyAction.ROLLBACK, "7702d353e5b8"), state)
    assert decision.action is Action.HALT
    assert (
        "7702d353e5b8 is not below the database's revision 20260115_0300, so no rollback was attempted"
        in (decision.reason)
    )


def test_rollback_with_nothing_applied_halts():
    """A first step that fails rolled itself back: there is nothing for a rollback to undo."""
    state = RunState(("20260115_0200",), ("20260115_0200",), (), frozenset({"20260108_0100"}))
    decision = decide(STEP, FailurePolicy(PolicyAction.ROLLBACK), state)
    assert decision.action is Action.HALT
    assert decision.reason.endswith("so the database is still at its prior revision 20260115_0200")


def test_a_failed_non_transactional_step_is_never_rolled_back_around():
    """Partial work outside a transaction (an INVALID index) means a human looks before anything moves."""
    trouble = Trouble(TroubleKind.STEP_FAILED, "20260201_0000", "step failed", non_transactional=True)
    decision = decide(trouble, FailurePolicy(PolicyAction.ROLLBACK), CHAIN_STATE)
    assert decision.action is Action.HALT
    assert "runs outside a transaction and may have left part of its work behind" in decision.reason


def test_a_failed_check_after_a_non_transactional_step_still_rolls_back():
    """The step committed whole; only a failure inside it leaves partial work."""
    trouble = Trouble(TroubleKind.CHECK_FAILED, "20260131_0000", "check failed", non_transactional=True)
    assert decide(trouble, FailurePolicy(PolicyAction.ROLLBACK), CHAIN_STATE).action is Action.ROLLBACK


@pytest.mark.parametrize("kind", list(TroubleKind))
def test_every_kind_of_trouble_gets_a_decision_under_every_policy(kind):
    """No combination falls through: the function is total."""
    for action in PolicyAction:
        decision = decide(Trouble(kind, "20260131_0000", "x"), FailurePolicy(action), CHAIN_STATE)
        assert decision.stops
        assert decision.reason.startswith("x; the playbook's on_failure is")
