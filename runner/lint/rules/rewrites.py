"""RW: statements that copy the whole table (and rebuild its indexes) under ACCESS EXCLUSIVE."""

from __future__ import annotations

from collections.abc import Iterator

from runner.lint.context import StepContext
from runner.lint.findings import Finding, Severity
from runner.lint.locks import LockMode, Work
from runner.lint.ops import Fill, OpKind
from runner.lint.rules.code import INDENT, block, parenthesized_after, py
from runner.lint.rules.registry import rule
from runner.lint.versions import CONSTANT_DEFAULT

AE = LockMode.ACCESS_EXCLUSIVE


def _backfill(table: str, assignment: str, condition: str = "") -> list[str]:
    where = f"{condition} AND " if condition else ""
    return [
        "with op.get_context().autocommit_block():",
        INDENT + "for start in range(0, MAX_ID + 1, 10_000):  # one short transaction per batch",
        INDENT * 2
        + f'op.execute(f"UPDATE {table} SET {assignment} WHERE {where}id >= {{start}} AND id < {{start + 10_000}}")',
    ]


@rule(
    "RW101",
    "column-type-rewrite",
    summary="Changing a column's type rewrites the table and its indexes unless the types are binary compatible.",
    explanation="""
ALTER COLUMN ... TYPE copies every row into a new file and rebuilds every index of the table while
holding an ACCESS EXCLUSIVE lock. PostgreSQL skips the copy only when the old type is binary
compatible with the new one and there is no USING expression: widening varchar(n), removing a length
limit, varchar to text, raising a numeric precision at the same scale. With a database URL the rule
reads the column's current type; without one it assumes a rewrite.

For a large table add a new column, backfill it in batches, move the application over and drop the
old column, each in its own revision.
""",
)
def column_type_rewrite(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.ALTER_COLUMN_TYPE):
        if op.table is None or ctx.is_exempt(op.table, number):
            continue
        if all(use.work is not Work.REWRITE for use in ctx.uses(number)):
            continue
        size, ms = ctx.size(op.table), ctx.hold_ms(number)
        column, new = op.name or "?", op.type_name or "?"
        old = ctx.column_type(op.table, column)
        if op.using:
            why = "its USING expression computes a new value for every row"
        elif old is not None:
            why = f"{old} is not binary compatible with {new}"
        else:
            why = "the current type can't be compared without a database URL"
        message = (
            f"ALTER COLUMN {column} TYPE {new} on {op.table} rewrites the whole table and rebuilds its indexes "
            f"({why}) while holding an ACCESS EXCLUSIVE lock, which blocks {AE.blocks(str(op.table))} "
            f"{ctx.until(op)}: {ctx.duration(size, ms, 'the rewrite')}."
        )
        new_column = f"{column}_new"
        help = (
            "Add a new column, backfill it in batches, move the application over, then swap the columns in a "
            "later revision:\n"
            + block(
                f"op.add_column({py(op.table.name)}, sa.Column({py(new_column)}, ...))  # type {new}, nullable",
                *_backfill(str(op.table), f"{new_column} = {column}", f"{new_column} IS NULL"),
                "# later, once the application uses the new column:",
                f"op.drop_column({py(op.table.name)}, {py(column)})",
                f"op.alter_column({py(op.table.name)}, {py(new_column)}, new_column_name={py(column)})",
            )
        )
        yield ctx.finding("RW101", ctx.grade(size, ms), message, help, table=op.table, lock=AE, ms=ms, op=op)


@rule(
    "RW102",
    "volatile-default-rewrite",
    summary="ADD COLUMN with a volatile default (or serial/identity) computes a value per row and rewrites "
    "the table.",
    explanation="""
Since PostgreSQL 11, ADD COLUMN with a constant or STABLE default (now(), 'active', 0) only writes
the catalog. A volatile default (random(), gen_random_uuid(), clock_timestamp(), nextval()), a serial
type or an identity column must compute a value for every existing row, so the table is rewritten
and its indexes rebuilt under an ACCESS EXCLUSIVE lock. A function the linter does not know is
treated as volatile.

Add the column without the default, set the default for new rows with ALTER COLUMN ... SET DEFAULT
(catalog only), and backfill existing rows in batches outside the step's transaction. Before
PostgreSQL 11 even a constant default rewrites the table; the verdict follows the target's release.
""",
)
def volatile_default_rewrite(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.ADD_COLUMN):
        old_release = op.fill is Fill.CONSTANT and not ctx.version.has(CONSTANT_DEFAULT)
        if (
            not (op.fill is Fill.VOLATILE or old_release)
            or op.table is None
            or ctx.is_exempt(op.table, number)
        ):
            continue
        size, ms = ctx.size(op.table), ctx.hold_ms(number)
        column, filler = op.name or "?", op.filler or "its default"
        if old_release:
            why = (
                f"{ctx.version.major} stores the default in every existing row; {CONSTANT_DEFAULT.release} and later "
                "keep a constant default in the catalog"
            )
            default = "..."
        elif filler == "an identity sequence":
            why = "an identity column draws a sequence value for every existing row"
            default = f"nextval('{op.table.name}_{column}_seq')"
        elif filler.endswith("serial") or filler in ("serial2", "serial4", "serial8"):
            why = f"a {filler} column draws a sequence value for every existing row"
            default = f"nextval('{op.table.name}_{column}_seq')"
        else:
            kind = "volatile" if op.filler_known_volatile else "not known to be STABLE or IMMUTABLE"
            why = f"its default {filler} is {kind}, so it is evaluated for every existing row"
            default = filler
        message = (
            f"ADD COLUMN {column} on {op.table} rewrites the whole table and rebuilds its indexes ({why}) while "
            f"holding an ACCESS EXCLUSIVE lock, which blocks {AE.blocks(str(op.table))} {ctx.until(op)}: "
            f"{ctx.duration(size, ms, 'the rewrite')}."
        )
        lines = [
            f"op.add_column({py(op.table.name)}, sa.Column({py(column)}, ...))  # no default: catalog only"
        ]
        if default.startswith("nextval("):
            sequence = f"{op.table.name}_{column}_seq"
            lines.append(f"op.execute({py(f'CREATE SEQUENCE {sequence} OWNED BY {op.table}.{column}')})")
        lines.append(
            f"op.execute({py(f'ALTER TABLE {op.table} ALTER COLUMN {column} SET DEFAULT {default}')})"
        )
        lines.extend(_backfill(str(op.table), f"{column} = {default}", f"{column} IS NULL"))
        help = (
            "Add the column without the default, give new rows the default separately, and backfill existing "
            "rows in batches:\n" + block(*lines)
        )
        yield ctx.finding("RW102", ctx.grade(size, ms), message, help, table=op.table, lock=AE, ms=ms, op=op)


@rule(
    "RW103",
    "stored-generated-column",
    summary="Adding a stored generated column computes it for every row and rewrites the table.",
    explanation="""
ADD COLUMN ... GENERATED ALWAYS AS (...) STORED evaluates the expression for every existing row and
rewrites the table and its indexes under an ACCESS EXCLUSIVE lock.

On a large table add a plain column instead, keep it filled for new and updated rows with a trigger
(or in application code), and backfill existing rows in batches; or compute the value at query time
(a view, an expression index, or PostgreSQL 18's VIRTUAL generated columns, which store nothing).
""",
)
def stored_generated_column(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.ADD_COLUMN):
        if op.fill is not Fill.GENERATED or op.table is None or ctx.is_exempt(op.table, number):
            continue
        size, ms = ctx.size(op.table), ctx.hold_ms(number)
        column = op.name or "?"
        message = (
            f"ADD COLUMN {column} on {op.table} is a stored generated column: PostgreSQL computes it for every "
            f"existing row and rewrites the whole table and its indexes while holding an ACCESS EXCLUSIVE lock, "
            f"which blocks {AE.blocks(str(op.table))} {ctx.until(op)}: {ctx.duration(size, ms, 'the rewrite')}."
        )
        help = (
            "Add a plain column, keep it filled for new rows with a trigger, and backfill existing rows in "
            "batches:\n"
            + block(
                f"op.add_column({py(op.table.name)}, sa.Column({py(column)}, ...))  # nullable, no default",
                "# a trigger (or the application) fills the column for new and updated rows",
                *_backfill(
                    str(op.table), f"{column} = {parenthesized_after(op.sql, 'AS')}", f"{column} IS NULL"
                ),
            )
        )
        yield ctx.finding("RW103", ctx.grade(size, ms), message, help, table=op.table, lock=AE, ms=ms, op=op)


@rule(
    "RW104",
    "table-rewrite-command",
    summary="VACUUM FULL, CLUSTER, SET TABLESPACE and SET LOGGED/UNLOGGED rewrite the table under ACCESS "
    "EXCLUSIVE.",
    explanation="""
These commands write a new copy of the whole table and rebuild its indexes while holding an ACCESS
EXCLUSIVE lock: no query can use the table until they finish. They are maintenance, not schema
changes, and do not belong in a migration that runs against live traffic.

Run them in a maintenance window, or use an online tool such as pg_repack or pg_squeeze, outside the
migration. (VACUUM FULL also cannot run inside a transaction: see TX101.)
""",
)
def table_rewrite_command(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.REWRITE_TABLE):
        if op.table is not None and ctx.is_exempt(op.table, number):
            continue
        ms = ctx.hold_ms(number)
        if op.table is None:
            where, how_long = "every table it covers", "as long as the rewrite takes"
            severity = Severity.BLOCK
        else:
            size = ctx.size(op.table)
            where, how_long, severity = (
                str(op.table),
                ctx.duration(size, ms, "the rewrite"),
                ctx.grade(size, ms),
            )
        message = (
            f"{op.what} {where} rewrites the whole table and its indexes while holding an ACCESS EXCLUSIVE lock, "
            f"which blocks {AE.blocks(where)} {ctx.until(op)}: {how_long}."
        )
        help = (
            "Take it out of the migration and run it in a maintenance window, or online with pg_repack:\n"
            + block(f"# remove: op.execute({py(op.sql)})")
        )
        yield ctx.finding("RW104", severity, message, help, table=op.table, lock=AE, ms=ms, op=op)
