"""The steps a playbook applies, and revision ids as the operator wrote them.

Shared by the checks of meaning (``validate``) and of rollback paths
(``rollbacks``): both speak of "the steps from from_revision to the target",
and both refuse a revision id that is unknown or only a prefix of one.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from runner.errors import RunnerError
from runner.planning.project import AlembicProject
from runner.planning.revisions import Revision
from runner.playbook.book import Playbook
from runner.playbook.problems import Problem, Severity


@dataclass(frozen=True)
class Chain:
    """The steps the playbook will apply, oldest first, and where they start."""

    start: str | None  # from_revision, or None when the playbook does not say
    steps: tuple[Revision, ...]

    def ids(self) -> list[str]:
        return [r.revision for r in self.steps]

    def describe(self) -> str:
        ids = self.ids()
        shown = ", ".join(ids) if len(ids) <= 8 else f"{', '.join(ids[:3])}, ..., {', '.join(ids[-3:])}"
        return (
            f"the steps from {self.start or '<base>'} to {ids[-1] if ids else self.start}: {shown or 'none'}"
        )


def unknown(project: AlembicProject, revision: str, what: str) -> str:
    known = [s.revision for s in project.script.walk_revisions()]
    close = difflib.get_close_matches(revision, known, n=1, cutoff=0.7)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"{revision!r} is not {what}{hint}; the project's heads are {', '.join(project.heads)}"


def exact(project: AlembicProject, revision: str) -> str | None:
    """The full id ``revision`` names exactly, or None (unknown, or only a prefix)."""
    if not project.is_known(revision):
        return None
    full = project.script.get_revision(revision)
    return full.revision if full is not None and full.revision == revision else None


def chain_of(playbook: Playbook, project: AlembicProject, found: list[Problem]) -> Chain | None:
    spec = playbook.project
    target = spec.target_revision
    if target == "head" and len(project.heads) > 1:
        found.append(
            Problem(
                ("project", "target_revision"),
                f"head is ambiguous: the project has {len(project.heads)} heads ({', '.join(project.heads)}); "
                "name the one to upgrade to, or write heads to apply every branch",
            )
        )
        return None
    if target not in ("head", "heads") and exact(project, target) is None:
        found.append(
            Problem(("project", "target_revision"), unknown(project, target, "a revision of the project"))
        )
        return None
    start = spec.from_revision
    if start is not None and exact(project, start) is None:
        found.append(
            Problem(("project", "from_revision"), unknown(project, start, "a revision of the project"))
        )
        return None
    try:
        steps = project.pending((start,) if start else (), target)
    except RunnerError:
        found.append(
            Problem(
                ("project", "target_revision"),
                f"{target} can't be reached by upgrading from {start}: it is not a descendant of from_revision",
            )
        )
        return None
    if not steps:
        found.append(
            Problem(
                ("project", "target_revision"),
                f"there is nothing to apply from {start} to {target}",
                Severity.WARNING,
            )
        )
    return Chain(start, tuple(steps))
