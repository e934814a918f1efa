"""Paste-ready Alembic code for the partitioned-table recipes, with the real partition names.

Every recipe loops over the partitions the database (or the run) knows, so the
code pastes as it is; a partitioned table with no known partition gets a
placeholder list to fill in.
"""

from __future__ import annotations

import re

from runner.lint.names import TableRef
from runner.lint.ops import Op
from runner.lint.partitioned import PartitionedTable
from runner.lint.rules.code import INDENT, py, py_list

_ON_TABLE = re.compile(r"\bON\s+(?:ONLY\s+)?\S+\s*(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
_RANGE = re.compile(r"^FOR\s+VALUES\s+FROM\s*\((?P<low>.*?)\)\s*TO\s*\((?P<high>.*)\)$", re.IGNORECASE)
_LIST = re.compile(r"^FOR\s+VALUES\s+IN\s*\((?P<values>.*)\)$", re.IGNORECASE)
_BOUND = re.compile(r"\b(?P<bound>FOR\s+VALUES\s+.+|DEFAULT)$", re.IGNORECASE)


def partition_list(parent: PartitionedTable) -> str:
    """'["events_2025", "events_2026"]': the leaf partitions' names (their schema is ``partition_schema``)."""
    names = [p.name for p in parent.partitions if p not in parent.subpartitioned]
    if not names:
        return '["..."]  # every partition of ' + str(parent.table)
    return py_list(names)


def partition_schema(parent: PartitionedTable) -> str | None:
    return next((p.schema for p in parent.partitions if p.schema), None)


def subpartition_notes(parent: PartitionedTable) -> list[str]:
    return [
        f"# {child} is partitioned itself: give it the same recipe (ON ONLY {child}, then its partitions)"
        for child in parent.subpartitioned
    ]


def index_recipe(op: Op, parent: PartitionedTable, name: str, *, unique: bool) -> list[str]:
    """ON ONLY the parent, a concurrent build per partition, then ATTACH PARTITION of each."""
    table = op.table or TableRef("?")
    partitions, schema = partition_list(parent), partition_schema(parent)
    unique_sql = "UNIQUE " if unique else ""
    qualified = f"{schema}.{{partition}}" if schema else "{partition}"
    if op.plain_columns and op.columns and not op.index_where:
        only = f"CREATE {unique_sql}INDEX {name} ON ONLY {table} ({', '.join(op.columns)})"
        extra = (", unique=True" if unique else "") + (f", schema={py(schema)}" if schema else "")
        build = (
            f'op.create_index(f"{name}_{{partition}}", partition, {py_list(op.columns)}{extra}, '
            "postgresql_concurrently=True)"
        )
    else:
        match = _ON_TABLE.search(op.sql)
        rest = match["rest"] if match else "(...)"
        only = f"CREATE {unique_sql}INDEX {name} ON ONLY {table} {rest}"
        build = (
            f'op.execute(f"CREATE {unique_sql}INDEX CONCURRENTLY {name}_{{partition}} ON {qualified} {rest}")'
        )
    index_schema = f"{schema}." if schema else ""
    return [
        f"op.execute({py(only)})  # the partitioned table's index: catalog only, INVALID until every partition has one",
        "with op.get_context().autocommit_block():",
        INDENT + f"for partition in {partitions}:",
        INDENT * 2 + build,
        f"for partition in {partitions}:",
        INDENT + f'op.execute(f"ALTER INDEX {name} ATTACH PARTITION {index_schema}{name}_{{partition}}")',
        *subpartition_notes(parent),
    ]


def foreign_key_recipe(op: Op, parent: PartitionedTable, name: str) -> list[str]:
    """NOT VALID per partition, VALIDATE per partition, then the parent's key adopts them without a scan."""
    table = op.table or TableRef("?")
    reference = op.references[0] if op.references else TableRef("?")
    partitions, schema = partition_list(parent), partition_schema(parent)
    columns, ref_columns = py_list(op.columns), py_list(op.ref_columns or ("id",))
    schemas = (f", source_schema={py(schema)}" if schema else "") + (
        f", referent_schema={py(reference.schema)}" if reference.schema else ""
    )
    qualified = f"{schema}.{{partition}}" if schema else "{partition}"
    return [
        f"for partition in {partitions}:",
        INDENT
        + f"op.create_foreign_key({py(name)}, partition, {py(reference.name)}, {columns}, {ref_columns}"
        f"{schemas}, postgresql_not_valid=True)",
        "# in the next revision: VALIDATE holds SHARE UPDATE EXCLUSIVE, reads and writes go on",
        f"for partition in {partitions}:",
        INDENT + f'op.execute(f"ALTER TABLE {qualified} VALIDATE CONSTRAINT {name}")',
        f"# in the revision after: the key on {table} adopts the validated ones without a scan",
        f"op.create_foreign_key({py(name)}, {py(table.name)}, {py(reference.name)}, {columns}, {ref_columns}"
        + (f", source_schema={py(table.schema)}" if table.schema else "")
        + (f", referent_schema={py(reference.schema)})" if reference.schema else ")"),
        *subpartition_notes(parent),
    ]


def bound_of(sql: str) -> str:
    """The partition bound as written: "FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')", or 'DEFAULT'."""
    match = _BOUND.search(sql.strip())
    return match["bound"] if match else "FOR VALUES ..."


def bound_check(bound: str, key_columns: tuple[str, ...]) -> str:
    """A CHECK expression that proves a single-column range or list bound, NOT NULL included."""
    if len(key_columns) != 1:
        return f"...  -- implies {bound}"
    column = key_columns[0]
    found = _RANGE.match(bound)
    if found:
        parts = [f"{column} IS NOT NULL"]
        if found["low"].strip().upper() != "MINVALUE":
            parts.append(f"{column} >= {found['low'].strip()}")
        if found["high"].strip().upper() != "MAXVALUE":
            parts.append(f"{column} < {found['high'].strip()}")
        return " AND ".join(parts)
    found = _LIST.match(bound)
    if found and "NULL" not in found["values"].upper():
        return f"{column} IS NOT NULL AND {column} IN ({found['values'].strip()})"
    return f"...  -- implies {bound}"
