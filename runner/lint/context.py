"""What a rule sees of one step: its operations, the sizes they meet, and the run so far.

The same statement means different things in different places: an index on a
table created earlier in the same step is harmless, one on a table an earlier
step of this run creates is built on an empty table, and one on a table of ten
million rows blocks writes for minutes. ``StepContext`` answers those questions
once, so every rule sizes and words them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from runner.lint.estimate import CATALOG_MS, about, proportional_ms
from runner.lint.findings import Finding, Severity
from runner.lint.locks import LockMode, LockUse, Work, lock_uses
from runner.lint.names import TableRef
from runner.lint.ops import Constraint, Op, OpKind
from runner.lint.size import Origin, Size, joined_names
from runner.lint.sizing import Stats, TableStats
from runner.lint.statements import StepSQL
from runner.lint.translate import translate
from runner.lint.types import rewrites

INFO_BELOW_MS = 100  # a lock held for less is harmless at any traffic level
BLOCK_FROM_MS = 1_000  # a write-blocking lock held this long is an outage for a busy table


@dataclass
class RunState:
    """What earlier steps of the run create: the database does not have it yet."""

    tables: dict[str, str] = field(default_factory=dict)  # table key -> revision creating it
    indexes: dict[str, TableRef] = field(default_factory=dict)  # "schema.index" -> its table
    types: dict[str, str] = field(default_factory=dict)
    not_null_checks: set[tuple[str, str]] = field(default_factory=set)  # validated (table key, column)
    unvalidated_not_null: dict[tuple[str, str], str] = field(default_factory=dict)  # (table, check) -> column
    renamed: dict[str, TableRef] = field(default_factory=dict)  # new table key -> the name the database knows

    def absorb(self, context: StepContext) -> None:
        for op in context.ops:
            if op.kind is OpKind.CREATE_TABLE and op.table:
                self.tables.setdefault(op.table.key, context.revision)
            elif op.kind is OpKind.CREATE_INDEX and op.table and op.name:
                self.indexes[_index_key(op.name, op.table.schema)] = op.table
            elif op.kind is OpKind.CREATE_TYPE and op.name:
                self.types.setdefault(_index_key(op.name, op.schema), context.revision)
        self.not_null_checks |= context.validated_not_null
        self.unvalidated_not_null.update(context.unvalidated_not_null)
        self.renamed.update(context.renamed)


class StepContext:
    """One step's operations with their sizes, lock holds and estimates."""

    def __init__(self, step: StepSQL, stats: Stats | None, run: RunState, *, factor: float = 1.0) -> None:
        self.step = step
        self.revision = step.revision.revision
        self.stats = stats
        self.run = run
        self.factor = factor
        self.ops: list[Op] = [op for statement in step.statements for op in translate(statement)]
        self.created_tables: dict[str, int] = {}  # table key -> index of the op creating it
        self.created_indexes: dict[str, TableRef] = {}
        self.created_types: set[str] = set()
        # (table key, name) -> (segment, kind) of constraints added NOT VALID in this step
        self.not_valid_constraints: dict[tuple[str, str], tuple[int, Constraint | None]] = {}
        self.validated_not_null: set[tuple[str, str]] = set()
        self.unvalidated_not_null: dict[tuple[str, str], str] = dict(run.unvalidated_not_null)
        self.renamed: dict[str, TableRef] = dict(run.renamed)
        self._index_tables: dict[int, TableRef | None] = {}
        self._uses: list[tuple[LockUse, ...]] = []
        self._op_ms: list[float | None] = []
        self._hold_ms: list[float | None] = []
        self._statement_ms: dict[int, float | None] = {}
        self._scan()
        self._sum_up()

    # -- the first pass: what the step creates, what each op locks, how long it takes --------------
    def _scan(self) -> None:
        pending_checks = self.unvalidated_not_null  # NOT VALID not-null checks: (table, name) -> column
        for number, op in enumerate(self.ops):
            if op.kind is OpKind.CREATE_TABLE and op.table:
                self.created_tables.setdefault(op.table.key, number)
            elif op.kind is OpKind.CREATE_INDEX and op.table and op.name:
                self.created_indexes[_index_key(op.name, op.table.schema)] = op.table
            elif op.kind is OpKind.CREATE_TYPE and op.name:
                self.created_types.add(_index_key(op.name, op.schema))
            elif op.kind is OpKind.ADD_CONSTRAINT and op.table and op.name and op.not_valid:
                self.not_valid_constraints[(op.table.key, op.name)] = (op.statement.segment, op.constraint)
                if op.checks_not_null:
                    pending_checks[(op.table.key, op.name)] = op.checks_not_null
            elif op.kind is OpKind.ADD_CONSTRAINT and op.table and op.checks_not_null:
                self.validated_not_null.add((op.table.key, op.checks_not_null))
            elif op.kind is OpKind.VALIDATE_CONSTRAINT and op.table and op.name:
                column = pending_checks.get((op.table.key, op.name))
                if column:
                    self.validated_not_null.add((op.table.key, column))
            elif op.kind is OpKind.RENAME_TABLE and op.table and op.new_name:
                new = TableRef(op.new_name, op.table.schema)
                self.renamed[new.key] = self.renamed.get(op.table.key, op.table)
            index_table = None
            if op.kind in (OpKind.DROP_INDEX, OpKind.REINDEX) and op.table is None and op.name:
                index_table = self.table_of_index(op.name, op.schema)
            self._index_tables[number] = index_table
            uses = tuple(self._adjust(op, use) for use in lock_uses(op, index_table=index_table))
            self._uses.append(uses)
            self._op_ms.append(self._estimate(op, uses))

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

    def _adjust(self, op: Op, use: LockUse) -> LockUse:
        """Work that the database's own state makes catalog-only."""
        if op.kind is OpKind.SET_NOT_NULL and self.has_not_null_proof(use.table, op.name or ""):
            return LockUse(use.table, use.mode, Work.CATALOG)
        if op.kind is OpKind.ALTER_COLUMN_TYPE:
            old = self.column_type(use.table, op.name or "")
            if old is not None and not rewrites(old, op.type_name or "", using=op.using):
                return LockUse(use.table, use.mode, Work.CATALOG)
        return use

    def _estimate(self, op: Op, uses: tuple[LockUse, ...]) -> float | None:
        """Catalog time plus the longest size-proportional work; None when a size is unknown."""
        longest = 0.0
        for use in uses:
            if use.work is Work.CATALOG or self.is_exempt(use.table):
                continue
            size = self.size(use.table)
            if size.empty:
                continue
            if size.stats is None:
                return None
            longest = max(longest, proportional_ms(use.work, size.stats, factor=self.factor))
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
        key = _index_key(name, schema)
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

    def has_not_null_proof(self, table: TableRef, column: str) -> bool:
        """A validated CHECK (col IS NOT NULL), or the column already NOT NULL: SET NOT NULL skips its scan."""
        if (table.key, column) in self.validated_not_null or (table.key, column) in self.run.not_null_checks:
            return True
        stats = self.table_stats(table)
        if stats is None:
            return False
        existing = stats.columns.get(column)
        return column in stats.not_null_checks or bool(existing and existing.not_null)

    def column_type(self, table: TableRef, column: str) -> str | None:
        stats = self.table_stats(table)
        found = stats.columns.get(column) if stats else None
        return found.type if found else None

    # -- wording and grading shared by every rule -------------------------------------------------
    def grade(self, size: Size, ms: float | None) -> Severity:
        """Severity of holding a lock for ``ms`` on this table, here."""
        if size.empty:
            return Severity.INFO
        if ms is None:
            return Severity.BLOCK
        if ms < INFO_BELOW_MS:
            return Severity.INFO
        return Severity.WARN if ms < BLOCK_FROM_MS else Severity.BLOCK

    def grade_loss(self, size: Size) -> Severity:
        """Severity of destroying a table's rows: only harmless when there are none."""
        return Severity.INFO if size.empty else Severity.BLOCK

    def duration(self, size: Size, ms: float | None, work: str) -> str:
        """How long, said for this table: 'about 4.2s here (providers has about ...)'."""
        return self.duration_many([size], ms, work)

    def duration_many(self, sizes: list[Size], ms: float | None, work: str) -> str:
        """The same for a lock on several tables at once, held for ``ms``."""
        names = joined_names([str(size.table) for size in sizes])
        if any(size.origin is Origin.ASSUMED for size in sizes):
            if ms is not None:
                noun = "size" if len(sizes) == 1 else "sizes"
                return f"about {about(ms)} once granted, whatever the {noun} of {names}"
            unknown = [size for size in sizes if size.origin is Origin.ASSUMED]
            return f"as long as {work} takes, and {'; '.join(size.describe() for size in unknown)}"
        facts = "; ".join(size.describe() for size in sizes)
        if all(size.empty for size in sizes):
            return f"milliseconds here ({facts})"
        return f"about {about(ms)} here ({facts})"

    def until(self, op: Op) -> str:
        return "until the step commits" if op.statement.in_transaction else "until it finishes"

    def finding(
        self,
        code: str,
        severity: Severity,
        message: str,
        help: str,
        *,
        table: TableRef | None = None,
        lock: LockMode | None = None,
        ms: float | None = None,
        op: Op | None = None,
        one_way: str | None = None,
    ) -> Finding:
        from runner.lint.rules.registry import acknowledge_text, get_rule

        return Finding(
            revision=self.revision,
            code=code,
            slug=get_rule(code).slug,
            severity=severity,
            message=message,
            help=help,
            acknowledge=acknowledge_text(code, self.revision, severity),
            table=str(table) if table else None,
            lock_mode=lock.label if lock else None,
            estimated_lock_ms=None if ms is None else round(ms),
            statement=op.sql if op else None,
            one_way=one_way,
        )


def _index_key(name: str, schema: str | None) -> str:
    return f"{schema or 'public'}.{name}"
