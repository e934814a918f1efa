"""A database's schema, read from the catalogs, that compares equal to another's.

Used to find drift between environments and to prove a rollback really undid its
steps (compared with a fresh database at the same revision, not by trusting
alembic_version). Indexes are compared by the server's own ``pg_get_indexdef``
text, so expression and partial indexes (whose column names are NULL in the
catalogs, which crashed the seed's comparison script) compare like any other.
Names that PostgreSQL derives (constraint and sequence names) are part of the
comparison; OIDs, attribute numbers and row data are not.

Every non-system schema is read; objects an extension owns are left out (the
extension's name and version stand for them), and so are the runner's own
bookkeeping table and what is derived from a parent (inherited columns, the
indexes, constraints and triggers a partition gets from its parent).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import closing
from dataclasses import replace
from typing import Any

import psycopg

from runner.database import connections as db
from runner.database import history
from runner.drift import catalog
from runner.drift.catalog import CatalogLimits, CatalogReader
from runner.drift.objects import (
    UNREAD,
    Column,
    Constraint,
    Domain,
    Enum,
    Extension,
    Index,
    Routine,
    Schema,
    SchemaSnapshot,
    Sequence,
    Table,
    Trigger,
    View,
)
from runner.target import DatabaseTarget

DEFAULT_EXCLUDED = (f"public.{history.TABLE}",)
APPLICATION_NAME = "migration-runner drift"
DEFAULT_LIMITS = CatalogLimits()
_RELKINDS = {
    "r": "table",
    "p": "partitioned table",
    "f": "foreign table",
    "v": "view",
    "m": "materialized view",
}
_CONTYPES = {"p": "primary key", "f": "foreign key", "u": "unique", "c": "check", "x": "exclusion"}
_PROKINDS = {"f": "function", "p": "procedure", "a": "aggregate", "w": "window function"}
_NOT_VALID = " NOT VALID"


def read(
    target: DatabaseTarget,
    *,
    limits: CatalogLimits = DEFAULT_LIMITS,
    exclude_tables: Iterable[str] = DEFAULT_EXCLUDED,
) -> SchemaSnapshot:
    """Connect on a session of its own (Unreachable if it can't) and read the schema."""
    with closing(db.connect(target, APPLICATION_NAME)) as conn:
        return take(conn, exclude_tables=exclude_tables, limits=limits, where=target.display)


def take(
    conn: psycopg.Connection,
    *,
    exclude_tables: Iterable[str] = DEFAULT_EXCLUDED,
    limits: CatalogLimits = DEFAULT_LIMITS,
    where: str = "the database",
) -> SchemaSnapshot:
    """Read the schema on ``conn``, the snapshot's own session (its timeouts are set here)."""
    reader = CatalogReader(conn, limits, where)
    excluded = set(exclude_tables)
    every = reader.rows(catalog.RELATIONS_SQL)
    quoted_names = {row[0]: str(row[4]) for row in every}
    relations = {row[0]: row for row in every if f"{row[1]}.{row[2]}" not in excluded}
    names = {oid: f"{row[1]}.{row[2]}" for oid, row in relations.items()}
    tables = [oid for oid, row in relations.items() if row[3] in ("r", "p", "f")]
    views = [oid for oid, row in relations.items() if row[3] in ("v", "m")]

    def label(oid: int) -> str:
        return names.get(oid, str(oid))

    domains = reader.rows(catalog.DOMAINS_SQL)
    snapshot = SchemaSnapshot(
        tables=_tables(reader, relations, tables, label),
        indexes=_indexes(reader, names, label),
        constraints=_constraints(reader, names, quoted_names, tables, [row[0] for row in domains], label),
        enums=_sorted(
            Enum(f"{s}.{n}", tuple(values), sql_name=q, schema=s)
            for s, n, q, values in reader.rows(catalog.ENUMS_SQL)
        ),
        sequences=_sequences(reader, names, set(quoted_names)),
        views=_views(reader, relations, views, label),
        routines=_routines(reader),
        triggers=_triggers(reader, names, quoted_names, sorted(names), label),
        extensions=_sorted(Extension(*row) for row in reader.rows(catalog.EXTENSIONS_SQL)),
        schemas=_sorted(Schema(row[0]) for row in reader.rows(catalog.SCHEMAS_SQL)),
        domains=_sorted(
            Domain(f"{s}.{n}", base, not_null, default, sql_name=q, schema=s)
            for _oid, s, n, q, base, not_null, default in domains
        ),
        excluded=tuple(sorted(excluded)),
    )
    return replace(snapshot, skipped=tuple(reader.skipped), server_version=reader.server_version)


def _tables(
    reader: CatalogReader, relations: dict[int, Any], oids: list[int], label: Any
) -> tuple[Table, ...]:
    columns: dict[int, list[tuple[Any, ...]]] = {oid: [] for oid in oids}
    with_defaults: set[int] = set()
    for row in reader.rows(catalog.COLUMNS_SQL, [oids]):
        columns[row[0]].append(row)
        if row[-1] is not None:
            with_defaults.add(row[0])
    defaults = reader.definitions(catalog.DEFAULTS_SQL, sorted(with_defaults), label, "column defaults")
    partitions = [oid for oid in oids if relations[oid][6] is not None]
    bounds = reader.definitions(catalog.PARTITION_BOUNDS_SQL, partitions, label, "partition bound")
    built = []
    for oid in oids:
        _oid, schema, name, kind, quoted, unlogged, parent = relations[oid]
        cols = tuple(_column(row, defaults, quoted) for row in columns[oid])
        bound = _text(bounds.get(oid)) if parent else None
        built.append(
            Table(
                f"{schema}.{name}",
                _RELKINDS[kind],
                cols,
                unlogged,
                parent,
                bound,
                sql_name=quoted,
                schema=schema,
            )
        )
    return _sorted(built)


def _column(row: tuple[Any, ...], defaults: dict[int, str | None], table_sql: str) -> Column:
    _rel, name, quoted, type_, not_null, identity, generated, collation, attrdef = row
    default = None if attrdef is None else _text(defaults.get(attrdef))
    return Column(
        name, type_, not_null, default, identity, generated, collation, sql_name=quoted, table_sql=table_sql
    )


def _views(reader: CatalogReader, relations: dict[int, Any], oids: list[int], label: Any) -> tuple[View, ...]:
    reader.hold_views(oids, label)
    texts = reader.definitions(catalog.VIEWDEFS_SQL, oids, label, "view definition")
    return _sorted(
        View(
            f"{relations[oid][1]}.{relations[oid][2]}",
            relations[oid][3] == "m",
            _text(texts.get(oid)),
            sql_name=relations[oid][4],
            schema=relations[oid][1],
        )
        for oid in oids
    )


def _indexes(reader: CatalogReader, names: dict[int, str], label: Any) -> tuple[Index, ...]:
    rows = reader.rows(catalog.INDEXES_SQL, [sorted(names)])
    texts = reader.definitions(
        catalog.INDEXDEFS_SQL, sorted({row[1] for row in rows}), label, "index definitions"
    )
    built = []
    for oid, table, schema, name, quoted, local, unique, primary, valid, constraint, plain in rows:
        definition = _text(texts.get(oid))
        shape = definition.replace(f" INDEX {local} ON ", " INDEX ON ", 1) if definition != UNREAD else UNREAD
        built.append(
            Index(
                f"{schema}.{name}",
                names[table],
                definition,
                unique,
                primary,
                valid,
                constraint,
                sql_name=quoted,
                schema=schema,
                shape=shape,
                columns_plain=tuple(plain) if plain is not None and None not in plain else None,
            )
        )
    return _sorted(built)


def _constraints(
    reader: CatalogReader,
    names: dict[int, str],
    relation_sql: dict[int, str],
    tables: list[int],
    domains: list[int],
    label: Any,
) -> tuple[Constraint, ...]:
    rows = reader.rows(catalog.CONSTRAINTS_SQL, [tables, domains])
    on_tables = sorted({row[1] for row in rows if row[1]})
    texts = reader.definitions(catalog.CONSTRAINTDEFS_SQL, on_tables, label, "constraint definitions")
    domain_names = {row[2]: row[7] for row in rows if row[2]}
    texts.update(
        reader.definitions(
            catalog.DOMAIN_CONSTRAINTDEFS_SQL,
            sorted(domain_names),
            lambda oid: domain_names.get(oid, str(oid)),
            "domain constraint definitions",
        )
    )
    built = []
    for oid, table, _domain, name, quoted, kind, validated, domain_name, domain_quoted in rows:
        on = names.get(table) or domain_name or ""
        definition = _text(texts.get(oid))
        if not validated and definition.endswith(_NOT_VALID):
            definition = definition[: -len(_NOT_VALID)]
        built.append(
            Constraint(
                f"{on}.{name}",
                _CONTYPES.get(kind, kind),
                definition,
                validated,
                on,
                sql_name=quoted,
                table_sql=domain_quoted or relation_sql.get(table, ""),
                on_domain=domain_name is not None,
            )
        )
    return _sorted(built)


def _triggers(
    reader: CatalogReader, names: dict[int, str], relation_sql: dict[int, str], tables: list[int], label: Any
) -> tuple[Trigger, ...]:
    clones = "AND t.tgparentid = 0" if reader.server_version >= 130000 else ""
    rows = reader.rows(catalog.TRIGGERS_SQL.format(clones=clones), [tables])
    texts = reader.definitions(
        catalog.TRIGGERDEFS_SQL, sorted({row[1] for row in rows}), label, "trigger definitions"
    )
    return _sorted(
        Trigger(
            f"{names[table]}.{name}",
            names[table],
            _text(texts.get(oid)),
            enabled,
            sql_name=quoted,
            table_sql=relation_sql[table],
        )
        for oid, table, name, quoted, enabled in rows
    )


def _sequences(reader: CatalogReader, names: dict[int, str], every: set[int]) -> tuple[Sequence, ...]:
    built = []
    for row in reader.rows(catalog.SEQUENCES_SQL):
        s, n, quoted, type_, start, inc, low, high, cycle, owner, column = row
        if owner in every and owner not in names:
            continue  # owned by an excluded table (the runner's history)
        owned = f"{names[owner]}.{column}" if owner in names and column else None
        built.append(
            Sequence(f"{s}.{n}", type_, start, inc, low, high, cycle, owned, sql_name=quoted, schema=s)
        )
    return _sorted(built)


def _routines(reader: CatalogReader) -> tuple[Routine, ...]:
    rows = reader.rows(catalog.ROUTINES_SQL)
    labels = {row[0]: f"{row[1]}.{row[2]}" for row in rows}
    readable = sorted(oid for oid, *_rest, kind in rows if kind != "a")
    texts = reader.definitions(
        catalog.FUNCTIONDEFS_SQL, readable, lambda oid: labels.get(oid, str(oid)), "function definition"
    )
    return _sorted(
        Routine(
            f"{schema}.{signature}",
            _PROKINDS.get(kind, kind),
            None if kind == "a" else _text(texts.get(oid)),
            sql_name=quoted,
            schema=schema,
        )
        for oid, schema, signature, quoted, kind in rows
    )


def _text(value: str | None) -> str:
    """Definition text; a function that returned NULL means the object went away during the read."""
    return UNREAD if value is None else value


def _sorted(items: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(sorted(items, key=lambda item: str(item.name)))
