"""TX: bulk copies and whole-table data changes, which are one long transaction whatever wraps them.

A statement is a transaction of its own even in an autocommit_block(): an UPDATE
of every row locks every row until it ends, writes a new version of each (the
table doubles until VACUUM) and sends all of it through the WAL to every
replica. A batch bounded by a unique key (``WHERE id BETWEEN 1 AND 5000``) is
what the safe recipes are made of, and is judged by its bound, not by the table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from runner.lint.context import StepContext
from runner.lint.estimate import size_text
from runner.lint.findings import Finding, Severity
from runner.lint.locks import LockMode
from runner.lint.names import TableRef
from runner.lint.ops import Op, OpKind
from runner.lint.rules.code import INDENT, block, py
from runner.lint.rules.registry import rule

BATCH_ROWS = 10_000  # a data statement bounded to this many rows by a unique key is one batch: fine
_DATA = (OpKind.UPDATE, OpKind.DELETE, OpKind.INSERT)


def batched(sql: str) -> list[str]:
    """The statement as a loop of short transactions over an integer key ``id``."""
    match = re.search(r"\s+WHERE\s+", sql, re.IGNORECASE)
    base, condition = (sql[: match.start()], sql[match.end() :]) if match else (sql, "")
    escaped = (base.replace("{", "{{").replace("}", "}}"), condition.replace("{", "{{").replace("}", "}}"))
    where = f"({escaped[1]}) AND " if condition else ""
    statement = f"{escaped[0]} WHERE {where}id >= {{start}} AND id < {{start + 10_000}}"
    return [
        "with op.get_context().autocommit_block():",
        INDENT + "for start in range(0, MAX_ID + 1, 10_000):  # one short transaction per batch",
        INDENT * 2 + f"op.execute(f{py(statement)})",
    ]


def data_size_table(ctx: StepContext, number: int, op: Op) -> TableRef | None:
    """The table whose size decides how long a data statement runs: the one it reads or changes."""
    if op.kind in (OpKind.INSERT, OpKind.CREATE_TABLE):
        reads = [ref for ref in op.reads if not ctx.is_exempt(ref, number)]
        return reads[0] if reads else None
    return None if ctx.is_exempt(op.table, number) else op.table


def is_batch(ctx: StepContext, op: Op) -> bool:
    """Bounded by a unique key to at most BATCH_ROWS rows."""
    cap = ctx.row_cap(op)
    return cap is not None and cap <= BATCH_ROWS


def scope(ctx: StepContext, op: Op, *, of_table: bool = False) -> str:
    """'every row of t', 'at most 5,000 rows (id from 1 to 5,000)', 'the rows its WHERE clause matches, ...'."""
    cap, table = ctx.row_cap(op), data_target(op)
    if cap is not None and op.bound is not None:
        of = f" of {table}" if of_table else ""
        return f"at most {cap:,} row{'s' if cap != 1 else ''}{of} ({op.bound.text})"
    if not op.where:
        return f"every row of {table}"
    return f"the rows its WHERE clause matches, up to every row of {table}"


def data_target(op: Op) -> TableRef | None:
    return op.reads[0] if op.kind in (OpKind.INSERT, OpKind.CREATE_TABLE) and op.reads else op.table


def _copy(ctx: StepContext, number: int, op: Op) -> tuple[TableRef, str] | None:
    sized = data_size_table(ctx, number, op)
    if sized is None or ctx.size(sized).empty:
        return None
    stats = ctx.size(sized).stats
    volume = f" (about {size_text(stats.table_bytes)})" if stats and ctx.row_cap(op) is None else ""
    return sized, volume


@rule(
    "TX105",
    "create-table-as-select",
    summary="CREATE TABLE ... AS SELECT copies a large table in one statement: one long transaction, all of it "
    "through the WAL.",
    explanation="""
CREATE TABLE ... AS SELECT (and SELECT ... INTO) copies every selected row in one statement: it is
one long transaction that holds back VACUUM for the whole database, keeps an ACCESS SHARE lock on the
source (so any ALTER of it, and every query queued behind that ALTER, waits), and writes the whole
copy to the WAL at once, which replicas and backups must absorb. Inside the step's transaction every
lock taken before it is held for the whole copy too.

Create the table empty (CREATE TABLE ... AS ... WITH NO DATA keeps the same columns), then copy in
batches outside the step's transaction, each batch its own short transaction. A copy bounded by a
unique key to a few thousand rows is fine and not flagged; neither is a copy of an empty table.
""",
    recipe="""
op.execute("CREATE TABLE accounts_copy AS SELECT * FROM accounts WITH NO DATA")
with op.get_context().autocommit_block():
    for start in range(0, MAX_ID + 1, 10_000):  # one short transaction per batch
        op.execute(f"INSERT INTO accounts_copy SELECT * FROM accounts WHERE id >= {start} AND id < {start + 10_000}")
""",
)
def create_table_as_select(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.CREATE_TABLE):
        if not op.what or op.table is None or is_batch(ctx, op):
            continue
        found = _copy(ctx, number, op)
        if found is None:
            continue
        sized, volume = found
        size, ms = ctx.size(sized), ctx.hold_ms(number)
        what = (
            f"SELECT ... INTO {op.table}"
            if op.what == "SELECT INTO"
            else f"CREATE TABLE {op.table} AS SELECT"
        )
        message = (
            f"{what} copies {scope(ctx, op, of_table=True)} in one statement{volume}: one long "
            f"transaction that holds back VACUUM, keeps {sized} locked against schema changes {ctx.until(op)}, and "
            f"writes the whole copy to the WAL at once: {ctx.duration(size, ms, 'the copy')}."
        )
        select = re.split(r"\bAS\b", op.sql, maxsplit=1, flags=re.IGNORECASE)
        query = select[1].strip() if op.what == "CREATE TABLE AS" and len(select) > 1 else "SELECT ..."
        empty = f"CREATE TABLE {op.table} AS {query} WITH NO DATA"
        help = "Create it empty, then copy in batches, each its own short transaction:\n" + block(
            f"op.execute({py(empty)})", *batched(f"INSERT INTO {op.table} {query}")
        )
        yield ctx.finding("TX105", ctx.grade(size, ms), message, help, table=sized, ms=ms, op=op)


@rule(
    "TX106",
    "single-statement-bulk-change",
    summary="An UPDATE or DELETE of every row, or an INSERT ... SELECT of a whole table, runs as one statement "
    "outside the step's transaction.",
    explanation="""
An autocommit_block() takes a data change out of the step's transaction, but one statement is still
one transaction: an UPDATE or DELETE without a WHERE clause, or an INSERT ... SELECT of a whole table,
locks every row it writes until it ends, holds back VACUUM for the whole database meanwhile, writes
every changed row to the WAL at once, and an UPDATE leaves a dead version of every row behind (the
table doubles until VACUUM). TX102 covers the same statements inside the step's transaction.

Loop over the key in batches of a few thousand rows, each its own statement; a statement bounded by
a unique key (WHERE id BETWEEN 1 AND 5000) is such a batch and is not flagged.
""",
    recipe="""
with op.get_context().autocommit_block():
    for start in range(0, MAX_ID + 1, 10_000):  # one short statement per batch
        op.execute(f"UPDATE accounts SET note = '' WHERE id >= {start} AND id < {start + 10_000}")
""",
)
def single_statement_bulk_change(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(*_DATA):
        if op.statement.in_transaction or op.table is None or is_batch(ctx, op):
            continue  # in the step's transaction: TX102
        if op.kind is OpKind.INSERT and not op.reads:
            continue  # INSERT ... VALUES
        if op.kind is not OpKind.INSERT and op.where:
            continue  # a WHERE clause that can't be sized: judged by the rehearsal
        found = _copy(ctx, number, op)
        if found is None:
            continue
        sized, volume = found
        size, ms = ctx.size(sized), ctx.hold_ms(number)
        verb = {OpKind.UPDATE: "changes", OpKind.DELETE: "deletes", OpKind.INSERT: "copies"}[op.kind]
        what = {
            OpKind.UPDATE: f"UPDATE {op.table}",
            OpKind.DELETE: f"DELETE FROM {op.table}",
            OpKind.INSERT: f"INSERT INTO {op.table} ... SELECT",
        }[op.kind]
        dead = (
            " and leaves a dead version of every row it changes for VACUUM"
            if op.kind is OpKind.UPDATE
            else ""
        )
        message = (
            f"{what} {verb} {scope(ctx, op, of_table=True)} in one statement{volume}, outside the step's transaction but "
            f"still one transaction: it locks every row it writes until it ends, holds back VACUUM, writes all of "
            f"it to the WAL at once{dead}: {ctx.duration(size, ms, 'the statement')}."
        )
        help = "Loop over the key in batches, each its own short statement:\n" + block(*batched(op.sql))
        yield ctx.finding(
            "TX106",
            ctx.grade(size, ms),
            message,
            help,
            table=op.table,
            lock=LockMode.ROW_EXCLUSIVE,
            ms=ms,
            op=op,
        )


def batch_severity(ctx: StepContext, op: Op, severity: Severity) -> Severity:
    """A bounded batch is fine whatever the table's size."""
    return Severity.INFO if is_batch(ctx, op) else severity
