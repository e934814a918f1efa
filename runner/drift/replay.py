"""The source's schema replayed through the pending plan, operation by operation.

Starts from the snapshot and adds what each operation creates (and removes what
it drops), so a later step's ``ADD COLUMN`` on a table an earlier step created is
not mistaken for drift. Each operation answers with what goes wrong on the real
schema: ``(effect, reason, blocks)``. What the plan itself created is its own:
a collision with it is the migrations' problem (lint's), not drift.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from runner.drift.objects import UNREAD, Column, SchemaSnapshot
from runner.lint.names import TableRef
from runner.lint.ops import Constraint as ConstraintKind
from runner.lint.ops import Op

FAILS = "fails"
DOES_NOTHING = "does nothing"
DUPLICATES = "duplicates"
Outcome = tuple[str, str, bool]  # (effect, reason, blocks)


def table_schema(table: TableRef | None) -> str:
    return (table.schema if table else None) or "public"


def index_key(op: Op) -> str:
    """Indexes live in their table's schema."""
    return f"{table_schema(op.table)}.{op.name}"


class Replay:
    """The source's schema as the plan goes along; what the plan created is marked as its own."""

    def __init__(self, snapshot: SchemaSnapshot, reference: SchemaSnapshot | None) -> None:
        self.tables = {t.name: t for t in snapshot.tables}
        self.relations = {
            **{t.name: "table" for t in snapshot.tables},
            **{v.name: "view" for v in snapshot.views},
            **{i.name: "index" for i in snapshot.indexes},
            **{s.name: "sequence" for s in snapshot.sequences},
        }
        # table -> column -> its definition; None: a column the plan adds (its type is not known here)
        self.columns: dict[str, dict[str, Column | None]] = {
            t.name: {c.name: c for c in t.columns} for t in snapshot.tables
        }
        self.indexes = {i.name: i for i in snapshot.indexes}
        self.constraints = {c.name: c for c in snapshot.constraints}
        self.enums = {e.name: list(e.values) for e in snapshot.enums}
        self.types = set(self.enums) | {d.name for d in snapshot.domains} | set(self.relations)
        self.planned: set[str] = set()  # tables, indexes, types and constraints the plan creates
        self.reference = reference

    def apply(self, op: Op) -> list[Outcome]:
        handler = getattr(self, f"_{op.kind.value}", None)
        return list(handler(op)) if handler else []

    # -- helpers --------------------------------------------------------------------------------
    def _table_missing(self, op: Op) -> Iterator[Outcome]:
        key = op.table.key if op.table else ""
        if key not in self.relations:
            yield FAILS, f"table {key} does not exist in this database", True

    def _ours(self, key: str) -> bool:
        return key in self.planned

    def _existing(self, op: Op, noun: str, key: str, detail: str, same: bool | None) -> Iterator[Outcome]:
        """Creating what is already there: an error, or with IF NOT EXISTS the existing one is kept."""
        if not op.missing_ok:
            yield FAILS, f"{noun} {key} already exists{detail}", True
        elif same:
            yield DOES_NOTHING, f"{noun} {key} already exists{detail}, as the step would create it", False
        else:
            how = "different from what the step would create" if same is False else "and is kept as it is"
            yield DOES_NOTHING, f"{noun} {key} already exists{detail}, {how}", True

    # -- one method per operation kind ------------------------------------------------------------
    def _create_table(self, op: Op) -> Iterator[Outcome]:
        key = op.table.key if op.table else ""
        if key in self.relations and not self._ours(key):
            existing = self.tables.get(key)
            wanted = {t.name: t for t in self.reference.tables}.get(key) if self.reference else None
            same = None if existing is None or wanted is None else existing == wanted
            yield from self._existing(op, self.relations[key], key, "", same)
            return  # what is there stays the database's own: later steps are checked against it
        self.relations[key] = "table"
        self.planned.add(key)

    def _drop_table(self, op: Op) -> Iterator[Outcome]:
        key = op.table.key if op.table else ""
        if key not in self.relations and not op.missing_ok:
            yield FAILS, f"table {key} does not exist in this database", True
        self.relations.pop(key, None)

    def _add_column(self, op: Op) -> Iterator[Outcome]:
        key = op.table.key if op.table else ""
        if self._ours(key):
            return
        missing = list(self._table_missing(op))
        if missing:
            yield from missing
            return
        columns = self.columns.setdefault(key, {})
        if op.name in columns and not self._ours(f"{key}.{op.name}"):
            found = columns[op.name]
            detail = f" ({found.type})" if found is not None else ""
            yield from self._existing(op, "column", f"{key}.{op.name}", detail, None)
        columns.setdefault(str(op.name), None)
        self.planned.add(f"{key}.{op.name}")

    def _column_must_exist(self, op: Op) -> Iterator[Outcome]:
        key = op.table.key if op.table else ""
        if self._ours(key) or self._ours(f"{key}.{op.name}"):
            return
        missing = list(self._table_missing(op))
        if missing:
            yield from missing
        elif op.name not in self.columns.get(key, {}) and not op.missing_ok:
            yield FAILS, f"column {key}.{op.name} does not exist in this database", True

    def _drop_column(self, op: Op) -> Iterator[Outcome]:
        yield from self._column_must_exist(op)
        self.columns.get(op.table.key if op.table else "", {}).pop(str(op.name), None)

    _alter_column_type = _column_must_exist
    _set_not_null = _column_must_exist

    def _rename_column(self, op: Op) -> Iterator[Outcome]:
        yield from self._column_must_exist(op)
        key = op.table.key if op.table else ""
        columns = self.columns.setdefault(key, {})
        if op.new_name in columns and not self._ours(key):
            yield FAILS, f"column {key}.{op.new_name} already exists", True
        columns[str(op.new_name)] = columns.pop(str(op.name), None)
        if self._ours(f"{key}.{op.name}"):  # a column the plan added stays the plan's under its new name
            self.planned.add(f"{key}.{op.new_name}")

    def _create_index(self, op: Op) -> Iterator[Outcome]:
        table = op.table.key if op.table else ""
        key = index_key(op) if op.name else None
        wanted = self.reference_index(key)
        if key and key in self.relations and not self._ours(key):
            existing = self.indexes.get(key)
            same = None if existing is None or wanted is None else existing.shape == wanted.shape
            yield from self._existing(op, self.relations[key], key, "", same)
            return
        if not self._ours(table):
            yield from self._table_missing(op)
            twin = self._twin_index(op, table, wanted)
            if twin is not None:
                yield DUPLICATES, f"index {twin} on {table} already has the same definition", True
        if key:
            self.relations.setdefault(key, "index")
            self.planned.add(key)

    def reference_index(self, key: str | None) -> Any:
        if key is None or self.reference is None:
            return None
        return {i.name: i for i in self.reference.indexes}.get(key)

    def _twin_index(self, op: Op, table: str, wanted: Any) -> str | None:
        for index in self.indexes.values():
            if index.table != table or index.shape == UNREAD:
                continue
            if wanted is not None and index.shape == wanted.shape:
                return index.name
            plain = op.plain_columns and not op.index_where and " USING btree " in index.shape
            plain = plain and " WHERE " not in index.shape
            if wanted is None and plain and index.columns_plain == op.columns and index.unique == op.unique:
                return index.name
        return None

    def _drop_index(self, op: Op) -> Iterator[Outcome]:
        key = f"{op.schema or 'public'}.{op.name}"
        if key not in self.relations and not op.missing_ok:
            yield FAILS, f"index {key} does not exist in this database", True
        self.relations.pop(key, None)

    def _add_constraint(self, op: Op) -> Iterator[Outcome]:
        table = op.table.key if op.table else ""
        if self._ours(table):
            return
        missing = list(self._table_missing(op))
        if missing:
            yield from missing
            return
        key = f"{table}.{op.name}"
        if op.name and key in self.constraints and not self._ours(key):
            yield FAILS, f"constraint {key} already exists ({self.constraints[key].definition})", True
        elif op.constraint is ConstraintKind.PRIMARY_KEY:
            primary = [c.name for c in self.constraints.values() if c.on == table and c.kind == "primary key"]
            if primary:
                yield FAILS, f"table {table} already has a primary key ({primary[0]})", True
        twin = self._twin_constraint(table, key)
        if twin is not None:
            yield DUPLICATES, f"constraint {twin} on {table} already has the same definition", True
        if op.name:
            self.planned.add(key)

    def _twin_constraint(self, table: str, key: str) -> str | None:
        if self.reference is None or key in self.constraints:
            return None
        wanted = {c.name: c for c in self.reference.constraints}.get(key)
        if wanted is None or wanted.definition == UNREAD:
            return None
        for constraint in self.constraints.values():
            if constraint.on == table and (constraint.kind, constraint.definition) == (
                wanted.kind,
                wanted.definition,
            ):
                return constraint.name
        return None

    def _validate_constraint(self, op: Op) -> Iterator[Outcome]:
        table = op.table.key if op.table else ""
        key = f"{table}.{op.name}"
        if not self._ours(table) and not self._ours(key) and key not in self.constraints:
            yield FAILS, f"constraint {key} does not exist in this database", True

    def _create_type(self, op: Op) -> Iterator[Outcome]:
        key = f"{op.schema or 'public'}.{op.name}"
        if key in self.types and not self._ours(key):
            yield FAILS, f"type {key} already exists", True
            return
        self.types.add(key)
        self.enums.setdefault(key, [])
        self.planned.add(key)

    def _add_enum_value(self, op: Op) -> Iterator[Outcome]:
        key = f"{op.schema or 'public'}.{op.name}"
        if self._ours(key):
            return
        if key not in self.enums:
            yield FAILS, f"enum type {key} does not exist in this database", True
        elif op.value in self.enums[key]:
            if op.missing_ok:
                yield DOES_NOTHING, f"enum {key} already has the value {op.value!r}", False
            else:
                yield FAILS, f"enum {key} already has the value {op.value!r}", True
        else:
            self.enums[key].append(str(op.value))

    def _rename_table(self, op: Op) -> Iterator[Outcome]:
        key = op.table.key if op.table else ""
        if not self._ours(key):
            yield from self._table_missing(op)
        new = f"{table_schema(op.table)}.{op.new_name}"
        if new in self.relations and not self._ours(new):
            yield FAILS, f"a relation named {new} already exists", True
        self.relations[new] = self.relations.pop(key, "table")
        self.columns[new] = self.columns.pop(key, {})
        if self._ours(key):
            self.planned.add(new)
