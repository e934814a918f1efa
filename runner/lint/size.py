"""A table's size as one step of the plan meets it, and how messages say it.

Three cases, because severity means harm on this database: the database has the
table (measured), an earlier step of this run creates it (empty when this step
runs), or there is no database to ask (assumed large).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from runner.lint.estimate import size_text
from runner.lint.names import TableRef
from runner.lint.sizing import TableStats


class Origin(StrEnum):
    MEASURED = "measured"  # the database has the table: its size is known
    NEW = "new"  # an earlier step of this run creates it (or the database lacks it): empty
    ASSUMED = "assumed"  # no database to ask: assumed large


@dataclass(frozen=True)
class Size:
    table: TableRef
    origin: Origin
    stats: TableStats | None = None
    created_by: str | None = None

    @property
    def empty(self) -> bool:
        return self.origin is Origin.NEW or (self.stats is not None and self.stats.empty)

    @property
    def rows(self) -> int | None:
        if self.origin is Origin.NEW:
            return 0
        return self.stats.rows if self.stats else None

    def describe(self) -> str:
        """One clause about the table's size, phrased for the middle of a sentence."""
        name = str(self.table)
        if self.origin is Origin.ASSUMED:
            return f"the size of {name} is unknown without a database URL, so it is assumed large"
        if self.origin is Origin.NEW:
            if self.created_by:
                return f"{name} is created by {self.created_by} earlier in this run, so it is empty"
            return f"{name} does not exist in this database yet, so it is empty"
        assert self.stats is not None
        if self.stats.empty:
            return f"{name} is empty"
        text = f"{name} has about {self.stats.rows:,} rows, {size_text(self.stats.total_bytes)} with indexes"
        if self.stats.writes_per_s is not None and self.stats.writes_per_s >= 0.1:
            rate = f"{self.stats.writes_per_s:,.1f}".removesuffix(".0")
            text += f", and averages about {rate} writes/s"
        return text


def joined_names(names: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
