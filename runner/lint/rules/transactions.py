"""TX: what the step's transaction does to its own statements and to everyone else."""

from __future__ import annotations

from collections.abc import Iterator

from runner.lint.context import Origin, StepContext
from runner.lint.estimate import CATALOG_MS
from runner.lint.findings import Finding, Severity
from runner.lint.locks import LockMode
from runner.lint.names import TableRef
from runner.lint.ops import Op, OpKind
from runner.lint.rules.code import block, joined, py
from runner.lint.rules.data import batch_severity, batched, data_size_table, scope
from runner.lint.rules.locks import create_index_code
from runner.lint.rules.registry import rule
from runner.lint.versions import ENUM_VALUE_IN_TRANSACTION

AE = LockMode.ACCESS_EXCLUSIVE
_DATA = (OpKind.UPDATE, OpKind.DELETE, OpKind.INSERT)


def _no_transaction_command(op: Op, ctx: StepContext) -> str | None:
    if op.kind is OpKind.CREATE_INDEX and op.concurrent:
        return "CREATE INDEX CONCURRENTLY"
    if op.kind is OpKind.DROP_INDEX and op.concurrent:
        return "DROP INDEX CONCURRENTLY"
    if op.kind is OpKind.REINDEX and op.concurrent:
        return "REINDEX CONCURRENTLY"
    if op.kind is OpKind.VACUUM or (op.kind is OpKind.REWRITE_TABLE and op.what.startswith("VACUUM")):
        return "VACUUM"
    if op.kind is OpKind.DETACH_PARTITION and op.concurrent:
        return "ALTER TABLE ... DETACH CONCURRENTLY"
    if op.kind is OpKind.ADD_ENUM_VALUE and not ctx.version.has(ENUM_VALUE_IN_TRANSACTION):
        return f"ALTER TYPE ... ADD VALUE, before {ENUM_VALUE_IN_TRANSACTION.release},"
    return None


@rule(
    "TX101",
    "concurrently-in-transaction",
    summary="CONCURRENTLY operations and VACUUM can't run inside the step's transaction.",
    explanation="""
CREATE INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, DETACH PARTITION ...
CONCURRENTLY and VACUUM refuse to run inside a transaction block (SQLSTATE 25001), and Alembic runs each revision in one. Such a step fails
every time, before any of it commits. In Alembic, put the statement in
op.get_context().autocommit_block(), which commits what came before, runs the statement on its own,
and opens a new transaction for the rest. The runner then treats the step as non-transactional:
a failure in it can leave an INVALID index behind, which the runner checks for.
""",
)
def concurrently_in_transaction(ctx: StepContext) -> Iterator[Finding]:
    seen: set[int] = set()
    for op in ctx.ops:
        command = _no_transaction_command(op, ctx)
        if command is None or not op.statement.in_transaction or op.statement.position in seen:
            continue
        seen.add(op.statement.position)
        message = (
            f"{op.sql} runs inside the step's transaction, where PostgreSQL refuses it ({command} cannot run "
            "inside a transaction block, SQLSTATE 25001): the step fails every time, and its transaction rolls back."
        )
        code = (
            create_index_code(op)
            if op.kind is OpKind.CREATE_INDEX
            else block(f"op.execute({py(op.sql)})", autocommit=True)
        )
        help = "Run it in an autocommit block, outside the step's transaction:\n" + code
        yield ctx.finding("TX101", Severity.WARN, message, help, table=op.table, op=op)


@rule(
    "TX102",
    "backfill-in-transaction",
    summary="A large UPDATE, DELETE or INSERT ... SELECT runs inside the step's transaction.",
    explanation="""
A data change inside the migration's transaction keeps every row it touches locked against other
writers until the step commits, and one long transaction holds back VACUUM for the whole database.
If it fails near the end, all of it rolls back and the time is lost. Severity grows with the rows the
statement can touch: all of them when the WHERE clause can't be sized, and at most the range when it
bounds a unique key (WHERE id BETWEEN 1 AND 5000); a batch of up to 10,000 rows is noted only.

Backfill in batches outside the step's transaction: op.get_context().autocommit_block() with one
short statement per batch of keys, each its own transaction. The runner gives steps that change data
the backfill timeout profile. Tables created earlier in the same step are exempt.
""",
)
def backfill_in_transaction(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(*_DATA):
        if not op.statement.in_transaction or op.table is None:
            continue
        if op.kind is OpKind.INSERT and not op.reads:
            continue  # INSERT ... VALUES: a handful of rows
        sized = data_size_table(ctx, number, op)
        if sized is None:
            continue
        size, ms = ctx.size(sized), ctx.hold_ms(number)
        if op.kind is OpKind.INSERT:
            rows = scope(ctx, op, of_table=True) if ctx.row_cap(op) is not None else f"rows from {sized}"
            what = f"INSERT INTO {op.table} ... SELECT copies {rows}"
        else:
            command, verb = ("UPDATE", "changes") if op.kind is OpKind.UPDATE else ("DELETE FROM", "deletes")
            what = f"{command} {op.table} {verb} {scope(ctx, op)}"
        message = (
            f"{what}. It runs inside the step's transaction, so each row it writes stays locked against other "
            "writers until the step commits, and the open transaction holds back VACUUM: "
            f"{ctx.duration(size, ms, 'the data change')}."
        )
        help = (
            "Do it in batches outside the step's transaction, each batch its own short transaction:\n"
            + block(*batched(op.sql))
        )
        yield ctx.finding(
            "TX102",
            batch_severity(ctx, op, ctx.grade(size, ms)),
            message,
            help,
            table=op.table,
            lock=LockMode.ROW_EXCLUSIVE,
            ms=ms,
            op=op,
        )


@rule(
    "TX103",
    "lock-held-during-data-change",
    summary="A data change runs after a schema change that took a blocking lock, in the same transaction.",
    explanation="""
Locks are held until the transaction ends. When a step first changes a table's schema (ACCESS
EXCLUSIVE, or SHARE for an index) and then, in the same transaction, updates or copies many rows, the
schema lock stays held for the whole data change: a statement that alone would lock the table for
milliseconds locks it for as long as the backfill takes.

Split the step: the schema change in one revision, the data change in the next, in batches outside
the transaction (autocommit_block()). Tables created earlier in the same step, and tables this run
creates, are exempt.
""",
)
def lock_held_during_data_change(ctx: StepContext) -> Iterator[Finding]:
    held: dict[str, tuple[int, Op, LockMode, TableRef]] = {}
    reported: set[str] = set()
    for number, op in enumerate(ctx.ops):
        if not op.statement.in_transaction:
            continue
        for use in ctx.uses(number):
            if use.mode < LockMode.SHARE or ctx.is_exempt(use.table, number):
                continue
            if ctx.size(use.table).empty or use.table.key in held:
                continue
            held[use.table.key] = (number, op, use.mode, use.table)
        if op.kind not in _DATA or (op.kind is OpKind.INSERT and not op.reads):
            continue
        sized = data_size_table(ctx, number, op)
        if sized is None:
            continue
        own = ctx.op_ms(number)
        if own is not None and own <= CATALOG_MS:
            continue
        for key, (lock_number, lock_op, mode, table) in held.items():
            same_transaction = lock_op.statement.segment == op.statement.segment
            if not same_transaction or key in reported or lock_number >= number:
                continue
            reported.add(key)
            size, ms = ctx.size(sized), ctx.hold_ms(lock_number)
            message = (
                f"{lock_op.label.removesuffix(f' on {table}')} takes {'an' if mode is AE else 'a'} {mode.label} lock "
                f"on {table}, and the same "
                f"transaction then runs {op.label}, so the lock, which blocks {mode.blocks(str(table))}, stays held "
                f"for the whole data change: {ctx.duration(size, ms, 'the data change')}."
            )
            help = (
                "Split the step: the schema change in one revision, the data change in the next, in batches "
                "outside the transaction:\n"
                + block("# revision 1: only the schema change", "# revision 2:", *batched(op.sql))
            )
            severity = batch_severity(ctx, op, ctx.grade(size, ms))
            yield ctx.finding("TX103", severity, message, help, table=table, lock=mode, ms=ms, op=lock_op)


@rule(
    "TX104",
    "concurrent-build-with-blocking-ddl",
    summary="A step mixes a concurrent index operation with statements that take ACCESS EXCLUSIVE.",
    explanation="""
The runner sets one timeout profile per step. A concurrent index build waits for every transaction
older than itself, so its step gets a lock_timeout of minutes; an ALTER TABLE in the same step would
then also be allowed to wait minutes for its ACCESS EXCLUSIVE lock, and every query on that table
queues behind it while it waits. Give the concurrent operation a revision of its own, so each step
gets the profile it needs.
""",
)
def concurrent_build_with_blocking_ddl(ctx: StepContext) -> Iterator[Finding]:
    concurrent = [
        op
        for op in ctx.ops
        if op.concurrent and op.kind in (OpKind.CREATE_INDEX, OpKind.DROP_INDEX, OpKind.REINDEX)
    ]
    if not concurrent:
        return
    locked: dict[str, TableRef] = {}
    statements: list[Op] = []
    for number, op in enumerate(ctx.ops):
        for use in ctx.uses(number):
            if use.mode is not AE or ctx.is_exempt(use.table, number):
                continue
            if ctx.size(use.table).origin is Origin.NEW:
                continue
            locked.setdefault(use.table.key, use.table)
            statements.append(op)
    if not locked:
        return
    tables = joined(str(t) for t in locked.values())
    what = joined(dict.fromkeys(op.label.removesuffix(f" on {op.table}") for op in statements[:3]))
    empty = all(ctx.size(t).empty for t in locked.values())
    message = (
        f"This step runs {concurrent[0].label} and also takes an ACCESS EXCLUSIVE lock on {tables} ({what}). "
        "A concurrent build needs a lock_timeout of minutes, and the runner sets one timeout profile per step, so "
        f"the ACCESS EXCLUSIVE statements may wait that long in the lock queue, with every query on {tables} "
        "waiting behind them."
    )
    lines = [
        "# revision A: the ALTER TABLE statements (short-lock-ddl profile)",
        "# revision B: only the concurrent operation (concurrent-build profile)",
    ]
    index = concurrent[0]
    help = (
        "Give the concurrent operation a revision of its own:\n"
        + block(*lines)
        + "\n"
        + (
            create_index_code(index)
            if index.kind is OpKind.CREATE_INDEX
            else block(f"op.execute({py(index.sql)})", autocommit=True)
        )
    )
    severity = Severity.INFO if empty else Severity.WARN
    yield ctx.finding(
        "TX104", severity, message, help, table=next(iter(locked.values())), lock=AE, op=concurrent[0]
    )
