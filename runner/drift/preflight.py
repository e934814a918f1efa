"""The playbook's ``preflight.no_relevant_drift``: refuse a run the target's schema would derail.

Called by the run before its first step (under the run lock, after the plan is
made): the target's schema is read on a session of its own (bounded, as every
snapshot), and the pending steps are replayed against it. A blocking conflict
refuses the run (exit 4) with every conflict named; harmless ones (an enum value
an ``IF NOT EXISTS`` step finds already there) are returned for the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence

from runner.drift import snapshot
from runner.drift.catalog import CatalogLimits
from runner.drift.relevance import Conflict, conflicts
from runner.errors import Refused
from runner.lint.statements import DEFAULT_VERSION_TABLE, StepSQL, collect
from runner.planning.project import AlembicProject
from runner.planning.revisions import Revision
from runner.target import DatabaseTarget


class RelevantDrift(Refused):
    """The target's schema would make a pending step fail or act differently; nothing was changed."""

    def __init__(self, found: Sequence[Conflict], target: str) -> None:
        self.conflicts = tuple(found)
        listed = " ".join(c.describe() for c in found)
        super().__init__(
            f"{target} has drift that matters to this plan (the playbook sets preflight.no_relevant_drift): "
            f"{listed} Nothing was changed.",
            next_step="runner drift SOURCE --against-head shows every difference; reconcile the schema (or the "
            "migration), then run the same command again.",
        )


def require_no_relevant_drift(
    project: AlembicProject,
    target: DatabaseTarget,
    revisions: Sequence[Revision],
    *,
    steps: Sequence[StepSQL] | None = None,
    version_table: str = DEFAULT_VERSION_TABLE,
    limits: CatalogLimits = snapshot.DEFAULT_LIMITS,
) -> tuple[Conflict, ...]:
    """Raise RelevantDrift on a blocking conflict; return the harmless ones.

    ``steps`` reuses steps the run has already rendered and parsed (lint's
    ``collect``); otherwise ``revisions`` are rendered here.
    """
    if not revisions:
        return ()
    parsed = list(steps) if steps is not None else collect(project, revisions, version_table=version_table)
    found = conflicts(parsed, snapshot.read(target, limits=limits))
    blocking = [c for c in found if c.blocks]
    if blocking:
        raise RelevantDrift(blocking, target.display)
    return found
