"""What a schema snapshot holds: one frozen value per catalog object.

Every object is named the way an operator reads it (``schema.table``,
``schema.table.column``, ``schema.table.constraint``), and compares by what the
server would do with it: types as ``format_type`` spells them, definitions as
``pg_get_*def`` prints them. OIDs, attribute numbers, owners, grants and row data
are not part of a schema here. ``sql_name`` (the name quoted by the server, for
reconcile SQL) and ``schema`` (for grouping) never take part in a comparison.

A definition that could not be read (its table was locked, or the object vanished
while it was being read) is ``UNREAD``: the object's existence is still compared,
that one attribute is not, and the snapshot's ``skipped`` says why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

UNREAD = "<not read>"
KINDS = (
    "schemas",
    "extensions",
    "tables",
    "views",
    "indexes",
    "constraints",
    "triggers",
    "enums",
    "domains",
    "sequences",
    "routines",
)
_PRIVATE = {"sql_name", "schema", "table_sql", "shape", "columns_plain"}


def _private(default: Any = "") -> Any:
    return field(default=default, compare=False, repr=False)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool
    default: str | None  # for a generated column, its expression
    identity: str  # '' , 'a' (ALWAYS) or 'd' (BY DEFAULT)
    generated: str  # '' or 's' (STORED)
    collation: str | None  # only when it is not the type's own
    sql_name: str = _private()
    table_sql: str = _private()


@dataclass(frozen=True)
class Table:
    name: str  # schema-qualified
    kind: str  # table, partitioned table, foreign table
    columns: tuple[Column, ...]
    unlogged: bool = False
    partition_of: str | None = None
    partition_bound: str | None = None
    sql_name: str = _private()
    schema: str = _private()


@dataclass(frozen=True)
class View:
    name: str
    materialized: bool
    definition: str
    sql_name: str = _private()
    schema: str = _private()


@dataclass(frozen=True)
class Index:
    name: str  # schema-qualified: index names are unique per schema
    table: str
    definition: str  # pg_get_indexdef, name included
    unique: bool
    primary: bool
    valid: bool
    constraint: str | None = None  # the constraint this index enforces (primary key, unique, exclusion)
    sql_name: str = _private()
    schema: str = _private()
    shape: str = _private()  # the definition without the index's name: equal shapes are the same index
    columns_plain: tuple[str, ...] | None = _private(None)  # key columns, when none is an expression


@dataclass(frozen=True)
class Constraint:
    name: str  # table- or domain-qualified: constraint names are unique per table, not per schema
    kind: str
    definition: str  # pg_get_constraintdef without its NOT VALID suffix
    validated: bool = True
    on: str = ""  # the table or domain
    sql_name: str = _private()
    table_sql: str = _private()  # the table or domain, quoted
    on_domain: bool = _private(False)


@dataclass(frozen=True)
class Trigger:
    name: str  # table-qualified
    table: str
    definition: str
    enabled: str  # O (origin), D (disabled), R (replica), A (always)
    sql_name: str = _private()
    table_sql: str = _private()


@dataclass(frozen=True)
class Enum:
    name: str
    values: tuple[str, ...]
    sql_name: str = _private()
    schema: str = _private()


@dataclass(frozen=True)
class Domain:
    name: str
    base_type: str
    not_null: bool
    default: str | None
    sql_name: str = _private()
    schema: str = _private()


@dataclass(frozen=True)
class Sequence:
    name: str
    data_type: str
    start: int
    increment: int
    minimum: int
    maximum: int
    cycle: bool
    owned_by: str | None
    sql_name: str = _private()
    schema: str = _private()


@dataclass(frozen=True)
class Routine:
    name: str  # schema.name(identity arguments)
    kind: str  # function, procedure, aggregate, window function
    definition: str | None  # pg_get_functiondef; None for an aggregate (compared by signature)
    sql_name: str = _private()
    schema: str = _private()


@dataclass(frozen=True)
class Extension:
    name: str
    version: str
    in_schema: str


@dataclass(frozen=True)
class Schema:
    name: str


@dataclass(frozen=True)
class Skipped:
    """Something the snapshot could not read, and why; it is left out of the comparison."""

    what: str
    reason: str


@dataclass(frozen=True)
class SchemaSnapshot:
    tables: tuple[Table, ...] = ()
    indexes: tuple[Index, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    enums: tuple[Enum, ...] = ()
    sequences: tuple[Sequence, ...] = ()
    views: tuple[View, ...] = ()
    routines: tuple[Routine, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    extensions: tuple[Extension, ...] = ()
    schemas: tuple[Schema, ...] = ()
    domains: tuple[Domain, ...] = ()
    excluded: tuple[str, ...] = field(default=(), compare=False)
    skipped: tuple[Skipped, ...] = field(default=(), compare=False)
    server_version: int = field(default=0, compare=False)  # server_version_num of the server read

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {kind: [public(item) for item in getattr(self, kind)] for kind in KINDS}
        found["skipped"] = [asdict(item) for item in self.skipped]
        return found


def public(item: Any) -> dict[str, Any]:
    """An object as JSON, without the fields that are only there to write SQL."""
    out: dict[str, Any] = {}
    for spec in fields(item):
        if spec.name in _PRIVATE:
            continue
        value = getattr(item, spec.name)
        out[spec.name] = [public(v) for v in value] if spec.name == "columns" else value
    return out


def compared(item: Any) -> dict[str, Any]:
    """The attributes two versions of an object are compared on (name and nested columns aside)."""
    return {
        spec.name: getattr(item, spec.name)
        for spec in fields(item)
        if spec.compare and spec.name not in ("name", "columns")
    }
