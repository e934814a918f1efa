"""What the catalog says besides sizes: release, partitioning, leftovers, keys, triggers, row security.

A partitioned table's statements act on every partition, so the linter needs its
partitions and their sizes; an INVALID index left by a failed concurrent build
decides what ``IF NOT EXISTS`` does; a validated CHECK on the partition key
decides whether ATTACH PARTITION scans. Everything is read from ``pg_class``,
``pg_inherits``, ``pg_index``, ``pg_constraint``, ``pg_trigger`` and
``pg_policy`` rows and the statistics views: no function that opens a relation
(``pg_relation_size``, ``pg_partition_tree``, ``pg_get_expr``) is called, so the
reads never wait behind a lock a migration or a stuck session holds. Sizes come
from ``relpages``/``reltuples`` (what VACUUM and ANALYZE last saw).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

PAGE_BYTES = 8192
ROW_BYTES_GUESS = 100


@dataclass(frozen=True)
class Partition:
    """One direct partition of a partitioned table."""

    key: str  # "schema.name"
    rows: int
    table_bytes: int
    default: bool = False
    partitioned: bool = False  # itself partitioned (a sub-partitioned tree)

    @property
    def name(self) -> str:
        return self.key.partition(".")[2]

    @property
    def schema(self) -> str:
        return self.key.partition(".")[0]


@dataclass(frozen=True)
class Partitioning:
    """A partitioned table: how it is partitioned and its direct partitions."""

    key: str
    strategy: str  # "range", "list" or "hash"
    key_columns: tuple[str, ...]  # the partition key's plain columns
    key_expressions: int = 0  # how many key parts are expressions
    partitions: tuple[Partition, ...] = ()

    @property
    def default(self) -> Partition | None:
        return next((p for p in self.partitions if p.default), None)

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.partitions)


ForeignKey = tuple[tuple[str, ...], str]  # (columns, referenced table key)


@dataclass(frozen=True)
class CheckCover:
    """A validated CHECK constraint: the columns it mentions, and those it proves NOT NULL."""

    columns: frozenset[str]
    not_null: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CatalogFacts:
    """Catalog facts for one database; empty (and version unknown) when built by hand."""

    server_version_num: int | None = None
    partitioned: Mapping[str, Partitioning] = field(default_factory=dict, compare=False)
    invalid_indexes: Mapping[str, str] = field(default_factory=dict, compare=False)  # index key -> table key
    checks: Mapping[str, frozenset[CheckCover]] = field(default_factory=dict, compare=False)
    unique_columns: Mapping[str, frozenset[str]] = field(default_factory=dict, compare=False)
    user_triggers: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    foreign_keys: Mapping[str, int] = field(default_factory=dict, compare=False)  # on or referencing it
    # validated foreign keys by table key: (columns, referenced table key)
    validated_foreign_keys: Mapping[str, frozenset[ForeignKey]] = field(default_factory=dict, compare=False)
    row_security: Mapping[str, tuple[bool, int]] = field(default_factory=dict, compare=False)  # on, policies

    def parent_of(self, table_key: str) -> str | None:
        for parent in self.partitioned.values():
            if any(p.key == table_key for p in parent.partitions):
                return parent.key
        return None


_PARTITIONED_SQL = """
SELECT n.nspname || '.' || c.relname, pt.partstrat, pt.partnatts,
       array(SELECT a.attname FROM unnest(pt.partattrs::int2[]) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = k.attnum ORDER BY k.ord)
  FROM pg_partitioned_table pt
  JOIN pg_class c ON c.oid = pt.partrelid JOIN pg_namespace n ON n.oid = c.relnamespace
"""

_PARTITIONS_SQL = """
SELECT pn.nspname || '.' || p.relname, n.nspname || '.' || c.relname, c.relkind, c.reltuples::float8,
       c.relpages, coalesce(s.n_live_tup, 0), pt.partdefid = c.oid
  FROM pg_inherits i
  JOIN pg_partitioned_table pt ON pt.partrelid = i.inhparent
  JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
  JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
 ORDER BY 1, 2
"""

_INVALID_INDEXES_SQL = """
SELECT n.nspname || '.' || ic.relname, tn.nspname || '.' || tc.relname
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
  JOIN pg_class tc ON tc.oid = i.indrelid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
 WHERE NOT i.indisvalid
"""

# conbin, not pg_get_constraintdef(): deparsing a CHECK opens its table and waits behind its locks.
_CHECKS_SQL = """
SELECT n.nspname || '.' || c.relname, k.conbin::text,
       array(SELECT a.attnum || ':' || a.attname FROM pg_attribute a
              WHERE a.attrelid = k.conrelid AND a.attnum = ANY(k.conkey))
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE k.contype = 'c' AND k.convalidated AND c.oid = ANY(%s::oid[])
"""
# An IS NOT NULL test on a column, in a CHECK's stored expression tree (nulltesttype 1 is IS_NOT_NULL).
_NOT_NULL_TEST = re.compile(r"\{NULLTEST :arg \{VAR :varno \d+ :varattno (\d+)[^{}]*\} :nulltesttype 1")

_UNIQUE_SQL = """
SELECT n.nspname || '.' || c.relname, a.attname
  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
 WHERE i.indisunique AND i.indisvalid AND i.indnkeyatts = 1 AND i.indpred IS NULL AND i.indexprs IS NULL
   AND c.oid = ANY(%s::oid[])
"""

_TRIGGERS_SQL = """
SELECT n.nspname || '.' || c.relname, t.tgname
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE NOT t.tgisinternal AND c.oid = ANY(%s::oid[])
 ORDER BY 1, 2
"""

_FOREIGN_KEYS_SQL = """
SELECT n.nspname || '.' || c.relname, rn.nspname || '.' || r.relname, k.convalidated,
       array(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum ORDER BY u.ord)
  FROM pg_constraint k
  JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_class r ON r.oid = k.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
 WHERE k.contype = 'f' AND (k.conrelid = ANY(%s::oid[]) OR k.confrelid = ANY(%s::oid[]))
"""

_ROW_SECURITY_SQL = """
SELECT n.nspname || '.' || c.relname, c.relrowsecurity,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.oid = ANY(%s::oid[]) AND (c.relrowsecurity OR EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid))
"""

_STRATEGIES = {"r": "range", "l": "list", "h": "hash"}


def read_facts(conn: psycopg.Connection[Any], oids: list[int]) -> CatalogFacts:
    """Facts about the tables ``oids`` (as read_stats found them) and the database's partitioned tables."""
    version = conn.execute("SELECT current_setting('server_version_num')::int").fetchone()
    partitions: dict[str, list[Partition]] = {}
    for parent, key, relkind, reltuples, relpages, live, default in conn.execute(_PARTITIONS_SQL):
        partitions.setdefault(parent, []).append(
            Partition(key, _rows(reltuples, live), _bytes(relpages, live), bool(default), relkind == "p")
        )
    partitions = {
        parent: [_with_leaves(p, partitions) for p in found] for parent, found in partitions.items()
    }
    partitioned = {}
    for key, strategy, count, columns in conn.execute(_PARTITIONED_SQL):
        partitioned[key] = Partitioning(
            key,
            _STRATEGIES.get(strategy, strategy),
            tuple(columns),
            int(count) - len(columns),
            tuple(partitions.get(key, ())),
        )
    checks: dict[str, set[CheckCover]] = {}
    for key, tree, columns in conn.execute(_CHECKS_SQL, [oids]):
        checks.setdefault(key, set()).add(_cover(tree or "", columns))
    unique: dict[str, set[str]] = {}
    for key, column in conn.execute(_UNIQUE_SQL, [oids]):
        unique.setdefault(key, set()).add(column)
    keys: dict[str, int] = {}
    validated: dict[str, set[ForeignKey]] = {}
    for table, referenced, valid, columns in conn.execute(_FOREIGN_KEYS_SQL, [oids, oids]):
        keys[table] = keys.get(table, 0) + 1
        if referenced != table:
            keys[referenced] = keys.get(referenced, 0) + 1
        if valid:
            validated.setdefault(table, set()).add((tuple(columns), referenced))
    triggers: dict[str, list[str]] = {}
    for key, name in conn.execute(_TRIGGERS_SQL, [oids]):
        triggers.setdefault(key, []).append(name)
    return CatalogFacts(
        server_version_num=int(version[0]) if version else None,
        partitioned=partitioned,
        invalid_indexes=dict(conn.execute(_INVALID_INDEXES_SQL).fetchall()),
        checks={key: frozenset(covers) for key, covers in checks.items()},
        unique_columns={key: frozenset(columns) for key, columns in unique.items()},
        user_triggers={key: tuple(names) for key, names in triggers.items()},
        foreign_keys=keys,
        validated_foreign_keys={key: frozenset(found) for key, found in validated.items()},
        row_security={
            key: (bool(enabled), int(policies))
            for key, enabled, policies in conn.execute(_ROW_SECURITY_SQL, [oids])
        },
    )


def _cover(tree: str, columns: list[str]) -> CheckCover:
    """Which columns a CHECK proves NOT NULL: IS NOT NULL tests joined by AND only."""
    names = dict(column.split(":", 1) for column in columns)
    proven: frozenset[str] = frozenset()
    if ":boolop or" not in tree and ":boolop not" not in tree:
        proven = frozenset(names[n] for n in _NOT_NULL_TEST.findall(tree) if n in names)
    return CheckCover(frozenset(names.values()), proven)


def _with_leaves(partition: Partition, children: Mapping[str, list[Partition]], depth: int = 0) -> Partition:
    """A sub-partitioned partition stores nothing itself: its size is its leaves'."""
    if not partition.partitioned or depth > 32:
        return partition
    leaves = [_with_leaves(p, children, depth + 1) for p in children.get(partition.key, ())]
    return replace(
        partition, rows=sum(p.rows for p in leaves), table_bytes=sum(p.table_bytes for p in leaves)
    )


def _rows(reltuples: float | None, live: int) -> int:
    """reltuples is -1 until the first VACUUM or ANALYZE: the live-row counter stands in."""
    if reltuples is not None and reltuples >= 0:
        return max(int(reltuples), int(live or 0)) if reltuples == 0 else int(reltuples)
    return int(live or 0)


def _bytes(relpages: int | None, live: int) -> int:
    if relpages:
        return int(relpages) * PAGE_BYTES
    return int(live or 0) * ROW_BYTES_GUESS
