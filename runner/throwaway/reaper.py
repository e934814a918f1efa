"""Reaping what killed runs left: every marker whose owner is gone, cleaned up by kind.

A cluster's postmaster is stopped and its directory removed; a container is
removed; a server's temporary databases are dropped. What can't be reaped now
(a server that does not answer, no Docker engine) keeps its marker for a later
run, and is reported rather than raised: reaping never stops a new rehearsal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from runner.redact import redact
from runner.target import DatabaseTarget
from runner.throwaway.cluster import remove_cluster
from runner.throwaway.container import remove_container
from runner.throwaway.markers import Marker, MarkerBook
from runner.throwaway.server import drop_abandoned


@dataclass(frozen=True)
class Reaped:
    """One abandoned target: what it was, whose, and what was done about it."""

    what: str
    owner_pid: int
    done: bool
    detail: str

    def describe(self) -> str:
        if self.done:
            return f"reaped the {self.what} left by process {self.owner_pid}: {self.detail}"
        return f"could not reap the {self.what} left by process {self.owner_pid} ({self.detail}); a later run tries again"


def _clean(marker: Marker, servers: Sequence[DatabaseTarget]) -> str:
    if marker.kind == "local":
        return remove_cluster(marker)
    if marker.kind == "container":
        return remove_container(marker)
    if marker.kind == "server":
        return drop_abandoned(marker, servers)
    return f"unknown kind {marker.kind!r}; marker removed"


def reap_abandoned(
    markers: MarkerBook | None = None, *, servers: Sequence[DatabaseTarget] = ()
) -> tuple[Reaped, ...]:
    """Clean up after every run that died holding a throwaway target; ``servers`` lend their passwords."""
    book = markers or MarkerBook.default()
    done = []
    for path, marker in book.abandoned():
        try:
            detail = _clean(marker, servers)
        except Exception as exc:  # a server or Docker engine that does not answer: try again later
            book.release(path, marker)
            done.append(
                Reaped(marker.describe(), marker.owner_pid, False, redact(f"{type(exc).__name__}: {exc}"))
            )
            continue
        book.remove(path)
        done.append(Reaped(marker.describe(), marker.owner_pid, True, detail))
    return tuple(done)
