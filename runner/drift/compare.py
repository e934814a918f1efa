"""Two snapshots compared: every difference reported once, in the object it belongs to.

An object on one side only is one difference, and what it contains (a table's
columns, indexes, constraints, triggers and owned sequences; a schema's objects)
is counted in it rather than listed again. An object on both sides differs when
an attribute the server would act on differs; a definition either side could not
read is not compared. An index or a constraint that is missing under one name and
present under another with the same definition is one rename. Indexes that
enforce a constraint are compared as that constraint.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from runner.drift import reconcile
from runner.drift.differences import CHANGED, ONLY_IN_SOURCE, ONLY_IN_TARGET, RENAMED, Change, Difference
from runner.drift.objects import UNREAD, SchemaSnapshot, Skipped, compared

Key = tuple[str, str]  # (kind, name)


@dataclass(frozen=True)
class Comparison:
    differences: tuple[Difference, ...]
    skipped_source: tuple[Skipped, ...] = ()
    skipped_target: tuple[Skipped, ...] = ()

    @property
    def same(self) -> bool:
        return not self.differences


@dataclass(frozen=True)
class _Entry:
    obj: Any
    parent: Key | None


def compare(source: SchemaSnapshot, target: SchemaSnapshot) -> Comparison:
    """What differs between ``source`` and ``target``, with reconcile SQL where it is simple."""
    mine, theirs = _entries(source), _entries(target)
    found: list[Difference] = []
    contents: dict[tuple[str, str, str], dict[str, int]] = {}
    for side, here, there, status in (
        ("source", mine, theirs, ONLY_IN_SOURCE),
        ("target", theirs, mine, ONLY_IN_TARGET),
    ):
        for key in here.keys() - there.keys():
            top = _topmost_missing(key, here, there)
            if top is None:
                obj = here[key].obj
                found.append(
                    Difference(
                        key[0],
                        key[1],
                        status,
                        source_object=obj if side == "source" else None,
                        target_object=obj if side == "target" else None,
                    )
                )
            else:
                counts = contents.setdefault((status, *top), {})
                counts[key[0]] = counts.get(key[0], 0) + 1
    for key in sorted(mine.keys() & theirs.keys()):
        changes = _changes(mine[key].obj, theirs[key].obj)
        if changes:
            found.append(
                Difference(
                    key[0],
                    key[1],
                    CHANGED,
                    changes,
                    source_object=mine[key].obj,
                    target_object=theirs[key].obj,
                )
            )
    found = [_with_contents(d, contents) for d in _pair_renames(found)]
    differences = tuple(sorted((replace(d, sql=reconcile.suggest(d)) for d in found), key=lambda d: d.order))
    return Comparison(differences, source.skipped, target.skipped)


def _entries(snapshot: SchemaSnapshot) -> dict[Key, _Entry]:
    found: dict[Key, _Entry] = {("schema", s.name): _Entry(s, None) for s in snapshot.schemas}
    found.update({("extension", e.name): _Entry(e, None) for e in snapshot.extensions})
    relations: dict[str, Key] = {}
    for table in snapshot.tables:
        found[("table", table.name)] = _Entry(table, ("schema", table.schema))
        relations[table.name] = ("table", table.name)
        for column in table.columns:
            found[("column", f"{table.name}.{column.name}")] = _Entry(column, ("table", table.name))
    for view in snapshot.views:
        found[("view", view.name)] = _Entry(view, ("schema", view.schema))
        relations[view.name] = ("view", view.name)
    for kind, items in (
        ("enum", snapshot.enums),
        ("domain", snapshot.domains),
        ("routine", snapshot.routines),
    ):
        found.update({(kind, item.name): _Entry(item, ("schema", item.schema)) for item in items})
    domains = {d.name for d in snapshot.domains}
    for index in snapshot.indexes:
        if index.constraint is None:
            found[("index", index.name)] = _Entry(index, relations.get(index.table))
    for constraint in snapshot.constraints:
        parent = ("domain", constraint.on) if constraint.on in domains else relations.get(constraint.on)
        found[("constraint", constraint.name)] = _Entry(constraint, parent)
    for trigger in snapshot.triggers:
        found[("trigger", trigger.name)] = _Entry(trigger, relations.get(trigger.table))
    for sequence in snapshot.sequences:
        owner = relations.get(sequence.owned_by.rpartition(".")[0]) if sequence.owned_by else None
        found[("sequence", sequence.name)] = _Entry(sequence, owner or ("schema", sequence.schema))
    return found


def _topmost_missing(key: Key, here: dict[Key, _Entry], there: dict[Key, _Entry]) -> Key | None:
    """The outermost container of ``key`` that is also missing on the other side, if any."""
    top = None
    parent = here[key].parent
    while parent is not None and parent in here:
        if parent not in there:
            top = parent
        parent = here[parent].parent
    return top


def _changes(mine: Any, theirs: Any) -> tuple[Change, ...]:
    a, b = compared(mine), compared(theirs)
    found = [
        Change(name, value, b[name])
        for name, value in a.items()
        if value != b[name] and UNREAD not in (value, b[name])
    ]
    if hasattr(mine, "columns"):
        order_a = [c.name for c in mine.columns if c.name in {x.name for x in theirs.columns}]
        order_b = [c.name for c in theirs.columns if c.name in {x.name for x in mine.columns}]
        if order_a != order_b:
            found.append(Change("column order", tuple(order_a), tuple(order_b)))
    return tuple(found)


def _pair_renames(found: list[Difference]) -> Iterator[Difference]:
    """An index or constraint gone under one name and present under another, same definition: a rename."""
    paired: set[int] = set()
    targets: dict[tuple[Any, ...], list[int]] = {}
    for number, difference in enumerate(found):
        signature = _signature(difference.target_object, difference)
        if difference.status == ONLY_IN_TARGET and signature is not None:
            targets.setdefault(signature, []).append(number)
    renamed: list[Difference] = []
    for number, difference in enumerate(found):
        signature = _signature(difference.source_object, difference)
        if difference.status != ONLY_IN_SOURCE or signature is None or not targets.get(signature):
            continue
        other = found[targets[signature].pop(0)]
        paired.update({number, found.index(other)})
        mine, theirs = difference.source_object, other.target_object
        rest = [c for c in _changes(mine, theirs) if c.attribute != "definition"]  # same shape; names differ
        changes = (Change("name", mine.name, theirs.name), *rest)
        renamed.append(replace(difference, status=RENAMED, changes=changes, target_object=theirs))
    yield from (d for number, d in enumerate(found) if number not in paired)
    yield from renamed


def _signature(obj: Any, difference: Difference) -> tuple[Any, ...] | None:
    if difference.kind == "index" and obj is not None and obj.shape != UNREAD:
        return ("index", obj.table, obj.shape)
    if difference.kind == "constraint" and obj is not None and obj.definition != UNREAD:
        return ("constraint", obj.on, obj.kind, obj.definition)
    return None


def _with_contents(
    difference: Difference, contents: dict[tuple[str, str, str], dict[str, int]]
) -> Difference:
    counts = contents.get((difference.status, difference.kind, difference.name))
    if not counts:
        return difference
    order = (
        "table",
        "view",
        "column",
        "index",
        "constraint",
        "trigger",
        "sequence",
        "enum",
        "domain",
        "routine",
    )
    return replace(difference, contains=tuple((kind, counts[kind]) for kind in order if kind in counts))


def diff(
    first: SchemaSnapshot, second: SchemaSnapshot, *, left: str = "first", right: str = "second"
) -> list[str]:
    """Every difference, one sentence each; [] when the schemas are the same."""
    return [d.describe(left, right) for d in compare(first, second).differences]
