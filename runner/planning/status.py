"""Where a database stands against the code: current revision(s), heads, pending chain."""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from typing import Any

from runner.database import connections, runlock
from runner.database.unfinished import UnfinishedRun, unfinished_runs
from runner.planning.project import AlembicProject
from runner.planning.revisions import Revision
from runner.target import DatabaseTarget


@dataclass(frozen=True)
class Status:
    target: str
    current: tuple[str, ...]
    heads: tuple[str, ...]
    to: tuple[str, ...]
    pending: tuple[Revision, ...]
    unfinished: tuple[UnfinishedRun, ...] = ()  # runs that died without finishing
    in_progress: runlock.LockHolder | None = None  # a run holding the lock right now

    @property
    def up_to_date(self) -> bool:
        return not self.pending

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "current": list(self.current),
            "heads": list(self.heads),
            "to": list(self.to),
            "up_to_date": self.up_to_date,
            "pending": [
                {
                    "revision": r.revision,
                    "down_revision": r.down_revision,
                    "message": r.message,
                    "downgrade": str(r.downgrade),
                    "reversible": r.reversible,
                }
                for r in self.pending
            ],
            "unfinished": [run.as_json() for run in self.unfinished],
            "run_in_progress": (
                {"run_id": runlock.run_id_of(self.in_progress), "holder": self.in_progress.describe()}
                if self.in_progress
                else None
            ),
        }


def read_status(
    project: AlembicProject,
    target: DatabaseTarget | None,
    *,
    to: str = "heads",
    version_table: connections.VersionTable | None = None,
    from_revision: str | None = None,
) -> Status:
    """Read the current revision from the database, or take ``from_revision`` (offline plan)."""
    unfinished: list[UnfinishedRun] = []
    holder: runlock.LockHolder | None = None
    if from_revision is not None:
        current = () if from_revision == "base" else project.resolve(from_revision)
        where = f"(offline, from {from_revision})"
    else:
        assert target is not None
        with closing(connections.connect(target)) as conn:
            current = connections.read_heads(conn, version_table or connections.VersionTable())
            holder = runlock.holder(conn)
            alive = runlock.run_id_of(holder)
            unfinished = unfinished_runs(conn, [alive] if alive else [])
        where = target.display
    pending = project.pending(current, to)
    return Status(
        where, tuple(current), project.heads, project.resolve(to), tuple(pending), tuple(unfinished), holder
    )
