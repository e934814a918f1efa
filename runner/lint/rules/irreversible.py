"""IR: steps that can't be undone by their downgrade(), so a rollback past them is a restore."""

from __future__ import annotations

from collections.abc import Iterator

from runner.lint.context import StepContext
from runner.lint.findings import Finding, Severity
from runner.lint.ops import Op, OpKind
from runner.lint.rules.code import block, joined, py
from runner.lint.rules.registry import rule
from runner.planning.revisions import Downgrade

_RESTORE = "rolling back past it means restoring the snapshot"


def inverse_lines(ctx: StepContext) -> list[str]:
    """A first draft of downgrade(): the inverse of each operation, newest first."""
    lines: list[str] = []
    for number in range(len(ctx.ops) - 1, -1, -1):
        op = ctx.ops[number]
        table = op.table
        in_new_table = table is not None and op.kind is not OpKind.CREATE_TABLE and ctx.is_exempt(table)
        if in_new_table:
            continue  # dropping the table undoes it
        line = _inverse(op)
        if line and line not in lines:
            lines.append(line)
    return lines or ["pass"]


def _inverse(op: Op) -> str | None:
    table = op.table
    name = py(table.name) if table else "None"
    if op.kind is OpKind.CREATE_TABLE and table:
        return f"op.drop_table({name})"
    if op.kind is OpKind.CREATE_INDEX and op.name:
        return f"op.drop_index({py(op.name)}, table_name={name})"
    if op.kind is OpKind.ADD_COLUMN and op.name:
        return f"op.drop_column({name}, {py(op.name)})"
    if op.kind is OpKind.ADD_CONSTRAINT and op.name:
        return f"op.drop_constraint({py(op.name)}, {name})"
    if op.kind is OpKind.RENAME_COLUMN and op.new_name:
        return f"op.alter_column({name}, {py(op.new_name)}, new_column_name={py(op.name)})"
    if op.kind is OpKind.RENAME_TABLE and op.new_name and table:
        return f"op.rename_table({py(op.new_name)}, {name})"
    if op.kind is OpKind.SET_NOT_NULL and op.name:
        return f"op.alter_column({name}, {py(op.name)}, nullable=True)"
    if op.kind is OpKind.CREATE_TYPE and op.name:
        return f"op.execute({py(f'DROP TYPE {op.name}')})"
    if op.kind in (OpKind.SET_SETTING, OpKind.OTHER) and op.statement.kind in (
        "VariableSetStmt",
        "SelectStmt",
    ):
        return None
    return f"# no automatic inverse for: {op.sql[:100]}"


def _changes_something(ctx: StepContext) -> bool:
    """Anything besides plain SELECTs (a merge revision runs nothing at all)."""
    return any(not (op.kind is OpKind.OTHER and op.statement.kind == "SelectStmt") for op in ctx.ops)


def _adds_enum_value(ctx: StepContext) -> list[Op]:
    return [
        op
        for _, op in ctx.ops_of(OpKind.ADD_ENUM_VALUE)
        if f"{op.schema or 'public'}.{op.name}" not in ctx.created_types
    ]


@rule(
    "IR101",
    "enum-add-value",
    summary="ALTER TYPE ... ADD VALUE can't be undone: PostgreSQL has no DROP VALUE for enums.",
    explanation="""
Adding a value to an enum type is permanent: there is no ALTER TYPE ... DROP VALUE, so downgrade()
can't remove it, and once rows use the value a rollback would need a restore anyway. The runner treats
such a step as one-way: rolling back past it means restoring the snapshot. Since PostgreSQL 12 the
statement runs inside a transaction, but the new value can't be used until that transaction commits
(SQLSTATE 55P04), so don't use it in the same revision.

Acknowledge it when the value is meant to stay. If values must come and go, a lookup table or a text
column with a CHECK constraint is reversible. An enum created earlier in the same step is exempt.
""",
)
def enum_add_value(ctx: StepContext) -> Iterator[Finding]:
    for op in _adds_enum_value(ctx):
        type_name = f"{op.schema}.{op.name}" if op.schema else str(op.name)
        message = (
            f"ALTER TYPE {type_name} ADD VALUE '{op.value}' can't be undone: PostgreSQL has no way to drop an enum "
            f"value, so rolling back past {ctx.revision} means restoring the snapshot. The new value can't be used "
            "until this step commits."
        )
        sql = f"ALTER TYPE {type_name} ADD VALUE IF NOT EXISTS '{op.value}'"
        help = (
            "Keep the step one-way on purpose: don't use the new value in the same revision, and say in "
            "downgrade() why it does nothing:\n"
            + block(
                f"op.execute({py(sql)})",
                "",
                "def downgrade() -> None:",
                "    pass  # PostgreSQL can't drop an enum value: rolling back past this step is a restore",
            )
        )
        yield ctx.finding(
            "IR101",
            Severity.WARN,
            message,
            help,
            op=op,
            one_way=f"it adds the value '{op.value}' to enum {type_name}, and PostgreSQL cannot remove an enum value",
        )


def _downgrade_help(ctx: StepContext) -> str:
    return (
        "Write the inverse of each upgrade operation, newest first (or, if the step is one-way on purpose, say "
        "why in downgrade() and acknowledge this finding):\n"
        + block("def downgrade() -> None:", *("    " + line for line in inverse_lines(ctx)))
    )


@rule(
    "IR102",
    "downgrade-missing",
    summary="The revision has no downgrade() function.",
    explanation="""
Without a downgrade() Alembic can't move the database back past this revision, so the runner can't
roll a failed run back through it: the only way back is restoring the snapshot, which takes a new
instance and much longer than a downgrade. Write the inverse of each operation, newest first; the
help shows a draft built from the step's own statements. Steps that also add an enum value are
reported once, as IR101.
""",
)
def downgrade_missing(ctx: StepContext) -> Iterator[Finding]:
    revision = ctx.step.revision
    if revision.downgrade is not Downgrade.MISSING or not _changes_something(ctx) or _adds_enum_value(ctx):
        return
    message = f"{ctx.revision} has no downgrade() function, so the runner can't roll it back: {_RESTORE}."
    yield ctx.finding("IR102", Severity.WARN, message, _downgrade_help(ctx), one_way="it has no downgrade()")


@rule(
    "IR103",
    "downgrade-empty",
    summary="The revision's downgrade() does nothing although its upgrade changes the schema.",
    explanation="""
A downgrade() that only passes lets Alembic record a rollback that undid nothing: the version table
says the old revision, the schema still has the new objects. The runner therefore treats the step as
one-way: rolling back past it means restoring the snapshot. Write the inverse of each operation;
the help shows a draft. Merge revisions and other steps without statements are not flagged; steps
that add an enum value are reported once, as IR101.
""",
)
def downgrade_empty(ctx: StepContext) -> Iterator[Finding]:
    revision = ctx.step.revision
    if revision.downgrade is not Downgrade.EMPTY or not _changes_something(ctx) or _adds_enum_value(ctx):
        return
    message = (
        f"The downgrade() of {ctx.revision} does nothing, so a rollback would leave its changes in place: "
        f"{_RESTORE}."
    )
    yield ctx.finding(
        "IR103", Severity.WARN, message, _downgrade_help(ctx), one_way="its downgrade() does nothing"
    )


_DML = {OpKind.UPDATE: "UPDATE", OpKind.DELETE: "DELETE", OpKind.INSERT: "INSERT"}


@rule(
    "IR104",
    "data-change-without-inverse",
    summary="The upgrade changes rows of an existing table and downgrade() does not change them back.",
    explanation="""
A data migration (UPDATE, DELETE, INSERT on a table that existed before the step) is only reversible
if downgrade() puts the rows back: the linter renders downgrade() offline and looks for a data change
on the same table. Without one, a rollback restores the schema but leaves the data as the upgrade
left it, and the previous values exist only in the snapshot. Keep what the change overwrites (a copy
of the affected rows) and restore it in downgrade(), or acknowledge that the step is one-way. Tables
created earlier in the same step are exempt; a missing or empty downgrade() is IR102/IR103.
""",
)
def data_change_without_inverse(ctx: StepContext) -> Iterator[Finding]:
    step = ctx.step
    if step.revision.downgrade is not Downgrade.FULL:
        return
    if step.downgrade_writes is None and step.downgrade_error is None:
        return  # the downgrade was not read (steps parsed without their project)
    changed: dict[str, list[Op]] = {}
    for number, op in ctx.ops_of(*_DML):
        if op.table is None or ctx.is_exempt(op.table, number):
            continue
        if step.downgrade_writes is not None and op.table.key in step.downgrade_writes:
            continue
        changed.setdefault(op.table.key, []).append(op)
    for ops in changed.values():
        table, first = ops[0].table, ops[0]
        assert table is not None
        kinds = joined(dict.fromkeys(_DML[op.kind] for op in ops))
        if step.downgrade_writes is None:
            check = f"its downgrade() could not be rendered offline to look for an inverse ({step.downgrade_error})"
        else:
            check = f"downgrade() changes no rows of {table}"
        message = (
            f"This step changes rows of {table} ({kinds}), and {check}, so a rollback leaves the data as the "
            "upgrade left it; the previous values exist only in the snapshot."
        )
        backup = f"{table.name}_before_{ctx.revision}"
        if all(op.kind is OpKind.INSERT for op in ops):
            lines = [
                "# in downgrade(): remove what upgrade() inserted",
                f"op.execute({py(f'DELETE FROM {table} WHERE ...')})",
            ]
        else:
            lines = [
                "# in upgrade(), before the change: keep the rows it changes",
                f"op.execute({py(f'CREATE TABLE {backup} AS SELECT * FROM {table} WHERE ...')})",
                "# in downgrade(): put them back",
                f"op.execute({py(f'INSERT INTO {table} SELECT * FROM {backup} ON CONFLICT (id) DO UPDATE SET ...')})",
                f"op.execute({py(f'DROP TABLE {backup}')})",
            ]
        help = "Make the data change reversible:\n" + block(*lines)
        severity = Severity.INFO if ctx.size(table).empty else Severity.WARN
        yield ctx.finding(
            "IR104",
            severity,
            message,
            help,
            table=table,
            op=first,
            one_way=f"it changes rows of {table} and downgrade() does not change them back",
        )
