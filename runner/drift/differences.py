"""One difference between two schemas, as a value: what differs, where, and what would reconcile it.

The two sides are called *source* (the database examined, where a suggested SQL
would run) and *target* (what it is compared with: another database, a database
at the code head, or the application's models).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ONLY_IN_SOURCE = "only_in_source"
ONLY_IN_TARGET = "only_in_target"
CHANGED = "changed"
RENAMED = "renamed"
# The order differences are reported in: containers before what they contain.
KIND_ORDER = (
    "schema",
    "extension",
    "table",
    "column",
    "view",
    "index",
    "constraint",
    "trigger",
    "enum",
    "domain",
    "sequence",
    "routine",
    "other",
)
PLURALS = {"index": "indexes", "schema": "schemas"}


def plural(kind: str, count: int = 2) -> str:
    if count == 1:
        return kind
    return PLURALS.get(kind, kind + "s")


@dataclass(frozen=True)
class Change:
    """One attribute of an object that has a different value on each side."""

    attribute: str
    source: Any
    target: Any


@dataclass(frozen=True)
class Difference:
    kind: str  # one of KIND_ORDER
    name: str  # the object's qualified name (on the source side, for a rename)
    status: str  # ONLY_IN_SOURCE, ONLY_IN_TARGET, CHANGED or RENAMED
    changes: tuple[Change, ...] = ()
    contains: tuple[tuple[str, int], ...] = ()  # what a one-sided object brings with it, by kind
    sql: str | None = None  # a suggestion that would make the source match the target; never run
    explained_by: str | None = None  # the pending revision that makes exactly this change
    source_object: Any = field(default=None, compare=False, repr=False)
    target_object: Any = field(default=None, compare=False, repr=False)

    @property
    def order(self) -> tuple[int, str]:
        kind = self.kind if self.kind in KIND_ORDER else "other"
        return KIND_ORDER.index(kind), self.name

    @property
    def new_name(self) -> str | None:
        for change in self.changes:
            if change.attribute == "name":
                return str(change.target)
        return None

    def describe(self, left: str = "source", right: str = "target") -> str:
        """One sentence: ``column public.t.c: default is '1' in the source, '2' in the target``."""
        if self.status in (ONLY_IN_SOURCE, ONLY_IN_TARGET):
            side = left if self.status == ONLY_IN_SOURCE else right
            with_ = f" (with {self.describe_contents()})" if self.contains else ""
            return f"{self.kind} {self.name} is only in the {side} database{with_}"
        if self.status == RENAMED:
            rest = [c for c in self.changes if c.attribute != "name"]
            also = "; " + _changes(rest, left, right) if rest else ""
            return f"{self.kind} {self.name} in the {left} is {self.new_name} in the {right} (same definition){also}"
        return f"{self.kind} {self.name}: {_changes(self.changes, left, right)}"

    def describe_contents(self) -> str:
        return ", ".join(f"{count} {plural(kind, count)}" for kind, count in self.contains)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "status": self.status,
            "changes": [
                {"attribute": c.attribute, "source": c.source, "target": c.target} for c in self.changes
            ],
            "contains": dict(self.contains),
            "sql": self.sql,
            "explained_by": self.explained_by,
        }


def _changes(changes: tuple[Change, ...] | list[Change], left: str, right: str) -> str:
    return "; ".join(
        f"{c.attribute} is {c.source!r} in the {left}, {c.target!r} in the {right}" for c in changes
    )
