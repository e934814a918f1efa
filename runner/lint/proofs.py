"""What the run or the database proves, so a statement skips work it would otherwise do.

A validated CHECK (col IS NOT NULL) spares SET NOT NULL its scan (PostgreSQL 12
and later); a validated CHECK on the partition key spares ATTACH PARTITION its
scan; validated foreign keys on every partition let the partitioned table's key
adopt them; a unique key bounds a batch (``WHERE id BETWEEN 1 AND 5000``) to
its range. Mixed into ``StepContext``, which holds the run, the record of this
step and the database's statistics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runner.lint.catalog import ForeignKey
from runner.lint.names import TableRef
from runner.lint.ops import Op, OpKind
from runner.lint.versions import NOT_NULL_FROM_CHECK

if TYPE_CHECKING:
    from runner.lint.run_state import RunState, StepRecord
    from runner.lint.sizing import Stats, TableStats
    from runner.lint.versions import ServerVersion

_DATA = (OpKind.UPDATE, OpKind.DELETE, OpKind.INSERT, OpKind.CREATE_TABLE)


class Proofs:
    stats: Stats | None
    run: RunState
    record: StepRecord
    version: ServerVersion
    validated_not_null: set[tuple[str, str]]

    def table_stats(self, table: TableRef) -> TableStats | None:  # pragma: no cover
        raise NotImplementedError("StepContext.table_stats")

    def row_cap(self, op: Op) -> int | None:
        """At most how many rows a bounded data statement touches; None when unbounded."""
        if op.bound is None or op.kind not in _DATA:
            return None
        table = op.table if op.kind in (OpKind.UPDATE, OpKind.DELETE) else None
        if table is None and len(op.reads) == 1:
            table = op.reads[0]
        if table is None:
            return None
        if self.stats is None or self.stats.catalog.server_version_num is None:
            unique = op.bound.column == "id"  # no catalog to ask: the conventional primary key
        else:
            found = self.table_stats(table)
            unique = found is not None and op.bound.column in self.stats.catalog.unique_columns.get(
                found.key, ()
            )
        return op.bound.rows if unique else None

    def has_check_on(self, table: TableRef, columns: tuple[str, ...]) -> bool:
        """A validated CHECK on ``table`` that mentions ``columns`` and keeps them NOT NULL (run or database).

        That is what lets ATTACH PARTITION skip its scan: PostgreSQL must prove the partition bound,
        and a range or list bound includes ``col IS NOT NULL`` (checked on PostgreSQL 15).
        """
        stats = self.table_stats(table)
        covers = set(self.record.checks.get(table.key, ()))
        if self.stats is not None and stats is not None:
            covers |= self.stats.catalog.checks.get(stats.key, frozenset())
        not_null = {name for name, column in stats.columns.items() if column.not_null} if stats else set()
        wanted = frozenset(columns)
        return any(wanted <= cover.columns and wanted <= cover.not_null | not_null for cover in covers)

    def has_foreign_key(self, table: TableRef, key: ForeignKey) -> bool:
        """A validated foreign key on ``table`` with these columns and referenced table (run or database)."""
        if key in self.record.foreign_keys.get(table.key, ()):
            return True
        stats = self.table_stats(table)
        return (
            self.stats is not None
            and stats is not None
            and key in self.stats.catalog.validated_foreign_keys.get(stats.key, ())
        )

    def has_not_null_proof(self, table: TableRef, column: str) -> bool:
        """A validated CHECK (col IS NOT NULL), or the column already NOT NULL: SET NOT NULL skips its scan."""
        stats = self.table_stats(table)
        existing = stats.columns.get(column) if stats else None
        if existing and existing.not_null:
            return True
        if not self.version.has(NOT_NULL_FROM_CHECK):
            return False
        if (table.key, column) in self.validated_not_null or (table.key, column) in self.run.not_null_checks:
            return True
        return stats is not None and column in stats.not_null_checks
