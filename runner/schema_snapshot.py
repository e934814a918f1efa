"""A database's schema, read from the catalogs, that compares equal to another's.

Used to prove a rollback really undid its steps (compared with a fresh database
at the same revision, not by trusting alembic_version) and, later, to find
drift. Indexes are compared by the server's own ``pg_get_indexdef`` text, so
expression and partial indexes (whose column names are NULL in the catalogs,
which crashed the seed's comparison script) compare like any other. Names
that PostgreSQL derives (constraint and sequence names) are part of the
comparison; OIDs, attribute numbers and row data are not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg

from runner.database import history

_SYSTEM = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'"
_NOT_EXTENSION = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"

TABLES_SQL = f"""
SELECT n.nspname, c.relname, c.relkind::text, c.oid
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND {_SYSTEM} AND {_NOT_EXTENSION.format(oid="c.oid")}
"""
COLUMNS_SQL = """
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text,
       CASE WHEN a.attcollation <> t.typcollation THEN a.attcollation::regcollation::text END
  FROM pg_attribute a
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attrelid, a.attnum
"""
INDEXES_SQL = f"""
SELECT n.nspname, c.relname, i.indrelid, pg_get_indexdef(i.indexrelid), i.indisunique, i.indisprimary, i.indisvalid
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE {_SYSTEM}
"""
CONSTRAINTS_SQL = f"""
SELECT n.nspname, c.conrelid, c.conname, c.contype::text, pg_get_constraintdef(c.oid), c.contypid::regtype::text
  FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
 WHERE {_SYSTEM}
"""
ENUMS_SQL = f"""
SELECT n.nspname, t.typname,
       array(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE t.typtype = 'e' AND {_SYSTEM} AND {_NOT_EXTENSION.format(oid="t.oid")}
"""
SEQUENCES_SQL = f"""
SELECT n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax,
       s.seqcycle, (SELECT d.refobjid FROM pg_depend d
                     WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
                     LIMIT 1) AS owner,
       (SELECT a.attname FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') LIMIT 1)
  FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE {_SYSTEM} AND {_NOT_EXTENSION.format(oid="c.oid")}
"""
_RELKINDS = {
    "r": "table",
    "p": "partitioned table",
    "f": "foreign table",
    "v": "view",
    "m": "materialized view",
}
_CONTYPES = {
    "p": "primary key",
    "f": "foreign key",
    "u": "unique",
    "c": "check",
    "x": "exclusion",
    "t": "trigger",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool
    default: str | None
    identity: str
    generated: str
    collation: str | None


@dataclass(frozen=True)
class Table:
    name: str  # schema-qualified
    kind: str
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Index:
    name: str
    table: str
    definition: str
    unique: bool
    primary: bool
    valid: bool


@dataclass(frozen=True)
class Constraint:
    name: str  # table-qualified: constraint names are unique per table, not per schema
    kind: str
    definition: str


@dataclass(frozen=True)
class Enum:
    name: str
    values: tuple[str, ...]


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


@dataclass(frozen=True)
class SchemaSnapshot:
    tables: tuple[Table, ...] = ()
    indexes: tuple[Index, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    enums: tuple[Enum, ...] = ()
    sequences: tuple[Sequence, ...] = ()
    excluded: tuple[str, ...] = field(default=(), compare=False)

    def as_json(self) -> dict[str, Any]:
        return {
            kind: [asdict(item) for item in getattr(self, kind)]
            for kind in ("tables", "indexes", "constraints", "enums", "sequences")
        }

    def diff(self, other: SchemaSnapshot, *, left: str = "first", right: str = "second") -> list[str]:
        """Every difference, one sentence each; [] when the schemas are the same."""
        found: list[str] = []
        for kind in ("tables", "indexes", "constraints", "enums", "sequences"):
            mine = {item.name: item for item in getattr(self, kind)}
            theirs = {item.name: item for item in getattr(other, kind)}
            noun = kind[:-1] if kind != "indexes" else "index"
            for name in sorted(mine.keys() - theirs.keys()):
                found.append(f"{noun} {name} is only in the {left} database")
            for name in sorted(theirs.keys() - mine.keys()):
                found.append(f"{noun} {name} is only in the {right} database")
            for name in sorted(mine.keys() & theirs.keys()):
                if mine[name] != theirs[name]:
                    found.extend(_differences(noun, mine[name], theirs[name], left, right))
        return found


def _differences(noun: str, a: Any, b: Any, left: str, right: str, *, name: str | None = None) -> list[str]:
    if isinstance(a, Table):
        return _table_differences(a, b, left, right)
    mine, theirs = asdict(a), asdict(b)
    return [
        f"{noun} {name or a.name}: {key} is {value!r} in the {left}, {theirs[key]!r} in the {right}"
        for key, value in mine.items()
        if theirs[key] != value
    ]


def _table_differences(a: Table, b: Table, left: str, right: str) -> list[str]:
    found = []
    if a.kind != b.kind:
        found.append(f"{a.name} is a {a.kind} in the {left}, a {b.kind} in the {right}")
    mine, theirs = {c.name: c for c in a.columns}, {c.name: c for c in b.columns}
    for name in [c.name for c in a.columns if c.name not in theirs]:
        found.append(f"column {a.name}.{name} is only in the {left} database")
    for name in [c.name for c in b.columns if c.name not in mine]:
        found.append(f"column {a.name}.{name} is only in the {right} database")
    for name in [c.name for c in a.columns if c.name in theirs and c != theirs[c.name]]:
        found.extend(_differences("column", mine[name], theirs[name], left, right, name=f"{a.name}.{name}"))
    if [c.name for c in a.columns if c.name in theirs] != [c.name for c in b.columns if c.name in mine]:
        found.append(f"the columns of {a.name} are in a different order")
    return found


def take(
    conn: psycopg.Connection, *, exclude_tables: Iterable[str] = (f"public.{history.TABLE}",)
) -> SchemaSnapshot:
    """Read the schema of every non-system schema (objects owned by extensions left out)."""
    excluded = set(exclude_tables)
    relations: dict[int, str] = {}
    kinds: dict[int, str] = {}
    for schema, name, kind, oid in conn.execute(TABLES_SQL).fetchall():
        relations[oid] = f"{schema}.{name}"
        kinds[oid] = _RELKINDS.get(kind, kind)
    keep = {oid for oid, name in relations.items() if name not in excluded}
    columns: dict[int, list[Column]] = {oid: [] for oid in keep}
    for oid, name, type_, not_null, default, identity, generated, collation in conn.execute(
        COLUMNS_SQL, [sorted(keep)]
    ).fetchall():
        columns[oid].append(Column(name, type_, not_null, default, identity, generated, collation))
    tables = tuple(
        sorted((Table(relations[oid], kinds[oid], tuple(columns[oid])) for oid in keep), key=_name)
    )
    indexes = tuple(
        sorted(
            (
                Index(f"{schema}.{name}", relations[table], definition, unique, primary, valid)
                for schema, name, table, definition, unique, primary, valid in conn.execute(
                    INDEXES_SQL
                ).fetchall()
                if table in keep
            ),
            key=_name,
        )
    )
    constraints = tuple(
        sorted(
            (
                Constraint(
                    f"{relations.get(table) or domain or schema}.{name}",
                    _CONTYPES.get(kind, kind),
                    definition,
                )
                for schema, table, name, kind, definition, domain in conn.execute(CONSTRAINTS_SQL).fetchall()
                if table in keep or (table == 0 and domain not in (None, "-"))
            ),
            key=_name,
        )
    )
    enums = tuple(
        sorted((Enum(f"{s}.{n}", tuple(v)) for s, n, v in conn.execute(ENUMS_SQL).fetchall()), key=_name)
    )
    sequences = tuple(
        sorted(
            (
                Sequence(
                    f"{s}.{n}",
                    t,
                    start,
                    inc,
                    low,
                    high,
                    cycle,
                    f"{relations[owner]}.{col}" if owner in relations else None,
                )
                for s, n, t, start, inc, low, high, cycle, owner, col in conn.execute(
                    SEQUENCES_SQL
                ).fetchall()
                if owner is None or owner in keep or owner not in relations
            ),
            key=_name,
        )
    )
    return SchemaSnapshot(tables, indexes, constraints, enums, sequences, tuple(sorted(excluded)))


def _name(item: Any) -> str:
    return str(item.name)
