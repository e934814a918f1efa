"""BC: moves and renames that break code still using the old name, and the renames that don't."""

from __future__ import annotations

from collections.abc import Iterator

from runner.lint.context import Origin, StepContext
from runner.lint.findings import Finding, Severity
from runner.lint.locks import LockMode
from runner.lint.names import DEFAULT_SCHEMA, TableRef
from runner.lint.ops import Op, OpKind
from runner.lint.rules.code import block, py
from runner.lint.rules.data import batched
from runner.lint.rules.registry import rule
from runner.lint.run_state import object_key

AE = LockMode.ACCESS_EXCLUSIVE
_HARMLESS = {"index", "sequence", "constraint", "trigger", "policy"}
_NAMED = {"view", "materialized view", "foreign table", "type", "domain", "function", "procedure", "routine"}
_NAMED |= {"schema", "column", "attribute"}


def _new_here(ctx: StepContext, op: Op, number: int) -> bool:
    """Created by this run: no running code can be using it yet."""
    if op.object_type in ("column", "attribute"):
        return False  # of a view or type: the run does not track those
    if op.table is not None:
        return ctx.is_exempt(op.table, number) or ctx.size(op.table).origin is Origin.NEW
    if op.object_type in ("type", "domain") and op.name:
        key = object_key(op.name, op.schema)
        return key in ctx.created_types or key in ctx.run.types
    if op.object_type == "index" and op.name:
        key = object_key(op.name, op.schema)
        return key in ctx.created_indexes or key in ctx.run.indexes
    return False


def _qualified(op: Op) -> str:
    return f"{op.schema}.{op.name}" if op.schema else str(op.name)


@rule(
    "BC104",
    "set-schema",
    summary="ALTER ... SET SCHEMA moves an object, so running code that names it the old way fails.",
    explanation="""
ALTER TABLE (or VIEW, TYPE, FUNCTION, SEQUENCE) ... SET SCHEMA moves the object: a query that names it
qualified with the old schema fails at once, and so does an unqualified name unless the new schema is
on the application's search_path. A table's indexes, constraints and owned sequences move with it,
and the move takes an ACCESS EXCLUSIVE lock on the table. The size of the table does not matter, so
this is a warning everywhere except for objects this run creates.

For a table, move it and leave an updatable view under the old name (reads and writes keep working)
until every instance uses the new one, then drop the view. For other objects, move the application's
references first (qualify them, or put the new schema on its search_path).
""",
    recipe="""
op.execute("ALTER TABLE accounts SET SCHEMA archive")
op.execute("CREATE VIEW public.accounts AS SELECT * FROM archive.accounts")  # the old name keeps working
# in a later release, once nothing uses the old name:
op.execute("DROP VIEW public.accounts")
""",
)
def set_schema(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.SET_SCHEMA):
        if not op.name or not op.new_name:
            continue
        severity = Severity.INFO if _new_here(ctx, op, number) else Severity.WARN
        old_schema = op.schema or (
            ctx.stats.search_path[0] if ctx.stats and ctx.stats.search_path else DEFAULT_SCHEMA
        )
        what = op.object_type or "object"
        message = (
            f"ALTER {what.upper()} {_qualified(op)} SET SCHEMA {op.new_name} moves the {what} {op.name} from "
            f"{old_schema} to {op.new_name}: every running application instance that names {op.name} or "
            f"{old_schema}.{op.name} fails from the moment this step commits, unless {op.new_name} is on its "
            "search_path."
        )
        if what == "table":
            help = (
                "Move it and leave an updatable view under the old name until every instance uses the new one:\n"
                + block(
                    f"op.execute({py(op.sql)})",
                    f"op.execute({py(f'CREATE VIEW {old_schema}.{op.name} AS SELECT * FROM {op.new_name}.{op.name}')})",
                    "# in a later release, once nothing uses the old name:",
                    f"op.execute({py(f'DROP VIEW {old_schema}.{op.name}')})",
                )
            )
        else:
            help = "Move the application's references first, then the object:\n" + block(
                f"# deploy code that names {op.new_name}.{op.name} (or has {op.new_name} on its search_path), then:",
                f"op.execute({py(op.sql)})",
            )
        yield ctx.finding(
            "BC104", severity, message, help, table=op.table, lock=AE if op.table else None, op=op
        )


def _enum_columns(ctx: StepContext, type_name: str) -> list[tuple[TableRef, str]]:
    """Columns of existing tables whose type is the enum (format_type spells it by name)."""
    if ctx.stats is None:
        return []
    found = []
    for stats in ctx.stats.tables.values():
        for column, info in stats.columns.items():
            if info.type.removesuffix("[]") in (type_name, type_name.rpartition(".")[2]):
                table = (
                    TableRef(stats.name)
                    if stats.schema == DEFAULT_SCHEMA
                    else TableRef(stats.name, stats.schema)
                )
                found.append((table, column))
    return sorted(found, key=lambda item: (str(item[0]), item[1]))


@rule(
    "BC105",
    "rename-enum-value",
    summary="ALTER TYPE ... RENAME VALUE breaks running code that writes or compares the old label.",
    explanation="""
Renaming an enum label changes every row at once, without touching them: from the commit on, rows
read back with the new label, and running code that writes or compares the old one fails ("invalid
input value for enum"). Running instances of the previous release know only the old label, so the
rename breaks them until the new release is deployed.

Add the new label instead (ALTER TYPE ... ADD VALUE, one-way: see IR101), deploy code that writes the
new label and accepts both, move the rows over in batches, and leave the old label unused: PostgreSQL
can't drop an enum value. Enums this run creates are exempt.
""",
    recipe="""
op.execute("ALTER TYPE account_status ADD VALUE IF NOT EXISTS 'deactivated'")  # one-way: IR101
# deploy code that writes 'deactivated' and accepts both; then, in a later revision:
with op.get_context().autocommit_block():
    for start in range(0, MAX_ID + 1, 10_000):  # one short transaction per batch
        op.execute(
            f"UPDATE accounts SET status = 'deactivated' WHERE status = 'closed' "
            f"AND id >= {start} AND id < {start + 10_000}"
        )
""",
)
def rename_enum_value(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.RENAME_ENUM_VALUE):
        type_name = _qualified(op)
        old, new = op.value or "?", op.new_name or "?"
        severity = Severity.INFO if _new_here(ctx, op, number) else Severity.WARN
        columns = _enum_columns(ctx, type_name)
        used = ""
        if columns:
            shown = ", ".join(f"{table}.{column}" for table, column in columns[:3])
            used = f" (used by {shown}{' and more' if len(columns) > 3 else ''})"
        message = (
            f"ALTER TYPE {type_name} RENAME VALUE '{old}' TO '{new}' changes the label of every row that holds "
            f"'{old}'{used} at once: every running application instance that writes or compares '{old}' fails "
            "from the moment this step commits (invalid input value for enum), until the new release is deployed."
        )
        add = f"ALTER TYPE {type_name} ADD VALUE IF NOT EXISTS '{new}'"
        lines = [f"op.execute({py(add)})  # one-way: IR101"]
        if columns:
            table, column = columns[0]
            lines.append(f"# deploy code that writes '{new}' and accepts both; then, in a later revision:")
            lines.extend(batched(f"UPDATE {table} SET {column} = '{new}' WHERE {column} = '{old}'"))
        else:
            lines.append(f"# deploy code that writes '{new}' and accepts both; then move the rows in batches")
        help = (
            "Add the new label, move the rows over in batches once the code writes it, and leave the old one "
            "unused (an enum value can't be dropped):\n" + block(*lines)
        )
        yield ctx.finding("BC105", severity, message, help, table=columns[0][0] if columns else None, op=op)


@rule(
    "BC106",
    "rename-internal-name",
    summary="Renaming an index, sequence, constraint, trigger or policy is harmless to running queries; noted.",
    explanation="""
PostgreSQL refers to indexes, sequences, constraints, triggers and policies by OID, not by name:
queries, plans, column defaults (nextval of a sequence is stored by OID) and foreign keys keep working
after a rename, so this is only a note (severity info). Code that names the object itself does see
the change: nextval('old_name') in application SQL, INSERT ... ON CONFLICT ON CONSTRAINT old_name
(renaming an index that backs a constraint renames the constraint too), error handling that matches
a constraint name, monitoring queries. ALTER INDEX ... RENAME takes only SHARE UPDATE EXCLUSIVE on the
index; ALTER SEQUENCE ... RENAME locks the sequence, so INSERTs that draw from it wait until the step
commits. Objects this run creates are not noted.
""",
    recipe="""
op.execute("ALTER INDEX ix_accounts_org_id RENAME TO ix_accounts_org")  # nothing to change
# only check that no application SQL names ix_accounts_org_id (hints, ON CONFLICT ON CONSTRAINT)
""",
)
def rename_internal_name(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.RENAME_OBJECT):
        if op.object_type not in _HARMLESS or _new_here(ctx, op, number):
            continue
        what, old, new = op.object_type, op.name or "?", op.new_name or "?"
        on = f" on {op.table}" if op.table else ""
        names = {
            "index": "an index hint, or INSERT ... ON CONFLICT ON CONSTRAINT when the index backs a constraint "
            "(the constraint is renamed with it)",
            "sequence": f"nextval('{old}') or setval('{old}', ...) written in application SQL",
            "constraint": f"INSERT ... ON CONFLICT ON CONSTRAINT {old}, or error handling that matches the name",
            "trigger": "scripts that enable or disable the trigger by name",
            "policy": "scripts that alter or drop the policy by name",
        }[what]
        message = (
            f"Renaming the {what} {old}{on} to {new} is harmless to running queries: PostgreSQL refers to it by "
            f"OID, not by name. Only code that names it sees the change: {names}."
        )
        help = "Nothing to change; check that no application code names it:\n" + block(
            f"# grep the application for '{old}'"
        )
        yield ctx.finding("BC106", Severity.INFO, message, help, table=op.table, op=op)


@rule(
    "BC107",
    "rename-named-object",
    summary="Renaming a view, type, function, schema or view column breaks running code that names it.",
    explanation="""
Application queries name views, types (in casts and column definitions), functions and schemas, so
renaming one breaks every running instance of the previous release from the moment the step commits,
whatever the size of anything. Keep the old name working until every instance uses the new one: a
view under the old name for a renamed view, a wrapper function for a renamed function; a type or a
schema can't have two names, so rename it only once no code names it. Objects this run creates are
exempt (BC101 and BC102 cover columns and tables).
""",
    recipe="""
op.execute("ALTER VIEW active_accounts RENAME TO current_accounts")
op.execute("CREATE VIEW active_accounts AS SELECT * FROM current_accounts")  # the old name keeps working
# in a later release, once nothing uses the old name:
op.execute("DROP VIEW active_accounts")
""",
)
def rename_named_object(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.RENAME_OBJECT):
        if op.object_type not in _NAMED:
            continue
        what, old, new = op.object_type or "object", _qualified(op), op.new_name or "?"
        of = f" of {op.table}" if op.table else ""
        severity = Severity.INFO if _new_here(ctx, op, number) else Severity.WARN
        message = (
            f"Renaming the {what} {old}{of} to {new} breaks every running application instance that still names "
            f"{op.name}: its queries fail from the moment this step commits until the new release is deployed."
        )
        if what in ("view", "materialized view"):
            keep = [
                f"op.execute({py(op.sql)})",
                f"op.execute({py(f'CREATE VIEW {old} AS SELECT * FROM {new}')})  # the old name keeps working",
                "# in a later release, once nothing uses the old name:",
                f"op.execute({py(f'DROP VIEW {old}')})",
            ]
        elif what in ("function", "procedure", "routine"):
            keep = [
                f"# create {new} as a copy of {old}, deploy code that calls {new}, then, in a later release:",
                f"op.execute({py(f'DROP {what.upper()} {old}(...)')})",
            ]
        else:
            keep = [
                f"# deploy code that no longer names {op.name}, then, in a later release:",
                f"op.execute({py(op.sql)})",
            ]
        help = "Keep the old name working until every instance uses the new one:\n" + block(*keep)
        yield ctx.finding("BC107", severity, message, help, table=op.table, op=op)
