"""LK: locks held until the step commits: an explicit LOCK TABLE, a validation under ADD's lock, brief notes."""

from __future__ import annotations

from collections.abc import Iterator

from runner.lint.context import Origin, StepContext
from runner.lint.findings import Finding, Severity
from runner.lint.locks import LockMode, Work
from runner.lint.names import TableRef
from runner.lint.ops import Constraint, Op, OpKind
from runner.lint.rules.code import (
    block,
    joined,
    py,
)
from runner.lint.rules.locks.constraints import validate_later
from runner.lint.rules.registry import rule

SHARE, SRE, AE = LockMode.SHARE, LockMode.SHARE_ROW_EXCLUSIVE, LockMode.ACCESS_EXCLUSIVE
_SHORT_NOTE_KINDS = {OpKind.DROP_TABLE, OpKind.TRUNCATE, OpKind.DROP_INDEX, OpKind.LOCK_TABLE}
_PARTITION_KINDS = {OpKind.CREATE_TABLE, OpKind.ATTACH_PARTITION, OpKind.DETACH_PARTITION}


@rule(
    "LK108",
    "lock-table",
    summary="An explicit LOCK TABLE holds its lock until the step commits.",
    explanation="""
LOCK TABLE takes the named lock at once and keeps it until the transaction ends: with the default
ACCESS EXCLUSIVE mode, no query can use the table for the rest of the step, whatever the statements
after it need. It also tends to be written to avoid a deadlock, which the runner's lock_timeout and
retry already bound.

Let each statement take the lock it needs; if an explicit lock is really needed to order locks, keep
it in a short step that does nothing slow after it. Locks weaker than SHARE are noted only.
""",
)
def lock_table(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.LOCK_TABLE):
        if op.table is None or ctx.is_exempt(op.table, number):
            continue
        mode = LockMode(op.lock_mode or 8)
        size, ms = ctx.size(op.table), ctx.hold_ms(number)
        severity = ctx.grade(size, ms)
        if mode < SHARE or size.empty:
            severity = Severity.INFO
        elif severity is Severity.INFO:
            severity = Severity.WARN
        message = (
            f"LOCK TABLE {op.table} IN {mode.label} MODE blocks {mode.blocks(str(op.table))} {ctx.until(op)}, "
            f"whatever the statements after it need: {ctx.duration(size, ms, 'the rest of the step')}."
        )
        help = (
            "Remove it and let each statement take only the lock it needs; if it orders locks against a deadlock, "
            "keep it in a step of its own that does nothing slow after it:\n"
            + block(f"# remove: op.execute({py(op.sql)})")
        )
        yield ctx.finding("LK108", severity, message, help, table=op.table, lock=mode, ms=ms, op=op)


@rule(
    "LK109",
    "short-access-exclusive-lock",
    summary="Catalog-only ALTER TABLE statements on an existing table still take ACCESS EXCLUSIVE; noted with "
    "how long it is held.",
    explanation="""
Adding a nullable column, setting a default, dropping a constraint or renaming changes only the
catalog, so the ACCESS EXCLUSIVE lock is held for milliseconds once granted, and until the step
commits. The risk is the wait for it: the ALTER queues behind every query already running on the
table, and every new query queues behind the ALTER. The runner bounds that wait with lock_timeout
and retries a lock timeout, so this is always a note (severity info), sized with the table and with
how long the step keeps the lock.

Keep such statements in short steps, apart from slow work: everything after the first ALTER in the
same transaction runs while the lock is held (see TX103). Tables created by this run are not noted.
""",
)
def short_access_exclusive_lock(ctx: StepContext) -> Iterator[Finding]:
    grouped: dict[str, list[tuple[int, Op]]] = {}
    tables: dict[str, TableRef] = {}
    for number, op in enumerate(ctx.ops):
        if op.kind in _SHORT_NOTE_KINDS or op.kind in _PARTITION_KINDS:
            continue  # reported with their own rules (LK108, LK114-LK116)
        for use in ctx.uses(number):
            if use.mode is not AE or use.work is not Work.CATALOG or ctx.is_exempt(use.table, number):
                continue
            if ctx.size(use.table).origin is Origin.NEW:
                continue
            grouped.setdefault(use.table.key, []).append((number, op))
            tables.setdefault(use.table.key, use.table)
    for key, items in grouped.items():
        table = tables[key]
        size = ctx.size(table)
        holds = [ctx.hold_ms(number) for number, _ in items]
        ms = None if any(h is None for h in holds) else max(h for h in holds if h is not None)
        first = items[0][1]
        count = len({op.statement.position for _, op in items})
        what = _describe_ops([op for _, op in items])
        statements = (
            "1 statement in this step takes" if count == 1 else f"{count} statements in this step take"
        )
        message = (
            f"{statements} an ACCESS EXCLUSIVE lock on {table} ({what}), held {ctx.until(first)}: "
            f"{ctx.duration(size, ms, 'the step')}. Each changes only the catalog, but while the lock waits for "
            f"queries already running on {table}, every new query on {table} queues behind it."
        )
        help = (
            "Nothing to change while the step stays short: the runner's lock_timeout bounds the wait and a lock "
            f"timeout is retried. Keep slow work on {table} out of this revision:\n"
            + block(f"# this revision: catalog-only changes to {table}", "# the next revision: anything slow")
        )
        yield ctx.finding("LK109", Severity.INFO, message, help, table=table, lock=AE, ms=ms, op=first)


def _describe_ops(ops: list[Op]) -> str:
    labels: dict[str, list[str]] = {}
    for op in ops:
        label = {
            OpKind.ADD_COLUMN: "ADD COLUMN",
            OpKind.DROP_COLUMN: "DROP COLUMN",
            OpKind.RENAME_COLUMN: "RENAME COLUMN",
            OpKind.RENAME_TABLE: "RENAME TO",
            OpKind.SET_NOT_NULL: "SET NOT NULL",
            OpKind.ALTER_COLUMN_TYPE: "ALTER COLUMN TYPE",
            OpKind.ADD_CONSTRAINT: "ADD CONSTRAINT",
            OpKind.SET_SCHEMA: "SET SCHEMA",
            OpKind.RENAME_OBJECT: f"RENAME {str(op.object_type).upper()}",
            OpKind.ROW_SECURITY: f"{op.value} ROW LEVEL SECURITY",
            OpKind.CREATE_POLICY: "CREATE POLICY",
        }.get(op.kind, "ALTER TABLE")
        labels.setdefault(label, [])
        name = op.new_name if op.kind in (OpKind.RENAME_TABLE, OpKind.SET_SCHEMA) else op.name
        if op.kind is OpKind.ROW_SECURITY:
            name = None
        if name:
            labels[label].append(name)
    parts = []
    for label, names in labels.items():
        shown = names[:3]
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        parts.append(f"{label} {', '.join(shown)}{more}".strip())
    return "; ".join(parts)


@rule(
    "LK110",
    "foreign-key-locks-referenced-table",
    summary="A new foreign key takes SHARE ROW EXCLUSIVE on the table it references; noted with how long it "
    "is held.",
    explanation="""
Creating a foreign key, even on a brand-new table or NOT VALID, adds triggers to the referenced
table and so takes a SHARE ROW EXCLUSIVE lock on it: INSERT, UPDATE and DELETE on the referenced
table wait until the step commits. Once granted this takes milliseconds; like any lock it first waits
for conflicting queries already running. This is always a note (severity info); slow work in the
same transaction is reported by its own rule.

Keep steps that add foreign keys to busy tables short. A referenced table created by this run is not
noted.
""",
)
def foreign_key_locks_referenced_table(ctx: StepContext) -> Iterator[Finding]:
    sources: dict[str, None] = {}
    tables: dict[str, TableRef] = {}
    holds: list[float | None] = []
    first: Op | None = None
    for number, op in enumerate(ctx.ops):
        if op.kind is OpKind.CREATE_TABLE and op.table:
            source = f"CREATE TABLE {op.table}"
        elif op.kind is OpKind.ADD_CONSTRAINT and op.constraint is Constraint.FOREIGN_KEY and op.table:
            if not op.not_valid and not op.on_new_column and not ctx.is_exempt(op.table, number):
                continue  # LK103 (LK113 on a partitioned table) reports both tables
            source = f"ADD CONSTRAINT {op.name or 'FOREIGN KEY'} on {op.table}"
        else:
            continue
        for reference in op.references:
            if ctx.is_exempt(reference, number + 1) or ctx.size(reference).origin is Origin.NEW:
                continue
            if op.table and reference.key == op.table.key:
                continue
            sources[source] = None
            tables.setdefault(reference.key, reference)
            holds.append(ctx.hold_ms(number))
            first = first or op
    if first is None:
        return
    sizes = [ctx.size(table) for table in tables.values()]
    ms = None if any(h is None for h in holds) else max(h for h in holds if h is not None)
    names = joined([str(t) for t in tables.values()])
    keys = "a foreign key" if len(holds) == 1 else "foreign keys"
    on = "each of them" if len(tables) > 1 else names
    message = (
        f"{joined(sources)} adds {keys} referencing {names}, which takes a SHARE ROW EXCLUSIVE lock on {on}; "
        f"it blocks every INSERT, UPDATE and DELETE on {names} {ctx.until(first)}: "
        f"{ctx.duration_many(sizes, ms, 'the step')}."
    )
    help = (
        "Nothing to change while the step stays short. Keep slow work (index builds on existing tables, "
        "backfills) out of the revision that adds the foreign key:\n"
        + block(f"# this revision: {first.label} only", "# the next revision: anything slow")
    )
    yield ctx.finding(
        "LK110", Severity.INFO, message, help, table=next(iter(tables.values())), lock=SRE, ms=ms, op=first
    )


@rule(
    "LK111",
    "validate-in-same-transaction",
    summary="VALIDATE CONSTRAINT in the same transaction as its ADD ... NOT VALID keeps the strong lock for "
    "the whole scan.",
    explanation="""
Adding a constraint NOT VALID and validating it later is the safe pattern only if "later" is another
transaction. ADD CONSTRAINT takes SHARE ROW EXCLUSIVE (foreign key) or ACCESS EXCLUSIVE (check) and
keeps it until commit; a VALIDATE CONSTRAINT in the same transaction then scans the table while that
lock is still held, which is no better than adding the constraint validated.

Validate in the next revision, or after an autocommit_block() boundary.
""",
)
def validate_in_same_transaction(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.VALIDATE_CONSTRAINT):
        if op.table is None or not op.name or ctx.is_exempt(op.table, number):
            continue
        added = ctx.not_valid_constraints.get((op.table.key, op.name))
        if added is None or added[0] != op.statement.segment or not op.statement.in_transaction:
            continue
        mode = SRE if added[1] is Constraint.FOREIGN_KEY else AE
        size, ms = ctx.size(op.table), ctx.hold_ms(number)
        message = (
            f"VALIDATE CONSTRAINT {op.name} runs in the same transaction that added it NOT VALID, so the "
            f"{mode.label} lock ADD CONSTRAINT took on {op.table} is still held during the validation scan; it "
            f"blocks {mode.blocks(str(op.table))} {ctx.until(op)}: {ctx.duration(size, ms, 'the validation scan')}."
        )
        help = "Validate it after the commit, in the next revision or in an autocommit block:\n" + block(
            validate_later(op.table, op.name), autocommit=True
        )
        yield ctx.finding(
            "LK111", ctx.grade(size, ms), message, help, table=op.table, lock=mode, ms=ms, op=op
        )
