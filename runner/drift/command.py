"""``runner drift``, without the command line: compare a database with another, the code head or the models.

``drift(source, target)`` is what a Python caller uses; the CLI only parses its
arguments, calls it and renders the ``DriftResult``. The source is the database
examined; suggested SQL would run there to make it match the target. With the
Alembic project at hand, the source's pending revisions are checked against its
real schema (``relevance.conflicts``), and when the target is the code head each
difference a pending revision makes is marked with that revision.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass, replace
from typing import Any

from runner.database import connections as db
from runner.drift import snapshot
from runner.drift.catalog import CatalogLimits
from runner.drift.compare import Comparison, compare
from runner.drift.head import HeadDatabase, throwaway_head
from runner.drift.objects import SchemaSnapshot
from runner.drift.relevance import Conflict, conflicts, explain
from runner.errors import ConfigError, ExitCode, RunnerError
from runner.lint.statements import collect
from runner.planning.project import AlembicProject
from runner.target import DatabaseTarget

ENV_PREFIX = "env:"


@dataclass(frozen=True)
class DriftResult:
    source: str  # how the operator named each side (env:VAR, the masked URL, "head", "models ...")
    target: str
    comparison: Comparison
    conflicts: tuple[Conflict, ...] = ()
    pending: tuple[str, ...] = ()  # the source's pending revisions, checked for conflicts
    notes: tuple[str, ...] = ()  # what could not be done, and why (the comparison itself stands)

    @property
    def blocking(self) -> tuple[Conflict, ...]:
        return tuple(c for c in self.conflicts if c.blocks)

    @property
    def drift(self) -> bool:
        return bool(self.comparison.differences) or bool(self.blocking)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.DRIFT_FOUND if self.drift else ExitCode.DONE

    def as_json(self) -> dict[str, Any]:
        differences = self.comparison.differences
        return {
            "source": self.source,
            "target": self.target,
            "drift": self.drift,
            "summary": {
                "differences": len(differences),
                "explained_by_pending": sum(1 for d in differences if d.explained_by),
                "conflicts": len(self.conflicts),
                "blocking_conflicts": len(self.blocking),
            },
            "differences": [d.as_json() for d in differences],
            "pending": list(self.pending),
            "conflicts": [c.as_json() for c in self.conflicts],
            "skipped": {
                "source": [{"what": s.what, "reason": s.reason} for s in self.comparison.skipped_source],
                "target": [{"what": s.what, "reason": s.reason} for s in self.comparison.skipped_target],
            },
            "notes": list(self.notes),
        }


def resolve(spec: str, environ: Mapping[str, str] | None = None) -> DatabaseTarget:
    """``env:VAR`` (the variable holds the URL) or a URL; a ConfigError names what is wrong."""
    if not spec.startswith(ENV_PREFIX):
        return DatabaseTarget.parse(spec, source="the database URL")
    variable = spec[len(ENV_PREFIX) :]
    value = (os.environ if environ is None else environ).get(variable)
    if not variable or not value:
        raise ConfigError(f"{spec}: the environment variable {variable or '(no name)'} is not set.")
    return DatabaseTarget.parse(value, source=spec)


def drift(
    source: DatabaseTarget,
    target: DatabaseTarget | None = None,
    *,
    project: AlembicProject | None = None,
    against_head: bool = False,
    against_models: str | None = None,
    labels: tuple[str, str] | None = None,
    head_database: HeadDatabase = throwaway_head,
    limits: CatalogLimits = snapshot.DEFAULT_LIMITS,
    version_table: db.VersionTable | None = None,
) -> DriftResult:
    """Compare ``source`` with exactly one of ``target``, the code head, or the models ``module:metadata``."""
    if sum((target is not None, against_head, against_models is not None)) != 1:
        raise ConfigError(
            "Compare the source with exactly one of: a TARGET database, --against-head, --against-models."
        )
    if against_head and project is None:
        raise ConfigError(
            "--against-head needs the Alembic project (-c alembic.ini) to build the code head from."
        )
    source_label = labels[0] if labels else source.display
    mine = snapshot.read(source, limits=limits)
    theirs: SchemaSnapshot | None = None
    if against_models is not None:
        from runner.drift import models

        comparison = models.compare_models(source, models.load_metadata(against_models), limits)
        target_label = f"models {against_models}"
    elif against_head:
        assert project is not None
        with head_database(project) as head:
            theirs = snapshot.read(head, limits=limits)
        comparison = compare(mine, theirs)
        target_label = f"head {', '.join(project.heads)}"
    else:
        assert target is not None
        theirs = snapshot.read(target, limits=limits)
        comparison = compare(mine, theirs)
        target_label = labels[1] if labels else target.display
    notes = _version_note(mine, theirs)
    if project is None:
        return DriftResult(source_label, target_label, comparison, notes=notes)
    table = version_table or db.VersionTable()
    at_head = against_head or (
        target is not None and _revision(target, table) == tuple(sorted(project.heads))
    )
    return _with_plan(
        DriftResult(source_label, target_label, comparison, notes=notes),
        project,
        source,
        mine,
        theirs,
        at_head,
        table,
    )


def _with_plan(
    result: DriftResult,
    project: AlembicProject,
    source: DatabaseTarget,
    mine: SchemaSnapshot,
    theirs: SchemaSnapshot | None,
    at_head: bool,
    table: db.VersionTable,
) -> DriftResult:
    """Check the source's pending revisions against its schema; attribute differences to them."""
    try:
        pending = project.pending(_revision(source, table), "heads")
    except RunnerError as error:
        return replace(result, notes=(*result.notes, f"The pending plan was not checked: {error}"))
    if not pending:
        return result
    steps = collect(project, pending, version_table=str(table))
    notes = result.notes + tuple(
        f"{step.revision.revision} could not be rendered offline ({step.render_error}); its steps were not checked."
        for step in steps
        if step.render_error
    )
    comparison = explain(result.comparison, steps) if at_head else result.comparison
    found = conflicts(steps, mine, reference=theirs if at_head else None)
    return DriftResult(
        result.source, result.target, comparison, found, tuple(r.revision for r in pending), notes
    )


def _version_note(mine: SchemaSnapshot, theirs: SchemaSnapshot | None) -> tuple[str, ...]:
    """Each server prints definitions its own way: a different major version may differ in form only."""
    if theirs is None or not mine.server_version or not theirs.server_version:
        return ()
    major, other = mine.server_version // 10000, theirs.server_version // 10000
    if major == other:
        return ()
    return (
        f"The source runs PostgreSQL {major} and the target {other}: definitions are printed by each server, so "
        "some may differ in form only.",
    )


def _revision(target: DatabaseTarget, table: db.VersionTable) -> tuple[str, ...]:
    with closing(db.connect(target, snapshot.APPLICATION_NAME)) as conn:
        return tuple(sorted(db.read_heads(conn, table)))
