"""DS: statements that destroy rows or values a downgrade can't bring back."""

from __future__ import annotations

from collections.abc import Iterator

from runner.lint.context import StepContext
from runner.lint.findings import Finding, Severity
from runner.lint.locks import LockMode
from runner.lint.ops import OpKind
from runner.lint.rules.code import block, py
from runner.lint.rules.registry import rule

AE = LockMode.ACCESS_EXCLUSIVE
_ONLY_SNAPSHOT = (
    "a downgrade can recreate the structure, not the data, which then exists only in the snapshot"
)


@rule(
    "DS101",
    "drop-table",
    summary="DROP TABLE deletes every row of the table.",
    explanation="""
Dropping a table deletes its rows for good: downgrade() can recreate the table, empty, and the data
exists only in the snapshot. It also breaks every running application instance that still queries
the table. Severity is block when the table has rows in this database (or when there is no database
to ask), info when it is empty or created by this run.

Stop using the table in the application first, and keep the data until the drop is confirmed: rename
the table in this release and drop it in a later one.
""",
)
def drop_table(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.DROP_TABLE):
        if op.table is None or ctx.is_exempt(op.table, number):
            continue
        size = ctx.size(op.table)
        message = f"DROP TABLE {op.table} deletes the table and every row in it ({size.describe()}); {_ONLY_SNAPSHOT}."
        keep = f"{op.table.name}_dropped_{ctx.revision}"
        help = (
            "Once no application code uses the table, rename it instead and drop it in a later revision, after "
            "the release is confirmed:\n"
            + block(
                f"op.rename_table({py(op.table.name)}, {py(keep)})",
                "# in a later revision:",
                f"op.drop_table({py(keep)})",
            )
        )
        severity = ctx.grade_loss(size)
        yield ctx.finding(
            "DS101",
            severity,
            message,
            help,
            table=op.table,
            lock=AE,
            op=op,
            one_way=None if severity is Severity.INFO else f"it drops {op.table} and its rows",
        )


@rule(
    "DS102",
    "drop-column",
    summary="DROP COLUMN deletes the column's values in every row.",
    explanation="""
Dropping a column deletes its values: downgrade() can add the column back, empty. Application
instances that still read or write the column fail from the moment the step commits; with SQLAlchemy,
a model that still maps the column selects it in every query. Severity is block when the table has
rows here (or with no database to ask), info when it is empty or created by this run.

Deploy code that no longer uses the column first, keep a copy of the values if they may be needed,
then drop it.
""",
)
def drop_column(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.DROP_COLUMN):
        if op.table is None or ctx.is_exempt(op.table, number):
            continue
        size = ctx.size(op.table)
        column = op.name or "?"
        message = (
            f"DROP COLUMN {column} on {op.table} deletes the column's value in every row ({size.describe()}); "
            f"{_ONLY_SNAPSHOT}. Application code that still reads or writes {column} fails from the moment this "
            "step commits."
        )
        copy = f"CREATE TABLE {op.table.name}_{column}_backup AS SELECT id, {column} FROM {op.table}"
        help = (
            "Deploy application code that no longer uses the column first (remove it from the model), keep the "
            "values if they may be needed, then drop it:\n"
            + block(
                f"op.execute({py(copy)})  # if the values may be needed",
                f"op.drop_column({py(op.table.name)}, {py(column)})",
            )
        )
        severity = ctx.grade_loss(size)
        yield ctx.finding(
            "DS102",
            severity,
            message,
            help,
            table=op.table,
            lock=AE,
            op=op,
            one_way=None
            if severity is Severity.INFO
            else f"it drops column {column} of {op.table} with its values",
        )


@rule(
    "DS103",
    "drop-schema",
    summary="DROP SCHEMA deletes the schema and, with CASCADE, everything in it.",
    explanation="""
DROP SCHEMA ... CASCADE deletes every table, view, function and type in the schema, with their data.
Without CASCADE it fails unless the schema is empty. With a database URL the rule counts the tables
and rows the schema holds; without one it assumes the schema holds data.

Drop the objects one by one in reviewed revisions, after the application stops using them, and drop
the empty schema last, without CASCADE, so that it fails if anything is left.
""",
)
def drop_schema(ctx: StepContext) -> Iterator[Finding]:
    for _, op in ctx.ops_of(OpKind.DROP_SCHEMA):
        schema = op.name or "?"
        if ctx.stats is None:
            facts, severity = (
                "what it holds is unknown without a database URL, so it is assumed to hold data",
                Severity.BLOCK,
            )
        else:
            tables = [t for t in ctx.stats.tables.values() if t.schema == schema]
            rows = sum(t.rows for t in tables)
            if not tables:
                facts, severity = "it holds no tables here", Severity.INFO
            else:
                facts = f"it holds {len(tables)} table{'s' if len(tables) != 1 else ''} with about {rows:,} rows here"
                severity = Severity.BLOCK if rows else Severity.WARN
        cascade = " and every table, view, function and type in it" if op.cascade else ""
        message = f"DROP SCHEMA {schema} deletes the schema{cascade} ({facts}); {_ONLY_SNAPSHOT}."
        help = (
            "Drop the objects in it one by one in reviewed revisions, then the empty schema, without CASCADE:\n"
            + block(f"op.execute({py(f'DROP SCHEMA {schema}')})  # fails if anything is left")
        )
        yield ctx.finding(
            "DS103",
            severity,
            message,
            help,
            op=op,
            one_way=None if severity is Severity.INFO else f"it drops schema {schema}",
        )


def _backup_lines(table: str, name: str, statement: str) -> list[str]:
    return [
        f"op.execute({py(f'CREATE TABLE {name} AS TABLE {table}')})  # so a rollback can restore the rows",
        f"op.execute({py(statement)})",
    ]


@rule(
    "DS104",
    "truncate-table",
    summary="TRUNCATE deletes every row of the table.",
    explanation="""
TRUNCATE deletes every row at once, under an ACCESS EXCLUSIVE lock, and no downgrade can bring the
rows back: only the snapshot has them. Severity is block when the table has rows here (or with no
database to ask), info when it is empty or created by this run. If the rows really must go, copy
them first so a rollback can restore them.
""",
)
def truncate_table(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.TRUNCATE):
        if op.table is None or ctx.is_exempt(op.table, number):
            continue
        size = ctx.size(op.table)
        message = (
            f"TRUNCATE {op.table} deletes every row of {op.table} ({size.describe()}) under an ACCESS EXCLUSIVE "
            "lock; no downgrade can bring the rows back, only the snapshot."
        )
        help = "If the rows must go, copy them first so a rollback can restore them:\n" + block(
            *_backup_lines(str(op.table), f"{op.table.name}_before_{ctx.revision}", f"TRUNCATE {op.table}")
        )
        severity = ctx.grade_loss(size)
        yield ctx.finding(
            "DS104",
            severity,
            message,
            help,
            table=op.table,
            lock=AE,
            op=op,
            one_way=None if severity is Severity.INFO else f"it truncates {op.table}",
        )


@rule(
    "DS105",
    "delete-all-rows",
    summary="DELETE without a WHERE clause deletes every row of the table.",
    explanation="""
A DELETE with no WHERE clause removes every row, keeps each one locked until the step commits, and
leaves the table full of dead rows for VACUUM. No downgrade can bring the rows back. Severity is block
when the table has rows here (or with no database to ask). If a subset was meant, add the WHERE
clause; if everything must go, copy the rows first.
""",
)
def delete_all_rows(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.DELETE):
        if op.where or op.table is None or ctx.is_exempt(op.table, number):
            continue
        size = ctx.size(op.table)
        message = (
            f"DELETE FROM {op.table} has no WHERE clause: it deletes every row of {op.table} ({size.describe()}) "
            "and keeps each one locked until the step commits; no downgrade can bring the rows back."
        )
        help = (
            "Add the WHERE clause that was meant, or copy the rows first so a rollback can restore them:\n"
            + block(
                *_backup_lines(
                    str(op.table),
                    f"{op.table.name}_before_{ctx.revision}",
                    f"DELETE FROM {op.table} WHERE ...",
                )
            )
        )
        severity = ctx.grade_loss(size)
        yield ctx.finding(
            "DS105",
            severity,
            message,
            help,
            table=op.table,
            op=op,
            one_way=None if severity is Severity.INFO else f"it deletes every row of {op.table}",
        )
