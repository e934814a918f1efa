"""The schema before each step's upgrade: what the rollback drill compares each downgrade with.

A rehearsal records it as the run goes: ``BaselineRecorder.before(revision)``
from the run's before-step hook reads the target's schema on a session of its
own (``runner.drift.snapshot``). The runner's bookkeeping table and the version
table are left out: they are no part of what a step changes (Alembic keeps its
version table after a downgrade to base). The first reading of a revision is
kept, so a retried step is compared with the schema before its first attempt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from runner.database.connections import VersionTable
from runner.drift import snapshot
from runner.drift.objects import SchemaSnapshot
from runner.target import DatabaseTarget

SchemaReader = Callable[[DatabaseTarget], SchemaSnapshot]


def schema_reader(version_table: VersionTable | None = None) -> SchemaReader:
    """Read a schema as the drill compares it: without runner_history and the version table."""
    table = version_table or VersionTable()
    qualified = str(table) if table.schema else f"public.{table.name}"
    excluded = (*snapshot.DEFAULT_EXCLUDED, qualified)

    def read(target: DatabaseTarget) -> SchemaSnapshot:
        return snapshot.read(target, exclude_tables=excluded)

    return read


@dataclass(frozen=True)
class Baselines:
    """The schema recorded before each step's upgrade, by revision, in the order recorded."""

    before: tuple[tuple[str, SchemaSnapshot], ...] = ()

    def of(self, revision: str) -> SchemaSnapshot | None:
        return next((schema for rev, schema in self.before if rev == revision), None)

    @property
    def revisions(self) -> tuple[str, ...]:
        return tuple(rev for rev, _schema in self.before)


class BaselineRecorder:
    """Call ``before(revision)`` just before each step's upgrade; ``baselines`` is what the drill takes."""

    def __init__(self, target: DatabaseTarget, *, read: SchemaReader | None = None) -> None:
        self.target = target
        self.read = read or schema_reader()
        self._before: dict[str, SchemaSnapshot] = {}

    def before(self, revision: str) -> None:
        if revision not in self._before:
            self._before[revision] = self.read(self.target)

    @property
    def baselines(self) -> Baselines:
        return Baselines(tuple(self._before.items()))
