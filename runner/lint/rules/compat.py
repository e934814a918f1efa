"""BC: changes that break application instances still running the previous release."""

from __future__ import annotations

from collections.abc import Iterator

from runner.lint.context import Origin, StepContext
from runner.lint.findings import Finding, Severity
from runner.lint.locks import LockMode
from runner.lint.ops import Fill, OpKind
from runner.lint.rules.code import block, py
from runner.lint.rules.registry import rule

AE = LockMode.ACCESS_EXCLUSIVE


def _rename_severity(ctx: StepContext, origin: Origin) -> Severity:
    """No application can be using a table this run creates."""
    return Severity.INFO if origin is Origin.NEW else Severity.WARN


@rule(
    "BC101",
    "rename-column",
    summary="Renaming a column breaks running code that still uses the old name.",
    explanation="""
During a deploy the old release keeps running while the migration applies: every query it sends that
names the old column fails from the moment the rename commits until the new release replaces it. The
size of the table does not matter, so this is a warning everywhere except on tables this run creates.

Expand and contract instead: add the new column, write both and backfill, move the reads over, and
drop the old column in a later release. If only the Python name should change, keep the column and
map it: name = sa.Column("old_name", ...).
""",
)
def rename_column(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.RENAME_COLUMN):
        if op.table is None or ctx.is_exempt(op.table, number):
            continue
        old, new = op.name or "?", op.new_name or "?"
        message = (
            f"RENAME COLUMN {old} TO {new} on {op.table} breaks every running application instance that still "
            f"uses {old}: its queries fail from the moment this step commits until the new release is deployed."
        )
        help = (
            "Add the new column and move over in steps, or keep the column and rename only the Python "
            "attribute:\n"
            + block(
                f"op.add_column({py(op.table.name)}, sa.Column({py(new)}, ...))  # same type as {old}",
                f"# write both, backfill {new} in batches, deploy code that reads {new}; later:",
                f"op.drop_column({py(op.table.name)}, {py(old)})",
                f"# or, in the model only: {new} = sa.Column({py(old)}, ...)",
            )
        )
        severity = _rename_severity(ctx, ctx.size(op.table).origin)
        yield ctx.finding("BC101", severity, message, help, table=op.table, lock=AE, op=op)


@rule(
    "BC102",
    "rename-table",
    summary="Renaming a table breaks running code that still uses the old name.",
    explanation="""
The old release keeps querying the old table name while the migration applies, and each of those
queries fails from the moment the rename commits. Rename the table and leave a view under the old
name (a simple view is updatable, so writes keep working) until every instance uses the new name,
then drop the view in a later release.
""",
)
def rename_table(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.RENAME_TABLE):
        if op.table is None or ctx.is_exempt(op.table, number):
            continue
        new = op.new_name or "?"
        message = (
            f"RENAME TABLE {op.table} TO {new} breaks every running application instance that still queries "
            f"{op.table}: its queries fail from the moment this step commits until the new release is deployed."
        )
        help = (
            "Rename it and leave an updatable view under the old name until every instance uses the new one:\n"
            + block(
                f"op.rename_table({py(op.table.name)}, {py(new)})",
                f"op.execute({py(f'CREATE VIEW {op.table} AS SELECT * FROM {new}')})",
                "# in a later release, once nothing uses the old name:",
                f"op.execute({py(f'DROP VIEW {op.table}')})",
            )
        )
        severity = _rename_severity(ctx, ctx.size(op.table).origin)
        yield ctx.finding("BC102", severity, message, help, table=op.table, lock=AE, op=op)


@rule(
    "BC103",
    "not-null-column-without-default",
    summary="Adding a NOT NULL column without a default fails on a table with rows and breaks running inserts.",
    explanation="""
ALTER TABLE ... ADD COLUMN ... NOT NULL with no default fails outright when the table has rows
("column contains null values"), and once it exists every INSERT from the previous release, which does
not know the column, fails. Severity is block when the table has rows here (the step would fail) or
there is no database to ask, warn on an existing empty table, info on a table this run creates.

Give the column a default (catalog only since PostgreSQL 11), or add it nullable, backfill it, and set
NOT NULL through a validated CHECK constraint (see LK105).
""",
)
def not_null_column_without_default(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.ADD_COLUMN):
        if not op.not_null or op.has_default or op.fill is not Fill.NULL:
            continue
        if op.table is None or ctx.is_exempt(op.table, number):
            continue
        size = ctx.size(op.table)
        column, type_name = op.name or "?", op.type_name or "..."
        if size.origin is Origin.NEW:
            severity, fails = Severity.INFO, f"it succeeds only because {size.describe()}, and "
        elif size.origin is Origin.ASSUMED:
            severity, fails = Severity.BLOCK, f"it fails if {op.table} has rows ({size.describe()}), and "
        elif size.empty:
            severity, fails = Severity.WARN, f"it succeeds only because {op.table} is empty, and "
        else:
            severity, fails = Severity.BLOCK, f"it fails here ({size.describe()}), and "
        message = (
            f"ADD COLUMN {column} {type_name} NOT NULL on {op.table} has no default, so {fails}once it exists every "
            f"INSERT from running code that does not set {column} fails."
        )
        sql = f"ALTER TABLE {op.table} ADD COLUMN {column} {type_name} DEFAULT ... NOT NULL"
        help = (
            "Give it a default, which PostgreSQL 11 and later store in the catalog without touching rows:\n"
            + block(
                f"op.add_column({py(op.table.name)}, sa.Column({py(column)}, ..., nullable=False, server_default=...))",
                f"# the same in SQL: op.execute({py(sql)})",
            )
        )
        yield ctx.finding("BC103", severity, message, help, table=op.table, lock=AE, op=op)
