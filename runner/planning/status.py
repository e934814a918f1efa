"""Where a database stands against the code: current revision(s), heads, pending chain."""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runner.planning.revisions import Revision

if TYPE_CHECKING:  # planning --from reads no database: psycopg is loaded only to read one
    from runner.database import runlock
    from runner.database.unfinished import UnfinishedRun
    from runner.database.version_table import VersionTable
    from runner.planning.project import AlembicProject
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
            "run_in_progress": self._in_progress_json(),
        }

    def _in_progress_json(self) -> dict[str, Any] | None:
        if self.in_progress is None:
            return None
        from runner.database.runlock import run_id_of

        return {"run_id": run_id_of(self.in_progress), "holder": self.in_progress.describe()}


def read_status(
    project: AlembicProject,
    target: DatabaseTarget | None,
    *,
    to: str = "heads",
    version_table: VersionTable | None = None,
    from_revision: str | None = None,
) -> Status:
    """Read the current revision from the database, or take ``from_revision`` (offline plan)."""
    unfinished: list[UnfinishedRun] = []
    holder: runlock.LockHolder | None = None
    if from_revision is not None:
        current = () if from_revision == "base" else project.resolve(from_revision)
        where = f"(offline, from {from_revision})"
    else:
        from runner.database import connections, runlock
        from runner.database.unfinished import unfinished_runs

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
