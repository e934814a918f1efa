"""LK: index builds and drops that lock the table for longer than they need to."""

from __future__ import annotations

from collections.abc import Iterator

from runner.lint.context import StepContext
from runner.lint.estimate import about
from runner.lint.findings import Finding, Severity
from runner.lint.locks import LockMode
from runner.lint.names import TableRef
from runner.lint.ops import Op, OpKind
from runner.lint.rules.code import (
    block,
    concurrently,
    py,
    py_list,
    table_args,
)
from runner.lint.rules.registry import rule
from runner.lint.versions import REINDEX_CONCURRENTLY

SHARE, SRE, AE = LockMode.SHARE, LockMode.SHARE_ROW_EXCLUSIVE, LockMode.ACCESS_EXCLUSIVE
_SHORT_NOTE_KINDS = {OpKind.DROP_TABLE, OpKind.TRUNCATE, OpKind.DROP_INDEX, OpKind.LOCK_TABLE}


def create_index_code(op: Op) -> str:
    """op.create_index(..., postgresql_concurrently=True) in an autocommit block, or the SQL."""
    table = op.table or TableRef("?")
    if op.plain_columns and op.name and op.columns:
        extra = ", unique=True" if op.unique else ""
        if op.index_where:
            extra += f", postgresql_where=sa.text({py(op.index_where)})"
        call = (
            f"op.create_index({py(op.name)}, {table_args(table)}, {py_list(op.columns)}{extra}, "
            "postgresql_concurrently=True)"
        )
    else:
        call = f"op.execute({py(concurrently(op.sql))})"
    return block(call, autocommit=True)


@rule(
    "LK101",
    "create-index-non-concurrently",
    summary="CREATE INDEX without CONCURRENTLY blocks every write to the table for the whole build.",
    explanation="""
A plain CREATE INDEX takes a SHARE lock on the table: reads go on, but every INSERT, UPDATE and
DELETE waits until the index is built and, inside a migration, until the step commits. The build
reads and sorts the whole table, so the wait grows with its size: milliseconds on a few thousand
rows, minutes on tens of millions.

CREATE INDEX CONCURRENTLY takes only SHARE UPDATE EXCLUSIVE, which lets reads and writes go on. It
cannot run inside a transaction, so in Alembic it goes in an autocommit_block(), and it waits for
transactions older than itself, so the runner gives such a step the concurrent-build timeout
profile. If a concurrent build fails it leaves an INVALID index behind: drop it (DROP INDEX
CONCURRENTLY) before trying again, because CREATE INDEX IF NOT EXISTS keeps the invalid one.

An index on a table created earlier in the same step is exempt. Acknowledge the finding only when
the table is small enough that the write pause is acceptable, or the application is stopped.
""",
)
def create_index_non_concurrently(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.CREATE_INDEX):
        if op.concurrent or op.table is None or ctx.is_exempt(op.table, number):
            continue
        if ctx.partitioned_table(op.table, number) or (op.only and ctx.stats is None):
            continue  # CONCURRENTLY is refused there: LK112 (ON ONLY builds nothing on a partitioned table)
        size, ms = ctx.size(op.table), ctx.hold_ms(number)
        held = ctx.held_before(number, op.table)
        if held and held[0] > SHARE:  # e.g. sa.Column(..., index=True): ADD COLUMN, then CREATE INDEX
            mode, earlier = held
            under = (
                f"while the {mode.label} lock {earlier.label.removesuffix(f' on {op.table}')} took earlier in this "
                f"transaction is still held, which blocks {mode.blocks(str(op.table))}"
            )
        else:
            mode, under = SHARE, f"under a SHARE lock, which blocks {SHARE.blocks(str(op.table))}"
        message = (
            f"CREATE INDEX {op.name or '(unnamed)'} builds the index on {op.table} {under} {ctx.until(op)}: "
            f"{ctx.duration(size, ms, 'the build')}."
        )
        help = "Build it concurrently, outside the step's transaction:\n" + create_index_code(op)
        yield ctx.finding(
            "LK101", ctx.grade(size, ms), message, help, table=op.table, lock=mode, ms=ms, op=op
        )


@rule(
    "LK102",
    "drop-index-non-concurrently",
    summary="DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the index's table.",
    explanation="""
DROP INDEX is quick once it has its lock, but the lock is ACCESS EXCLUSIVE on the table the index
belongs to: it waits for every query already running on the table, and every query that arrives
meanwhile queues behind it. On a busy table a long-running report is enough to stall all traffic
for as long as the runner's lock_timeout allows.

DROP INDEX CONCURRENTLY takes only SHARE UPDATE EXCLUSIVE. It cannot run inside a transaction, so
in Alembic it goes in an autocommit_block(). An index created earlier in the same step is exempt.
""",
)
def drop_index_non_concurrently(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.DROP_INDEX):
        if op.concurrent or not op.name:
            continue
        index_key = f"{op.schema or 'public'}.{op.name}"
        table = ctx.index_table(number)
        if index_key in ctx.created_indexes or ctx.is_exempt(table, number):
            continue
        ms = ctx.hold_ms(number)
        if table is None:
            if ctx.stats is not None:
                continue  # the database has no such index: IF EXISTS makes it a no-op
            where, blocked = "the table it belongs to", AE.blocks("it")
            severity = Severity.WARN
            how_long = (
                f"about {about(ms)} once granted"
                if ms is not None
                else "as long as the queries before it take"
            )
        else:
            where, blocked = str(table), AE.blocks(str(table))
            size = ctx.size(table)
            severity = Severity.INFO if size.empty else Severity.WARN
            how_long = ctx.duration(size, ms, "the drop")
        message = (
            f"DROP INDEX {op.name} takes an ACCESS EXCLUSIVE lock on {where}, which blocks {blocked} "
            f"{ctx.until(op)}: {how_long}. While it waits for queries already running there, every new query on "
            "that table queues behind it."
        )
        table_name = f", table_name={py(table.name)}" if table else ""
        schema = f", schema={py(op.schema)}" if op.schema else ""
        help = "Drop it concurrently, outside the step's transaction:\n" + block(
            f"op.drop_index({py(op.name)}{table_name}{schema}, postgresql_concurrently=True)", autocommit=True
        )
        yield ctx.finding("LK102", severity, message, help, table=table, lock=AE, ms=ms, op=op)


@rule(
    "LK107",
    "reindex-non-concurrently",
    summary="REINDEX without CONCURRENTLY blocks writes to the table and queries that use the index.",
    explanation="""
REINDEX rebuilds an index holding a SHARE lock on its table (writes wait) and an ACCESS EXCLUSIVE
lock on the index (queries that would use it wait), for as long as the build takes.

REINDEX CONCURRENTLY (PostgreSQL 12 and later) builds a new copy next to the old one and swaps them,
holding only SHARE UPDATE EXCLUSIVE. It cannot run inside a transaction: put it in an
autocommit_block(). If it fails, it leaves an INVALID index named *_ccnew: drop it before retrying.
""",
)
def reindex_non_concurrently(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.REINDEX):
        if op.concurrent:
            continue
        table = op.table or ctx.index_table(number)
        if table is not None and ctx.is_exempt(table, number):
            continue
        ms = ctx.hold_ms(number)
        if table is None:
            size_text, severity = (
                "as long as the rebuild takes, on tables whose size is unknown",
                Severity.BLOCK,
            )
            where = "the tables it covers"
        else:
            size = ctx.size(table)
            size_text, severity, where = (
                ctx.duration(size, ms, "the rebuild"),
                ctx.grade(size, ms),
                str(table),
            )
        message = (
            f"{op.sql} rebuilds under a SHARE lock on {where}, which blocks every INSERT, UPDATE and DELETE there, "
            f"and an ACCESS EXCLUSIVE lock on the index, which blocks queries that would use it, "
            f"{ctx.until(op)}: {size_text}."
        )
        help = "Rebuild it concurrently, outside the step's transaction:\n" + block(
            f"op.execute({py(concurrently(op.sql, 'INDEX|TABLE|SCHEMA|DATABASE|SYSTEM'))})", autocommit=True
        )
        if not ctx.version.has(REINDEX_CONCURRENTLY):
            help = (
                f"{ctx.version.major} has no REINDEX CONCURRENTLY ({REINDEX_CONCURRENTLY.release} and later): build a "
                "new index concurrently next to the old one, then drop the old one concurrently:\n"
                + block(
                    "# CREATE INDEX CONCURRENTLY new_name ON ...; DROP INDEX CONCURRENTLY old_name",
                    autocommit=True,
                )
            )
        yield ctx.finding("LK107", severity, message, help, table=table, lock=SHARE, ms=ms, op=op)
