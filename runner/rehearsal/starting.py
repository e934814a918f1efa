"""A rehearsal's starting state: the fresh database migrated to the starting revision, then filled with rows.

Migrating goes through the application's own env.py (``planning.migrate``), from
base to the revision production is at, so the rehearsal starts where production
does. A filler (``--fill module:function``, the example's ``fill.py`` is one) is
called as ``function(conninfo, scale)``: ``conninfo`` is the keyword arguments
``psycopg.connect`` takes for the database, ``scale`` the operator's ``--scale``;
it may return the row counts it made (``{"providers": 20000, ...}``), so lock and
rewrite timings are measured on tables of a known size.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from runner.errors import ConfigError, InvalidInput
from runner.planning.app_errors import error_text
from runner.planning.migrate import upgrade_to
from runner.planning.project import AlembicProject
from runner.planning.wrapper import resolve_function
from runner.target import DatabaseTarget

PURPOSE = "the rehearsal's starting state can't be built"


class StartingStateError(InvalidInput):
    """The rehearsal's starting state could not be made (a filler, a schema that can't be cloned)."""


def migrate_to(project: AlembicProject, target: DatabaseTarget, revision: str) -> tuple[str, ...]:
    """Upgrade the fresh ``target`` from base to ``revision`` (an id, ``head`` or ``heads``); the revisions applied."""
    if revision == "base":
        return ()
    return upgrade_to(project, target, revision, purpose=PURPOSE)


@dataclass(frozen=True)
class Filled:
    """What a filler made: its name, the scale, the rows per table it reported, and how long it took."""

    spec: str
    scale: int
    counts: tuple[tuple[str, int], ...]
    duration_ms: int

    def describe(self) -> str:
        made = ", ".join(f"{count:,} {table}" for table, count in self.counts)
        return f"{self.spec} at scale {self.scale:,}: {made or 'no counts reported'} in {self.duration_ms} ms"

    def as_event(self) -> dict[str, object]:
        return {
            "filler": self.spec,
            "scale": self.scale,
            "counts": dict(self.counts),
            "duration_ms": self.duration_ms,
        }


def fill(spec: str, target: DatabaseTarget, scale: int) -> Filled:
    """Call the filler ``spec`` names on ``target`` at ``scale``."""
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ConfigError(f"--scale {scale!r} is not a whole number of at least 1.")
    function = resolve_function(spec, option="--fill")
    started = time.monotonic()
    try:
        counts = function(target.connect_kwargs(), scale)
    except Exception as exc:  # the application's code: any failure
        raise StartingStateError(
            f"--fill {spec} failed on {target.display} at scale {scale}: {error_text(exc)}. The rehearsal did not "
            "start."
        ) from None
    return Filled(spec, scale, _counts(spec, counts), round((time.monotonic() - started) * 1000))


def _counts(spec: str, counts: object) -> tuple[tuple[str, int], ...]:
    if counts is None:
        return ()
    if not isinstance(counts, Mapping) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in counts.items()
    ):
        raise StartingStateError(
            f"--fill {spec} returned a {type(counts).__name__}; a filler returns None or a mapping of table "
            "names to the rows it made."
        )
    return tuple(counts.items())
