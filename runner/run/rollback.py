"""Rolling a run back: its own steps (or down to a named revision), one at a time, or not at all.

A rollback that would pass through a one-way step (an enum value added, a
downgrade that does nothing) is refused up front, before any downgrade, so the
database stays at a known revision instead of being partly unwound before a
restore. Otherwise the downgrades run through the same stepper, under the same
guards, as the upgrades did.
"""

from __future__ import annotations

from runner.audit import AuditLog
from runner.planning.project import AlembicProject
from runner.run.decision import Decision
from runner.run.ending import Ending, fmt, what_happened
from runner.run.hooks import RunHooks, RunView
from runner.run.result import RunStatus
from runner.run.stepper import Stepper
from runner.run.steps import BatchResult, Direction


def roll_back(
    up: BatchResult,
    decision: Decision,
    *,
    project: AlembicProject,
    hooks: RunHooks,
    audit: AuditLog,
    stepper: Stepper,
    view: RunView,
) -> Ending:
    """Undo this run's steps (or down to ``decision.rollback_to``), one at a time, under the same guards."""
    if decision.rollback_to:
        path = project.downgrade_path(up.heads, decision.rollback_to)
    else:
        applied = set(up.progress.applied)
        path = [r for r in reversed(view.plan) if r.revision in applied]
    failure = up.failure
    what = what_happened(failure, decision)
    one_way = [(r, why) for r in path if (why := hooks.irreversible(r))]
    if one_way:
        revision, why = one_way[0]
        audit.emit("rollback_refused", revision=revision.revision, reason=why)
        message = (
            f"{what} The database is at {fmt(up.heads)}, the last completed step. Rolling back would pass "
            f"through {revision.revision} ({revision.message}), which can't be undone: {why}. No downgrade "
            "was run: restore required."
        )
        return Ending(
            RunStatus.RESTORE_REQUIRED, up.heads, message, up=up, failure=failure, decision=decision
        )
    audit.emit("rollback_started", revisions=[r.revision for r in path])
    down = stepper.run(Direction.DOWNGRADE, path, up.heads)
    if down.failure is not None:
        ending = (
            f"The rollback then failed at {down.failure.revision}: {down.failure.message}. The database "
            f"is at {fmt(down.heads)}."
        )
        return Ending(
            RunStatus.HALTED,
            down.heads,
            f"{what} {ending}",
            up=up,
            down=down,
            failure=down.failure,
            decision=decision,
        )
    if down.stop is not None:
        ending = f"The rollback was stopped: {down.stop.reason}. The database is at {fmt(down.heads)}."
        return Ending(
            RunStatus.HALTED,
            down.heads,
            f"{what} {ending}",
            up=up,
            down=down,
            failure=failure,
            decision=down.stop,
        )
    where = " (where this run started)" if list(down.heads) == list(view.prior_heads) else ""
    ending = f"Rolled back {len(down.done)} step(s): the database is at {fmt(down.heads)}{where}."
    return Ending(
        RunStatus.ROLLED_BACK,
        down.heads,
        f"{what} {ending}",
        up=up,
        down=down,
        failure=failure,
        decision=decision,
    )
