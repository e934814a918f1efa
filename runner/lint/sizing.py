"""How big the tables a plan touches are in the database it is about to run on.

Row estimates come from ``pg_class.reltuples`` (what ANALYZE and autovacuum last
saw) with ``pg_stat_user_tables.n_live_tup`` as a fallback for a table never
analysed; sizes from ``pg_class.relpages`` of the table, its TOAST table and its
indexes (what VACUUM, ANALYZE and CREATE INDEX last saw: close enough to size a
risk); write activity from the insert/update/delete counters since the
statistics were last reset. Column types, NOT NULL flags and validated
``CHECK (col IS NOT NULL)`` constraints are read too: they decide whether a type
change rewrites and whether SET NOT NULL scans. All of it is catalog columns:
no table is scanned or locked, so a session holding ACCESS EXCLUSIVE on a table
(``pg_table_size`` would wait for it) can't hold up the assessment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runner.lint.catalog import CatalogFacts, read_facts
from runner.lint.names import DEFAULT_SCHEMA, TableRef

if TYPE_CHECKING:
    import psycopg

PAGE_BYTES = 8192
ROW_BYTES_GUESS = 100  # for a table never analysed and not yet counted: rows from its size


@dataclass(frozen=True)
class Column:
    type: str  # as format_type() prints it
    not_null: bool = False


@dataclass(frozen=True)
class TableStats:
    schema: str
    name: str
    rows: int
    table_bytes: int  # heap and TOAST
    index_bytes: int = 0
    writes: int = 0  # rows inserted, updated or deleted since the statistics were reset
    writes_per_s: float | None = None
    columns: Mapping[str, Column] = field(default_factory=dict, compare=False)
    not_null_checks: frozenset[str] = frozenset()  # columns with a validated CHECK (col IS NOT NULL)

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def total_bytes(self) -> int:
        return self.table_bytes + self.index_bytes

    @property
    def empty(self) -> bool:
        return self.rows == 0


@dataclass(frozen=True)
class Stats:
    """Sizes of the tables in one database, and how that session resolves unqualified names."""

    tables: Mapping[str, TableStats] = field(default_factory=dict, compare=False)
    search_path: tuple[str, ...] = ("public",)
    indexes: Mapping[str, str] = field(default_factory=dict, compare=False)  # "schema.index" -> table key
    database: str | None = None
    catalog: CatalogFacts = field(default_factory=CatalogFacts, compare=False)

    @classmethod
    def of(
        cls,
        *tables: TableStats,
        indexes: Mapping[str, str] | None = None,
        catalog: CatalogFacts | None = None,
    ) -> Stats:
        """Stats built by hand (tests, a saved snapshot)."""
        return cls(
            tables={t.key: t for t in tables}, indexes=dict(indexes or {}), catalog=catalog or CatalogFacts()
        )

    def find(self, ref: TableRef) -> TableStats | None:
        if ref.schema:
            return self.tables.get(f"{ref.schema}.{ref.name}")
        for schema in self.search_path:
            found = self.tables.get(f"{schema}.{ref.name}")
            if found is not None:
                return found
        return None

    def table_of_index(self, name: str, schema: str | None) -> TableRef | None:
        schemas = (schema,) if schema else self.search_path
        for candidate in schemas:
            key = self.indexes.get(f"{candidate}.{name}")
            if key:
                found = TableRef.parse(key)
                return TableRef(found.name) if found.schema == DEFAULT_SCHEMA else found
        return None


_TABLES_SQL = """
WITH RECURSIVE wanted AS (
    SELECT c.oid, n.nspname, c.relname, c.relkind, c.reltuples, c.relpages
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'm')
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp%%'
       AND (%(all)s OR c.oid = ANY(%(oids)s::oid[]))
), parts AS (
    SELECT w.oid AS root, w.oid AS part, w.relkind AS kind FROM wanted w
    UNION ALL
    SELECT p.root, i.inhrelid, c.relkind
      FROM parts p JOIN pg_inherits i ON i.inhparent = p.part JOIN pg_class c ON c.oid = i.inhrelid
     WHERE p.kind = 'p'
), sized AS (
    SELECT p.root, p.part,
           greatest(pc.relpages, 0)::bigint + greatest(coalesce(tc.relpages, 0), 0)::bigint AS table_pages,
           (SELECT coalesce(sum(greatest(ic.relpages, 0)), 0)::bigint
              FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid WHERE x.indrelid = p.part) AS index_pages
      FROM parts p JOIN pg_class pc ON pc.oid = p.part
      LEFT JOIN pg_class tc ON tc.oid = pc.reltoastrelid
)
SELECT w.oid, w.nspname, w.relname, w.reltuples::float8, w.relpages,
       sum(z.table_pages)::bigint * current_setting('block_size')::bigint,
       sum(z.index_pages)::bigint * current_setting('block_size')::bigint,
       sum(coalesce(s.n_live_tup, 0))::bigint,
       sum(coalesce(s.n_tup_ins + s.n_tup_upd + s.n_tup_del, 0))::bigint
  FROM wanted w JOIN sized z ON z.root = w.oid
  LEFT JOIN pg_stat_user_tables s ON s.relid = z.part
 GROUP BY w.oid, w.nspname, w.relname, w.reltuples, w.relpages
"""

_COLUMNS_SQL = """
SELECT attrelid, attname, format_type(atttypid, atttypmod), attnotnull
  FROM pg_attribute WHERE attrelid = ANY(%s::oid[]) AND attnum > 0 AND NOT attisdropped
"""

_CHECKS_SQL = """
SELECT conrelid, pg_get_constraintdef(oid)
  FROM pg_constraint WHERE contype = 'c' AND convalidated AND conrelid = ANY(%s::oid[])
"""

_INDEXES_SQL = """
SELECT n.nspname || '.' || ic.relname, tn.nspname || '.' || tc.relname
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
  JOIN pg_class tc ON tc.oid = i.indrelid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
 WHERE i.indrelid = ANY(%s::oid[])
"""

_CONTEXT_SQL = """
SELECT current_schemas(false), current_database(),
       extract(epoch FROM now() - coalesce(d.stats_reset, pg_postmaster_start_time()))::float8
  FROM pg_stat_database d WHERE d.datname = current_database()
"""

_NOT_NULL_CHECK = re.compile(r'^CHECK \(\(?"?([^"()]+?)"? IS NOT NULL\)?\)$')


def read_stats(conn: psycopg.Connection[Any], tables: Iterable[TableRef | str] | None = None) -> Stats:
    """Read sizes for ``tables`` (names as a migration writes them), or every user table when None."""
    wanted: list[int] = []
    if tables is not None:
        names = [t if isinstance(t, TableRef) else TableRef.parse(t) for t in tables]
        for ref in names:
            quoted = ".".join(_quote(part) for part in (ref.schema, ref.name) if part)
            row = conn.execute("SELECT to_regclass(%s)::oid", [quoted]).fetchone()
            if row and row[0] is not None:
                wanted.append(int(row[0]))
    context = conn.execute(_CONTEXT_SQL).fetchone()
    search_path, database, window_s = (
        (tuple(context[0]), context[1], context[2]) if context else (("public",), None, None)
    )
    rows = conn.execute(_TABLES_SQL, {"all": tables is None, "oids": wanted}).fetchall()
    oids = [row[0] for row in rows]
    columns: dict[int, dict[str, Column]] = {oid: {} for oid in oids}
    for relid, name, type_, not_null in conn.execute(_COLUMNS_SQL, [oids]).fetchall():
        columns[relid][name] = Column(type_, bool(not_null))
    checks: dict[int, set[str]] = {oid: set() for oid in oids}
    for relid, definition in conn.execute(_CHECKS_SQL, [oids]).fetchall():
        match = _NOT_NULL_CHECK.match(definition.strip())
        if match:
            checks[relid].add(match[1])
    indexes = {index: table for index, table in conn.execute(_INDEXES_SQL, [oids]).fetchall()}
    found = {}
    for oid, schema, name, reltuples, _relpages, table_bytes, index_bytes, live, writes in rows:
        stats = TableStats(
            schema=schema,
            name=name,
            rows=_rows(reltuples, live, table_bytes or 0),
            table_bytes=int(table_bytes or 0),
            index_bytes=int(index_bytes or 0),
            writes=int(writes or 0),
            writes_per_s=(writes / window_s) if window_s and window_s > 0 else None,
            columns=columns[oid],
            not_null_checks=frozenset(checks[oid]),
        )
        found[stats.key] = stats
    return Stats(
        tables=found,
        search_path=search_path,
        indexes=indexes,
        database=database,
        catalog=read_facts(conn, oids),
    )


def _rows(reltuples: float, live: int, table_bytes: int) -> int:
    """reltuples is -1 for a table never analysed; then the live-row counter, then the size."""
    if reltuples is not None and reltuples >= 0:
        return max(int(reltuples), int(live or 0)) if reltuples == 0 else int(reltuples)
    if live:
        return int(live)
    return 0 if table_bytes <= PAGE_BYTES else table_bytes // ROW_BYTES_GUESS


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
