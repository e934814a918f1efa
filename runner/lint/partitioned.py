"""Which tables are partitioned, with which key and partitions, as one step meets them.

A statement on a partitioned table acts on every partition, so rules need the
partitions by name (for the safe recipes) and their sizes (for the verdicts).
The database's catalog knows the tables it has (``CatalogFacts.partitioned``);
tables this run creates ``PARTITION BY`` and partitions it creates ``PARTITION
OF`` are known from the steps before, and are empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from runner.lint.catalog import Partitioning
from runner.lint.names import DEFAULT_SCHEMA, TableRef
from runner.lint.ops import Op
from runner.lint.run_state import RunState
from runner.lint.sizing import Stats, TableStats


class StepView(Protocol):
    """What a step knows that partition lookups need (the step context provides it, read-only).

    ``partitioned_here``: op number -> its CREATE TABLE ... PARTITION BY, in this step;
    ``partitions_here``: op number -> (parent, partition) it creates, in this step.
    """

    @property
    def partitioned_here(self) -> Mapping[int, Op]: ...
    @property
    def partitions_here(self) -> Mapping[int, tuple[TableRef, TableRef]]: ...
    @property
    def run(self) -> RunState: ...
    @property
    def stats(self) -> Stats | None: ...

    def table_stats(self, table: TableRef) -> TableStats | None: ...


@dataclass(frozen=True)
class PartitionedTable:
    table: TableRef
    key_columns: tuple[str, ...]  # the key's plain columns
    key_expressions: int = 0  # key parts that are expressions
    partitions: tuple[TableRef, ...] = ()  # direct partitions
    default: TableRef | None = None
    subpartitioned: tuple[TableRef, ...] = ()  # partitions that are partitioned themselves
    facts: Partitioning | None = None  # the catalog's, when the database has the table

    def names(self, limit: int = 4) -> str:
        """'events_2025 and events_2026', 'a, b, c, d and 8 more'."""
        shown = [str(p) for p in self.partitions[:limit]]
        more = len(self.partitions) - len(shown)
        if more:
            return ", ".join(shown) + f" and {more} more"
        return ", ".join(shown[:-1]) + " and " + shown[-1] if len(shown) > 1 else "".join(shown)

    def counted(self) -> str:
        """'its 2 partitions (events_2025 and events_2026)', or 'every partition it has'."""
        if not self.partitions:
            return "every partition it has"
        noun = "partition" if len(self.partitions) == 1 else "partitions"
        return f"its {len(self.partitions)} {noun} ({self.names()})"


def ref_of(key: str) -> TableRef:
    """A catalog key as a migration would write it: unqualified in the default schema."""
    schema, _, name = key.partition(".")
    return TableRef(name) if schema == DEFAULT_SCHEMA else TableRef(name, schema)


def partitioned_table(ctx: StepView, table: TableRef, before: int | None = None) -> PartitionedTable | None:
    """``table`` if it is partitioned when op ``before`` runs (created earlier, or in the database)."""
    created = [
        (number, op.partition_key)
        for number, op in ctx.partitioned_here.items()
        if op.table and op.table.key == table.key and (before is None or number < before)
    ]
    run_partitions = list(ctx.run.partitions.get(table.key, ()))
    run_partitions += [
        child
        for number, (parent, child) in ctx.partitions_here.items()
        if parent.key == table.key and (before is None or number < before)
    ]
    if created or table.key in ctx.run.partitioned:
        key = tuple(created[-1][1] or ()) if created else ctx.run.partitioned[table.key]
        columns = tuple(column for column in key if column)
        return PartitionedTable(table, columns, len(key) - len(columns), partitions=tuple(run_partitions))
    stats = ctx.table_stats(table)
    facts = ctx.stats.catalog.partitioned.get(stats.key) if ctx.stats and stats else None
    if facts is None:
        return None
    partitions = [ref_of(p.key) for p in facts.partitions]
    partitions += [p for p in run_partitions if p not in partitions]
    default = facts.default
    return PartitionedTable(
        table,
        facts.key_columns,
        facts.key_expressions,
        tuple(partitions),
        ref_of(default.key) if default else None,
        tuple(ref_of(p.key) for p in facts.partitions if p.partitioned),
        facts,
    )


def parent_of(ctx: StepView, table: TableRef) -> TableRef | None:
    """The partitioned table ``table`` is a partition of, if the database or the run says so."""
    for parent, children in ctx.run.partitions.items():
        if any(child.key == table.key for child in children):
            return ref_of(parent)
    stats = ctx.table_stats(table)
    if ctx.stats is None or stats is None:
        return None
    found = ctx.stats.catalog.parent_of(stats.key)
    return ref_of(found) if found else None
