"""What a rule sees of one step: its operations, the sizes they meet, and the run so far.

The same statement means different things in different places: an index on a
table created earlier in the same step is harmless, one on a table an earlier
step of this run creates is built on an empty table, and one on a table of ten
million rows blocks writes for minutes. ``StepContext`` answers those questions
once, so every rule sizes and words them the same way. It also knows the
server's release (``version``), which tables are partitioned, and which locks an
earlier statement of the same transaction still holds.
"""

from __future__ import annotations

from dataclasses import replace

from runner.lint.estimate import CATALOG_MS, proportional_ms
from runner.lint.locks import LockMode, LockUse, Work, lock_uses
from runner.lint.names import TableRef
from runner.lint.ops import Constraint, Op, OpKind
from runner.lint.partitioned import PartitionedTable, parent_of, partitioned_table
from runner.lint.proofs import Proofs
from runner.lint.run_state import RunState, StepRecord, object_key
from runner.lint.size import Origin, Size
from runner.lint.sizing import Stats, TableStats
from runner.lint.statements import StepSQL
from runner.lint.translate import translate
from runner.lint.types import rewrites
from runner.lint.versions import ServerVersion
from runner.lint.wording import BLOCK_FROM_MS, INFO_BELOW_MS, Wording

__all__ = ["BLOCK_FROM_MS", "INFO_BELOW_MS", "Origin", "RunState", "Size", "StepContext"]


class StepContext(Proofs, Wording):
    """One step's operations with their sizes, lock holds and estimates."""

    def __init__(
        self,
        step: StepSQL,
        stats: Stats | None,
        run: RunState,
        *,
        factor: float = 1.0,
        version: ServerVersion | None = None,
    ) -> None:
        self.step = step
        self.revision = step.revision.revision
        self.stats = stats
        self.run = run.snapshot()
        self.factor = factor
        self.version = version or ServerVersion()
        self.ops: list[Op] = [op for statement in step.statements for op in translate(statement)]
        self.record = StepRecord(run)
        record = self.record  # what the step creates and proves, op by op
        self.created_tables, self.created_indexes = record.created_tables, record.created_indexes
        self.created_types, self.not_valid_constraints = record.created_types, record.not_valid_constraints
        self.validated_not_null, self.unvalidated_not_null = (
            record.validated_not_null,
            record.unvalidated_not_null,
        )
        self.renamed, self.partitioned_here, self.partitions_here = (
            record.renamed,
            record.partitioned_here,
            record.partitions_here,
        )
        self._index_tables: dict[int, TableRef | None] = {}
        self._uses: list[tuple[LockUse, ...]] = []
        self._op_ms: list[float | None] = []
        self._hold_ms: list[float | None] = []
        self._statement_ms: dict[int, float | None] = {}
        self._scan()
        self._sum_up()

    # -- the first pass: what the step creates, what each op locks, how long it takes --------------
    def _scan(self) -> None:
        for number, op in enumerate(self.ops):
            self.record.note(number, op)
            index_table = None
            if op.kind in (OpKind.DROP_INDEX, OpKind.REINDEX) and op.table is None and op.name:
                index_table = self.table_of_index(op.name, op.schema)
            self._index_tables[number] = index_table
            found = lock_uses(op, index_table=index_table, version=self.version) + self._partition_uses(
                number, op
            )
            uses = tuple(self._adjust(number, op, use) for use in found)
            self._uses.append(uses)
            self._op_ms.append(self._estimate(op, uses))

    def _partition_uses(self, number: int, op: Op) -> tuple[LockUse, ...]:
        """Locks on tables the statement does not name: the default partition, a partition's parent."""
        ae = LockMode.ACCESS_EXCLUSIVE
        if op.kind is OpKind.DROP_TABLE and op.table:
            parent = parent_of(self, op.table)
            return (LockUse(parent, ae, Work.CATALOG),) if parent else ()
        parent_ref = op.partition_of if op.kind is OpKind.CREATE_TABLE else op.table
        if parent_ref is None or op.kind not in (
            OpKind.CREATE_TABLE,
            OpKind.ATTACH_PARTITION,
            OpKind.DETACH_PARTITION,
        ):
            return ()
        partitioned = partitioned_table(self, parent_ref, number)
        if partitioned is None or partitioned.default is None or op.default_partition:
            return ()
        if op.kind is OpKind.DETACH_PARTITION:
            return () if op.concurrent else (LockUse(partitioned.default, ae, Work.CATALOG),)
        return (LockUse(partitioned.default, ae, Work.SCAN),)  # rows that now belong to the new partition?

    def _sum_up(self) -> None:
        """Per statement, and per lock to the end of its transaction, in one backward pass."""
        remaining: dict[int, float | None] = {}  # segment -> time from here to its end
        holds: list[float | None] = [None] * len(self.ops)
        for number in range(len(self.ops) - 1, -1, -1):
            statement = self.ops[number].statement
            own = self._op_ms[number]
            if statement.position in self._statement_ms:
                before = self._statement_ms[statement.position]
                self._statement_ms[statement.position] = (
                    None if before is None or own is None else before + own
                )
            else:
                self._statement_ms[statement.position] = own
            if not statement.in_transaction:
                holds[number] = own
                continue
            later = remaining.get(statement.segment, 0.0)
            total = None if later is None or own is None else later + own
            remaining[statement.segment] = total
            holds[number] = total
        self._hold_ms = holds

    def _adjust(self, number: int, op: Op, use: LockUse) -> LockUse:
        """Work that the database's own state makes catalog-only."""
        catalog = LockUse(use.table, use.mode, Work.CATALOG)
        plain_only = op.kind is OpKind.CREATE_INDEX and op.only and self.stats is not None
        if plain_only and partitioned_table(self, use.table, number) is None:
            return LockUse(use.table, use.mode, Work.BUILD)  # ON ONLY a plain table still builds
        if op.kind is OpKind.SET_NOT_NULL and self.has_not_null_proof(use.table, op.name or ""):
            return catalog
        if op.kind is OpKind.ALTER_COLUMN_TYPE:
            old = self.column_type(use.table, op.name or "")
            if old is not None and not rewrites(old, op.type_name or "", using=op.using):
                return catalog
        if (
            op.kind is OpKind.ATTACH_PARTITION
            and use.work is Work.SCAN
            and op.table
            and use.table == op.partition
        ):
            parent = partitioned_table(self, op.table, number)
            if (
                parent is not None
                and parent.key_columns
                and not parent.key_expressions
                and self.has_check_on(use.table, parent.key_columns)
            ):
                return catalog
        if (
            op.kind is OpKind.ADD_CONSTRAINT
            and op.constraint is Constraint.FOREIGN_KEY
            and use.work is Work.SCAN
        ):
            parent = partitioned_table(self, use.table, number)
            wanted = (op.columns, op.references[0].key if op.references else "")
            if (
                parent
                and parent.partitions
                and all(self.has_foreign_key(p, wanted) for p in parent.partitions)
            ):
                return catalog  # the partitioned table's key adopts its partitions' validated ones
        return use

    def _estimate(self, op: Op, uses: tuple[LockUse, ...]) -> float | None:
        """Catalog time plus the longest size-proportional work; None when a size is unknown."""
        longest = 0.0
        cap = self.row_cap(op)
        for use in uses:
            if use.work is Work.CATALOG or self.is_exempt(use.table):
                continue
            size = self.size(use.table)
            if size.empty:
                continue
            if size.stats is None:
                if use.work is not Work.ROWS or cap is None:
                    return None
                stats = TableStats("", "", cap, 0)
            else:
                stats = size.stats
            if use.work is Work.ROWS and cap is not None and cap < stats.rows:
                stats = replace(stats, rows=cap)
            longest = max(longest, proportional_ms(use.work, stats, factor=self.factor))
        return CATALOG_MS + longest

    # -- questions rules ask -------------------------------------------------------------------
    def ops_of(self, *kinds: OpKind) -> list[tuple[int, Op]]:
        return [(n, op) for n, op in enumerate(self.ops) if op.kind in kinds]

    def is_exempt(self, table: TableRef | None, before: int | None = None) -> bool:
        """Created earlier in this same step: nothing else can be using it yet."""
        if table is None:
            return False
        created = self.created_tables.get(table.key)
        return created is not None and (before is None or created < before)

    def table_stats(self, table: TableRef) -> TableStats | None:
        """The database's numbers for ``table``, following renames made earlier in the run."""
        if self.stats is None:
            return None
        found = self.stats.find(table)
        if found is None and table.key in self.renamed:
            found = self.stats.find(self.renamed[table.key])
        return found

    def size(self, table: TableRef) -> Size:
        if self.stats is not None:
            found = self.table_stats(table)
            if found is not None:
                return Size(table, Origin.MEASURED, found)
            return Size(table, Origin.NEW, created_by=self.run.tables.get(table.key))
        created_by = self.run.tables.get(table.key)
        if created_by is not None and table.key not in self.renamed:
            return Size(table, Origin.NEW, created_by=created_by)
        return Size(table, Origin.ASSUMED)

    def table_of_index(self, name: str, schema: str | None) -> TableRef | None:
        key = object_key(name, schema)
        found = self.created_indexes.get(key) or self.run.indexes.get(key)
        if found is None and self.stats is not None:
            found = self.stats.table_of_index(name, schema)
        return found

    def index_table(self, number: int) -> TableRef | None:
        return self._index_tables.get(number)

    def uses(self, number: int) -> tuple[LockUse, ...]:
        return self._uses[number]

    def op_ms(self, number: int) -> float | None:
        return self._op_ms[number]

    def statement_ms(self, position: int) -> float | None:
        return self._statement_ms.get(position, 0.0)

    def hold_ms(self, number: int) -> float | None:
        """How long a lock taken by op ``number`` is held: to the end of its transaction."""
        return self._hold_ms[number]

    def held_before(self, number: int, table: TableRef) -> tuple[LockMode, Op] | None:
        """The strongest lock on ``table`` an earlier statement of the same transaction still holds."""
        op = self.ops[number]
        if not op.statement.in_transaction:
            return None
        strongest: tuple[LockMode, Op] | None = None
        for earlier in range(number):
            other = self.ops[earlier]
            if other.statement.segment != op.statement.segment or other.statement is op.statement:
                continue
            for use in self._uses[earlier]:
                if use.table.key == table.key and (strongest is None or use.mode > strongest[0]):
                    strongest = (use.mode, other)
        return strongest

    def partitioned_table(self, table: TableRef, before: int | None = None) -> PartitionedTable | None:
        return partitioned_table(self, table, before)

    def column_type(self, table: TableRef, column: str) -> str | None:
        stats = self.table_stats(table)
        found = stats.columns.get(column) if stats else None
        return found.type if found else None
