"""Which table lock each operation takes, and what work it does while holding it.

The modes and what they conflict with come from PostgreSQL's "Explicit Locking"
chapter and the lock level each ALTER TABLE form documents. The work kind says
how long the lock is held: catalog-only DDL takes milliseconds once granted; a
scan, an index build, a rewrite or a data change takes time proportional to the
table. A lock taken inside the step's transaction is held until the step commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from runner.lint.names import TableRef
from runner.lint.ops import Constraint, Fill, Op, OpKind
from runner.lint.versions import ATTACH_SHARE_UPDATE_EXCLUSIVE, CONSTANT_DEFAULT, ServerVersion


class LockMode(IntEnum):
    ACCESS_SHARE = 1
    ROW_SHARE = 2
    ROW_EXCLUSIVE = 3
    SHARE_UPDATE_EXCLUSIVE = 4
    SHARE = 5
    SHARE_ROW_EXCLUSIVE = 6
    EXCLUSIVE = 7
    ACCESS_EXCLUSIVE = 8

    @property
    def label(self) -> str:
        return self.name.replace("_", " ")

    @classmethod
    def named(cls, name: str) -> LockMode:
        """From lint's label ('ACCESS EXCLUSIVE') or pg_locks' name ('AccessExclusiveLock')."""
        if name.endswith("Lock"):
            name = "".join("_" + c if c.isupper() else c for c in name[: -len("Lock")]).lstrip("_")
        return cls[name.replace(" ", "_").upper()]

    def waits_behind(self, held: LockMode) -> bool:
        """Whether a request for this mode waits while ``held`` is granted (PostgreSQL's conflict table)."""
        return held in _CONFLICTS[self]

    @property
    def blocks_writes(self) -> bool:
        return self >= LockMode.SHARE

    def blocks(self, table: str) -> str:
        """What ordinary traffic waits while this lock is held (or queued)."""
        if self is LockMode.ACCESS_EXCLUSIVE:
            return f"every query on {table} (reads included)"
        if self is LockMode.EXCLUSIVE:
            return f"every write to {table} and every SELECT ... FOR UPDATE on it"
        if self >= LockMode.SHARE:
            return f"every INSERT, UPDATE and DELETE on {table}"
        if self is LockMode.SHARE_UPDATE_EXCLUSIVE:
            return f"other schema changes and VACUUM on {table}, but not reads or writes"
        return f"only schema changes on {table}"


_L = LockMode
_CONFLICTS = {
    _L.ACCESS_SHARE: {_L.ACCESS_EXCLUSIVE},
    _L.ROW_SHARE: {_L.EXCLUSIVE, _L.ACCESS_EXCLUSIVE},
    _L.ROW_EXCLUSIVE: {m for m in _L if m >= _L.SHARE},
    _L.SHARE_UPDATE_EXCLUSIVE: {m for m in _L if m >= _L.SHARE_UPDATE_EXCLUSIVE},
    _L.SHARE: {
        _L.ROW_EXCLUSIVE,
        _L.SHARE_UPDATE_EXCLUSIVE,
        _L.SHARE_ROW_EXCLUSIVE,
        _L.EXCLUSIVE,
        _L.ACCESS_EXCLUSIVE,
    },
    _L.SHARE_ROW_EXCLUSIVE: {m for m in _L if m >= _L.ROW_EXCLUSIVE},
    _L.EXCLUSIVE: {m for m in _L if m >= _L.ROW_SHARE},
    _L.ACCESS_EXCLUSIVE: set(_L),
}


class Work(StrEnum):
    """What the statement does to the table while it holds the lock."""

    CATALOG = "catalog"  # metadata only: milliseconds
    SCAN = "scan"  # reads every row (validation)
    BUILD = "build"  # reads and sorts every row into an index
    REWRITE = "rewrite"  # writes a new copy of the table and rebuilds its indexes
    ROWS = "rows"  # changes rows one by one (UPDATE, DELETE, INSERT ... SELECT)


@dataclass(frozen=True)
class LockUse:
    table: TableRef
    mode: LockMode
    work: Work


def lock_uses(
    op: Op, *, index_table: TableRef | None = None, version: ServerVersion | None = None
) -> tuple[LockUse, ...]:
    """The table locks ``op`` takes; ``index_table`` is the table of an index named by DROP/REINDEX."""
    kind = op.kind
    table = op.table
    version = version or ServerVersion()
    if kind is OpKind.CREATE_TABLE:
        parent = (
            (LockUse(op.partition_of, LockMode.ACCESS_EXCLUSIVE, Work.CATALOG),) if op.partition_of else ()
        )
        return (
            parent
            + tuple(LockUse(ref, LockMode.SHARE_ROW_EXCLUSIVE, Work.CATALOG) for ref in op.references)
            + tuple(LockUse(ref, LockMode.ACCESS_SHARE, Work.ROWS) for ref in op.reads)
        )
    if kind is OpKind.CREATE_INDEX and table:
        mode = LockMode.SHARE_UPDATE_EXCLUSIVE if op.concurrent else LockMode.SHARE
        return (LockUse(table, mode, Work.CATALOG if op.only else Work.BUILD),)
    if kind is OpKind.DROP_INDEX and index_table:
        mode = LockMode.SHARE_UPDATE_EXCLUSIVE if op.concurrent else LockMode.ACCESS_EXCLUSIVE
        return (LockUse(index_table, mode, Work.CATALOG),)
    if kind is OpKind.REINDEX:
        target = table or index_table
        if target is None:
            return ()
        mode = LockMode.SHARE_UPDATE_EXCLUSIVE if op.concurrent else LockMode.SHARE
        return (LockUse(target, mode, Work.BUILD),)
    if table is None:
        return ()
    if kind is OpKind.ADD_COLUMN:
        rewrite = op.fill in (Fill.VOLATILE, Fill.GENERATED) or (
            op.fill is Fill.CONSTANT and not version.has(CONSTANT_DEFAULT)
        )
        return (LockUse(table, LockMode.ACCESS_EXCLUSIVE, Work.REWRITE if rewrite else Work.CATALOG),)
    if kind is OpKind.ALTER_COLUMN_TYPE:
        return (LockUse(table, LockMode.ACCESS_EXCLUSIVE, Work.REWRITE),)
    if kind is OpKind.SET_NOT_NULL:
        return (LockUse(table, LockMode.ACCESS_EXCLUSIVE, Work.SCAN),)
    if kind is OpKind.ADD_CONSTRAINT:
        return _constraint_locks(op, table)
    if kind is OpKind.VALIDATE_CONSTRAINT:
        return (LockUse(table, LockMode.SHARE_UPDATE_EXCLUSIVE, Work.SCAN),)
    if kind is OpKind.REWRITE_TABLE:
        return (LockUse(table, LockMode.ACCESS_EXCLUSIVE, Work.REWRITE),)
    if kind in (OpKind.UPDATE, OpKind.DELETE):
        return (LockUse(table, LockMode.ROW_EXCLUSIVE, Work.ROWS),)
    if kind is OpKind.INSERT:
        # The time goes with the rows copied, so it is charged to the tables read.
        reads = tuple(LockUse(ref, LockMode.ACCESS_SHARE, Work.ROWS) for ref in op.reads)
        return (LockUse(table, LockMode.ROW_EXCLUSIVE, Work.CATALOG), *reads)
    if kind is OpKind.LOCK_TABLE:
        return (LockUse(table, LockMode(op.lock_mode or 8), Work.CATALOG),)
    if kind in (OpKind.ATTACH_PARTITION, OpKind.DETACH_PARTITION):
        return _partition_locks(op, table, version)
    if kind in (OpKind.DISABLE_TRIGGER, OpKind.ENABLE_TRIGGER):
        return (LockUse(table, LockMode.SHARE_ROW_EXCLUSIVE, Work.CATALOG),)
    if kind in (OpKind.ROW_SECURITY, OpKind.CREATE_POLICY, OpKind.SET_SCHEMA, OpKind.RENAME_OBJECT):
        return (LockUse(table, LockMode.ACCESS_EXCLUSIVE, Work.CATALOG),)
    if kind is OpKind.ALTER_TABLE:
        return (LockUse(table, LockMode(op.lock_mode or 8), Work.CATALOG),)
    if kind is OpKind.VACUUM:
        return (LockUse(table, LockMode.SHARE_UPDATE_EXCLUSIVE, Work.SCAN),)
    if kind in (
        OpKind.DROP_COLUMN,
        OpKind.RENAME_COLUMN,
        OpKind.RENAME_TABLE,
        OpKind.DROP_TABLE,
        OpKind.TRUNCATE,
    ):
        return (LockUse(table, LockMode.ACCESS_EXCLUSIVE, Work.CATALOG),)
    return ()


def _partition_locks(op: Op, parent: TableRef, version: ServerVersion) -> tuple[LockUse, ...]:
    """ATTACH scans the partition for rows outside its bound; DETACH ... CONCURRENTLY spares the parent."""
    partition = op.partition or TableRef("?")
    if op.kind is OpKind.ATTACH_PARTITION:
        weak = version.has(ATTACH_SHARE_UPDATE_EXCLUSIVE)
        mode = LockMode.SHARE_UPDATE_EXCLUSIVE if weak else LockMode.ACCESS_EXCLUSIVE
        return (LockUse(parent, mode, Work.CATALOG), LockUse(partition, LockMode.ACCESS_EXCLUSIVE, Work.SCAN))
    if op.concurrent or op.what == "FINALIZE":
        return (
            LockUse(parent, LockMode.SHARE_UPDATE_EXCLUSIVE, Work.CATALOG),
            LockUse(partition, LockMode.ACCESS_EXCLUSIVE, Work.CATALOG),
        )
    return (
        LockUse(parent, LockMode.ACCESS_EXCLUSIVE, Work.CATALOG),
        LockUse(partition, LockMode.ACCESS_EXCLUSIVE, Work.CATALOG),
    )


def _constraint_locks(op: Op, table: TableRef) -> tuple[LockUse, ...]:
    constraint = op.constraint
    if constraint is Constraint.FOREIGN_KEY:
        work = Work.CATALOG if op.not_valid or op.on_new_column else Work.SCAN
        own = LockUse(table, LockMode.SHARE_ROW_EXCLUSIVE, work)
        return (own, *(LockUse(ref, LockMode.SHARE_ROW_EXCLUSIVE, Work.CATALOG) for ref in op.references))
    if constraint is Constraint.CHECK:
        return (LockUse(table, LockMode.ACCESS_EXCLUSIVE, Work.CATALOG if op.not_valid else Work.SCAN),)
    if constraint in (Constraint.UNIQUE, Constraint.PRIMARY_KEY):
        return (LockUse(table, LockMode.ACCESS_EXCLUSIVE, Work.CATALOG if op.using_index else Work.BUILD),)
    return (LockUse(table, LockMode.ACCESS_EXCLUSIVE, Work.BUILD),)
