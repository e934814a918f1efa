"""LK: constraints whose validation or index build runs under a blocking lock."""

from __future__ import annotations

from collections.abc import Iterator

from runner.lint.context import StepContext
from runner.lint.findings import Finding
from runner.lint.locks import LockMode, Work
from runner.lint.names import TableRef
from runner.lint.ops import Constraint, Fill, Op, OpKind
from runner.lint.rules.code import (
    INDENT,
    block,
    parenthesized_after,
    py,
    py_list,
    table_args,
)
from runner.lint.rules.registry import rule
from runner.lint.versions import NOT_NULL_FROM_CHECK

SHARE, SRE, AE = LockMode.SHARE, LockMode.SHARE_ROW_EXCLUSIVE, LockMode.ACCESS_EXCLUSIVE
_SHORT_NOTE_KINDS = {OpKind.DROP_TABLE, OpKind.TRUNCATE, OpKind.DROP_INDEX, OpKind.LOCK_TABLE}


def validate_later(table: TableRef, name: str) -> str:
    """op.execute(...) of the VALIDATE CONSTRAINT that follows an ADD ... NOT VALID."""
    return f"op.execute({py(f'ALTER TABLE {table} VALIDATE CONSTRAINT {name}')})"


@rule(
    "LK103",
    "foreign-key-validates",
    summary="Adding a FOREIGN KEY without NOT VALID checks every row while blocking writes to both tables.",
    explanation="""
ALTER TABLE ... ADD FOREIGN KEY takes SHARE ROW EXCLUSIVE locks on the table and on the table it
references, then checks every existing row. Both tables refuse INSERT, UPDATE and DELETE until the
step commits, for as long as the check takes on the referencing table.

Add the constraint NOT VALID instead (postgresql_not_valid=True in Alembic): new and updated rows are
checked at once, existing rows are not. Then, in a later revision, VALIDATE CONSTRAINT checks the
existing rows while holding only SHARE UPDATE EXCLUSIVE, which lets reads and writes go on. A foreign
key on a table created earlier in the same step is exempt (see LK110 for the referenced table).
""",
)
def foreign_key_validates(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.ADD_CONSTRAINT):
        if (
            op.constraint is not Constraint.FOREIGN_KEY
            or op.not_valid
            or op.on_new_column
            or op.table is None
        ):
            continue
        if ctx.is_exempt(op.table, number) or ctx.partitioned_table(op.table, number):
            continue  # a partitioned table: LK113
        reference = op.references[0] if op.references else TableRef("?")
        size, ms = ctx.size(op.table), ctx.hold_ms(number)
        name = op.name or f"{op.table.name}_{'_'.join(op.columns) or 'fk'}_fkey"
        held = ctx.held_before(number, op.table)
        if held and held[0] > SRE:
            mode, earlier = held
            locks = (
                f"while the {mode.label} lock {earlier.label.removesuffix(f' on {op.table}')} took on {op.table} "
                f"earlier in this transaction is still held, which blocks {mode.blocks(str(op.table))}, and holds a "
                f"SHARE ROW EXCLUSIVE lock on {reference}, which blocks every INSERT, UPDATE and DELETE on it"
            )
        else:
            locks = (
                "while holding SHARE ROW EXCLUSIVE locks on both, which block every INSERT, UPDATE and DELETE on "
                f"{op.table} and {reference}"
            )
        message = (
            f"ADD CONSTRAINT {name} FOREIGN KEY on {op.table} checks every existing row of {op.table} against "
            f"{reference} {locks} {ctx.until(op)}: {ctx.duration(size, ms, 'the validation scan')}."
        )
        schemas = ""
        if op.table.schema:
            schemas += f", source_schema={py(op.table.schema)}"
        if reference.schema:
            schemas += f", referent_schema={py(reference.schema)}"
        help = (
            "Add it NOT VALID, so only new and updated rows are checked, and validate it in a later revision, "
            "where VALIDATE CONSTRAINT holds only SHARE UPDATE EXCLUSIVE and reads and writes go on:\n"
            + block(
                f"op.create_foreign_key({py(name)}, {py(op.table.name)}, {py(reference.name)}, "
                f"{py_list(op.columns)}, {py_list(op.ref_columns or ('id',))}{schemas}, postgresql_not_valid=True)",
                "# in the next revision:",
                validate_later(op.table, name),
            )
        )
        inline = _inline_column(ctx, number, op, name, reference)
        if inline:
            help = (
                f"Declare it in the ADD COLUMN itself: PostgreSQL then marks it valid without reading a row, "
                f"because every value of a new column without a default is NULL:\n{block(inline)}\nor {help[0].lower()}"
                + help[1:]
            )
        yield ctx.finding("LK103", ctx.grade(size, ms), message, help, table=op.table, lock=SRE, ms=ms, op=op)


def _inline_column(ctx: StepContext, number: int, op: Op, name: str, reference: TableRef) -> str | None:
    """op.execute("ALTER TABLE t ADD COLUMN c type CONSTRAINT name REFERENCES r (id)") for a column just added.

    That is what ``op.add_column(..., sa.Column(..., sa.ForeignKey(...)))`` means, but Alembic renders it as
    ADD COLUMN, then a separate ADD FOREIGN KEY that checks every row.
    """
    if len(op.columns) != 1 or op.table is None:
        return None
    for earlier in range(number - 1, -1, -1):
        added = ctx.ops[earlier]
        if added.kind is not OpKind.ADD_COLUMN or added.name != op.columns[0] or added.table != op.table:
            continue
        if added.fill is not Fill.NULL or added.statement.segment != op.statement.segment:
            return None
        columns = f" ({', '.join(op.ref_columns)})" if op.ref_columns else ""
        sql = (
            f"ALTER TABLE {op.table} ADD COLUMN {added.name} {added.type_name} CONSTRAINT {name} "
            f"REFERENCES {reference}{columns}"
        )
        return f"op.execute({py(sql)})  # instead of op.add_column(... sa.ForeignKey(...))"
    return None


@rule(
    "LK104",
    "check-constraint-validates",
    summary="Adding a CHECK constraint without NOT VALID scans the table under an ACCESS EXCLUSIVE lock.",
    explanation="""
ALTER TABLE ... ADD CHECK takes an ACCESS EXCLUSIVE lock and checks every existing row before it
commits: no query, not even a SELECT, can use the table meanwhile.

Add it NOT VALID (postgresql_not_valid=True): the lock is then held only for a catalog change, and
new and updated rows are checked from then on. Validate it in a later revision: VALIDATE CONSTRAINT
scans the table holding only SHARE UPDATE EXCLUSIVE, so reads and writes go on. A CHECK on a table
created earlier in the same step is exempt.
""",
)
def check_constraint_validates(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.ADD_CONSTRAINT):
        if op.constraint is not Constraint.CHECK or op.not_valid or op.table is None:
            continue
        if ctx.is_exempt(op.table, number):
            continue
        size, ms = ctx.size(op.table), ctx.hold_ms(number)
        name = op.name or f"{op.table.name}_check"
        message = (
            f"ADD CONSTRAINT {name} CHECK on {op.table} checks every existing row while holding an ACCESS "
            f"EXCLUSIVE lock, which blocks {AE.blocks(str(op.table))} {ctx.until(op)}: "
            f"{ctx.duration(size, ms, 'the validation scan')}."
        )
        help = (
            "Add it NOT VALID, so only new and updated rows are checked, and validate it in a later revision, "
            "where VALIDATE CONSTRAINT holds only SHARE UPDATE EXCLUSIVE:\n"
            + block(
                f"op.create_check_constraint({py(name)}, {table_args(op.table)}, "
                f"{py(parenthesized_after(op.sql, 'CHECK'))}, postgresql_not_valid=True)",
                "# in the next revision:",
                validate_later(op.table, name),
            )
        )
        yield ctx.finding("LK104", ctx.grade(size, ms), message, help, table=op.table, lock=AE, ms=ms, op=op)


@rule(
    "LK105",
    "set-not-null-scans",
    summary="SET NOT NULL without a validated CHECK (col IS NOT NULL) scans the table under ACCESS EXCLUSIVE.",
    explanation="""
ALTER COLUMN ... SET NOT NULL must prove that no row holds a NULL. Unless a validated
CHECK (col IS NOT NULL) constraint already proves it, PostgreSQL scans the whole table while holding
an ACCESS EXCLUSIVE lock, which blocks every query on the table.

Since PostgreSQL 12, SET NOT NULL uses such a constraint instead of scanning. Add the CHECK NOT VALID,
validate it (SHARE UPDATE EXCLUSIVE: reads and writes go on), then SET NOT NULL, which now only
changes the catalog, and drop the CHECK. The rule looks for the proof in the same step, in earlier
steps of the run and, with a database URL, in the database (an existing NOT NULL column is not
flagged either).
""",
)
def set_not_null_scans(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.SET_NOT_NULL):
        if op.table is None or ctx.is_exempt(op.table, number):
            continue
        if all(use.work is Work.CATALOG for use in ctx.uses(number)):
            continue  # proven by a validated CHECK, or already NOT NULL
        size, ms = ctx.size(op.table), ctx.hold_ms(number)
        column = op.name or "?"
        check = f"{op.table.name}_{column}_not_null"
        message = (
            f"ALTER COLUMN {column} SET NOT NULL on {op.table} scans every row for NULLs while holding an ACCESS "
            f"EXCLUSIVE lock, which blocks {AE.blocks(str(op.table))} {ctx.until(op)}: "
            f"{ctx.duration(size, ms, 'the scan')}."
        )
        if not ctx.version.has(NOT_NULL_FROM_CHECK):
            message += (
                f" {ctx.version.major} can't use a validated CHECK (col IS NOT NULL) instead: that needs "
                f"{NOT_NULL_FROM_CHECK.release}."
            )
        help = (
            "Prove it first with a CHECK constraint added NOT VALID and validated; SET NOT NULL then uses the "
            "constraint instead of scanning (PostgreSQL 12 and later):\n"
            + block(
                f"op.create_check_constraint({py(check)}, {table_args(op.table)}, {py(f'{column} IS NOT NULL')}, "
                "postgresql_not_valid=True)",
                "# in the next revision:",
                validate_later(op.table, check),
                f"op.alter_column({py(op.table.name)}, {py(column)}, nullable=False)",
                f"op.drop_constraint({py(check)}, {py(op.table.name)})",
            )
        )
        yield ctx.finding("LK105", ctx.grade(size, ms), message, help, table=op.table, lock=AE, ms=ms, op=op)


@rule(
    "LK106",
    "constraint-builds-index",
    summary="A UNIQUE, PRIMARY KEY or EXCLUDE constraint not built from an existing index locks the table "
    "for the whole index build.",
    explanation="""
ADD CONSTRAINT ... UNIQUE / PRIMARY KEY builds its index while holding an ACCESS EXCLUSIVE lock, so
no query can use the table for as long as the build takes.

Build a unique index with CREATE UNIQUE INDEX CONCURRENTLY first (in an autocommit_block()), then
attach it: ADD CONSTRAINT name UNIQUE USING INDEX index (or PRIMARY KEY USING INDEX) only changes the
catalog. For a primary key the columns must already be NOT NULL, or PostgreSQL scans for NULLs (see
LK105). An EXCLUDE constraint has no such path: acknowledge it only for a small table or with the
application stopped. Constraints on a table created earlier in the same step are exempt.
""",
)
def constraint_builds_index(ctx: StepContext) -> Iterator[Finding]:
    kinds = (Constraint.UNIQUE, Constraint.PRIMARY_KEY, Constraint.EXCLUSION)
    for number, op in ctx.ops_of(OpKind.ADD_CONSTRAINT):
        if op.constraint not in kinds or op.using_index or op.table is None:
            continue
        if ctx.is_exempt(op.table, number):
            continue
        if op.constraint is not Constraint.EXCLUSION and ctx.partitioned_table(op.table, number):
            continue  # a partitioned table: LK112
        size, ms = ctx.size(op.table), ctx.hold_ms(number)
        kind = str(op.constraint)
        name = (
            op.name
            or f"{op.table.name}_{'_'.join(op.columns) or 'key'}_{'pkey' if kind == 'PRIMARY KEY' else 'key'}"
        )
        message = (
            f"ADD CONSTRAINT {name} {kind} on {op.table} builds its index while holding an ACCESS EXCLUSIVE lock, "
            f"which blocks {AE.blocks(str(op.table))} {ctx.until(op)}: {ctx.duration(size, ms, 'the build')}."
        )
        if op.constraint is Constraint.EXCLUSION:
            help = (
                "PostgreSQL has no concurrent way to add an exclusion constraint; add it while the table is small, "
                "or with the application stopped, in a step of its own:\n"
                + block(f"op.execute({py(op.sql)})")
            )
        else:
            index = f"{name}_idx"
            lines = [
                "with op.get_context().autocommit_block():",
                INDENT
                + f"op.create_index({py(index)}, {table_args(op.table)}, {py_list(op.columns)}, unique=True, "
                "postgresql_concurrently=True)",
                f"op.execute({py(f'ALTER TABLE {op.table} ADD CONSTRAINT {name} {kind} USING INDEX {index}')})",
            ]
            help = (
                "Build the unique index concurrently first, then attach it, which only changes the catalog:\n"
                + block(*lines)
            )
        yield ctx.finding("LK106", ctx.grade(size, ms), message, help, table=op.table, lock=AE, ms=ms, op=op)
