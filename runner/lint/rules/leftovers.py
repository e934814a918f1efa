"""TX: concurrent index builds that can fail halfway, and the INVALID index such a failure leaves."""

from __future__ import annotations

from collections.abc import Iterator

from runner.lint.context import StepContext
from runner.lint.findings import Finding, Severity
from runner.lint.names import TableRef
from runner.lint.ops import Op, OpKind
from runner.lint.rules.code import block, concurrently, py, py_list, table_args
from runner.lint.rules.registry import rule
from runner.lint.run_state import object_key


def _rebuild(op: Op) -> list[str]:
    """Drop a leftover of an earlier attempt, then build: the lines of an autocommit block."""
    table = op.table or TableRef("?")
    qualified = f"{table.schema}.{op.name}" if table.schema else str(op.name)
    if op.plain_columns and op.columns and not op.index_where:
        unique = ", unique=True" if op.unique else ""
        build = (
            f"op.create_index({py(op.name)}, {table_args(table)}, {py_list(op.columns)}{unique}, "
            "postgresql_concurrently=True)"
        )
    else:
        build = f"op.execute({py(concurrently(op.sql).replace(' IF NOT EXISTS', ''))})"
    return [
        f"op.execute({py(f'DROP INDEX CONCURRENTLY IF EXISTS {qualified}')})  # a failed build's leftover",
        build,
    ]


def _duplicates(op: Op) -> str:
    columns = ", ".join(op.columns) or "..."
    return f"SELECT {columns}, count(*) FROM {op.table} GROUP BY {columns} HAVING count(*) > 1 LIMIT 5"


@rule(
    "TX107",
    "concurrent-index-leftover",
    summary="A concurrent index build that fails halfway leaves an INVALID index, which IF NOT EXISTS then "
    "silently keeps.",
    explanation="""
CREATE INDEX CONCURRENTLY commits as it goes: if it fails (duplicate keys for a UNIQUE index, a
deadlock, a cancelled statement, a lock timeout) it leaves the index behind, marked INVALID. Queries
never use an INVALID index, but writes may still maintain it (and, for a unique one, check it). A
re-run then fails ("relation already exists"), or, with IF NOT EXISTS, does nothing at all: the step
succeeds and the index stays INVALID.

With a database URL the rule looks for an INVALID index of the same name in the live catalog:
with IF NOT EXISTS the step would keep it (block), without it the step fails (warn). Drop the
leftover with DROP INDEX CONCURRENTLY IF EXISTS before building again, in the same autocommit block.
A UNIQUE build is noted so the duplicates are checked first; without a database, IF NOT EXISTS on a
concurrent build is a warning, since a leftover can't be ruled out. To list the leftovers:
SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid.
""",
    recipe="""
with op.get_context().autocommit_block():
    op.execute("DROP INDEX CONCURRENTLY IF EXISTS ux_accounts_email")  # a failed build's leftover
    op.create_index("ux_accounts_email", "accounts", ["email"], unique=True, postgresql_concurrently=True)
""",
)
def concurrent_index_leftover(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.CREATE_INDEX):
        if not op.concurrent or op.table is None or not op.name or ctx.is_exempt(op.table, number):
            continue
        key = object_key(op.name, op.table.schema)
        catalog = ctx.stats.catalog if ctx.stats is not None else None
        known = catalog is not None and catalog.server_version_num is not None
        leftover = catalog is not None and known and key in catalog.invalid_indexes
        how = "Drop the leftover first, in the same autocommit block, then build:\n" + block(
            *_rebuild(op), autocommit=True
        )
        if leftover:
            outcome = (
                "IF NOT EXISTS skips the build (relation already exists, skipping), so the step succeeds and the "
                "INVALID index stays: queries never use it"
                if op.missing_ok
                else "the build fails every time (relation already exists)"
            )
            message = (
                f"{op.name} already exists on {op.table} here as an INVALID index, the leftover of a concurrent "
                f"build that failed halfway: {outcome}."
            )
            severity = Severity.BLOCK if op.missing_ok else Severity.WARN
            yield ctx.finding("TX107", severity, message, how, table=op.table, op=op)
        elif op.missing_ok:
            where = (
                "There is no such leftover here now, but"
                if known
                else "Without a database URL nothing rules it out:"
            )
            message = (
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {op.name} on {op.table} keeps whatever index of that name "
                f"exists, valid or not. {where} if a build fails halfway it leaves an INVALID {op.name}, and a re-run "
                "then succeeds without building anything."
            )
            severity = Severity.INFO if known else Severity.WARN
            yield ctx.finding("TX107", severity, message, how, table=op.table, op=op)
        elif op.unique:
            message = (
                f"CREATE UNIQUE INDEX CONCURRENTLY {op.name} on {op.table} fails halfway if existing rows hold "
                f"duplicate keys, and leaves an INVALID {op.name} behind that a re-run trips over (relation already "
                "exists). Check for duplicates before the step."
            )
            help = "Look for duplicates first, and drop a leftover before building again:\n" + block(
                f"# {_duplicates(op)}", *_rebuild(op), autocommit=True
            )
            yield ctx.finding("TX107", Severity.INFO, message, help, table=op.table, op=op)
