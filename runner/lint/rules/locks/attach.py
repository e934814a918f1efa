"""LK: adding and removing partitions: ATTACH's scan, DETACH's lock, CREATE TABLE ... PARTITION OF's lock."""

from __future__ import annotations

from collections.abc import Iterator

from runner.lint.context import Origin, StepContext
from runner.lint.findings import Finding, Severity
from runner.lint.locks import LockMode, Work
from runner.lint.names import TableRef
from runner.lint.ops import OpKind
from runner.lint.rules.code import block, py
from runner.lint.rules.locks.partition_code import bound_check, bound_of
from runner.lint.rules.registry import rule
from runner.lint.versions import ATTACH_SHARE_UPDATE_EXCLUSIVE, DETACH_CONCURRENTLY

SUE, AE = LockMode.SHARE_UPDATE_EXCLUSIVE, LockMode.ACCESS_EXCLUSIVE


@rule(
    "LK114",
    "attach-partition-scans",
    summary="ATTACH PARTITION scans the new partition under ACCESS EXCLUSIVE unless a validated CHECK proves "
    "its bound.",
    explanation="""
ALTER TABLE ... ATTACH PARTITION must prove that every row of the table being attached fits the
partition bound. Unless a validated CHECK constraint implies the bound (NOT NULL included: a range or
list bound excludes NULL), it scans the whole table while holding ACCESS EXCLUSIVE on it. When the
partitioned table has a DEFAULT partition, that partition is scanned too, under ACCESS EXCLUSIVE, for
rows that belong to the new partition. The partitioned table itself gets only SHARE UPDATE EXCLUSIVE
(PostgreSQL 12 and later; ACCESS EXCLUSIVE before).

Add a CHECK constraint that matches the bound NOT VALID, VALIDATE it in a later revision (SHARE UPDATE
EXCLUSIVE: reads and writes go on), then ATTACH, which sees the constraint and skips the scan
(measured on PostgreSQL 15: 35 ms for 500,000 rows without it, 0.6 ms with it), and drop the CHECK.
With a database URL the rule looks for such a constraint on the partition key columns. ATTACH also
builds, under the same lock, every index of the partitioned table the new partition lacks: create
those on the table concurrently before attaching, and ATTACH adopts them.
""",
    recipe="""
op.create_check_constraint(
    "events_2027_bound", "events_2027",
    "created_on IS NOT NULL AND created_on >= '2027-01-01' AND created_on < '2028-01-01'",
    postgresql_not_valid=True,
)
# in the next revision: VALIDATE holds SHARE UPDATE EXCLUSIVE, reads and writes go on
op.execute("ALTER TABLE events_2027 VALIDATE CONSTRAINT events_2027_bound")
# in the revision after: ATTACH finds the validated CHECK and skips its scan
op.execute("ALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')")
op.drop_constraint("events_2027_bound", "events_2027")  # the partition bound now enforces it
""",
)
def attach_partition_scans(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.ATTACH_PARTITION):
        if op.table is None or op.partition is None or ctx.is_exempt(op.table, number):
            continue
        scans = [
            use.table
            for use in ctx.uses(number)
            if use.work is Work.SCAN
            and not ctx.is_exempt(use.table, number)
            and not ctx.size(use.table).empty
        ]
        if not scans:
            continue
        parent = ctx.partitioned_table(op.table, number)
        key = parent.key_columns if parent and not parent.key_expressions else ()
        sizes = [ctx.size(table) for table in scans]
        ms = ctx.hold_ms(number)
        parts = []
        if op.partition in scans:
            proof = f"on {', '.join(key)} " if key else ""
            parts.append(
                f"scans every row of {op.partition} to check it fits the partition bound (no validated CHECK "
                f"constraint {proof}proves it), "
                f"holding an ACCESS EXCLUSIVE lock on {op.partition} that blocks every query on it"
            )
        default = next((t for t in scans if t != op.partition), None)
        if default is not None:
            parts.append(
                f"scans the default partition {default} for rows that belong to {op.partition}, holding an ACCESS "
                f"EXCLUSIVE lock on {default} that blocks every query on it"
            )
        weak = ctx.version.has(ATTACH_SHARE_UPDATE_EXCLUSIVE)
        parent_lock = "" if weak else f"; {ctx.version.major} also locks {op.table} ACCESS EXCLUSIVE"
        message = (
            f"ATTACH PARTITION {op.partition} to {op.table} {' and '.join(parts)}{parent_lock}, {ctx.until(op)}: "
            f"{ctx.duration_many(sizes, ms, 'the scan')}."
        )
        bound = bound_of(op.sql)
        check = f"{op.partition.name}_bound"
        lines = [
            f"op.create_check_constraint({py(check)}, {py(op.partition.name)}, {py(bound_check(bound, key))}, "
            "postgresql_not_valid=True)",
            "# in the next revision: VALIDATE holds SHARE UPDATE EXCLUSIVE, reads and writes go on",
            f"op.execute({py(f'ALTER TABLE {op.partition} VALIDATE CONSTRAINT {check}')})",
            "# in the revision after: ATTACH finds the validated CHECK and skips its scan",
            f"op.execute({py(f'ALTER TABLE {op.table} ATTACH PARTITION {op.partition} {bound}')})",
            f"op.drop_constraint({py(check)}, {py(op.partition.name)})  # the partition bound now enforces it",
        ]
        if default is not None:
            lines.append(f"# and keep {default} small: every ATTACH and CREATE ... PARTITION OF scans it")
        if _lacks_indexes(ctx, op.table, op.partition):
            lines.insert(
                0, f"# first build {op.table}'s indexes on {op.partition} concurrently: ATTACH adopts them"
            )
        help = (
            "Prove the bound first with a validated CHECK constraint, so ATTACH only changes the catalog:\n"
        )
        table = op.partition if op.partition in scans else scans[0]
        yield ctx.finding(
            "LK114",
            ctx.grade(sizes[0], ms),
            message,
            help + block(*lines),
            table=table,
            lock=AE,
            ms=ms,
            op=op,
        )


def _lacks_indexes(ctx: StepContext, parent: TableRef, partition: TableRef) -> bool:
    """The partitioned table has more indexes than the partition: ATTACH would build the missing ones."""
    if ctx.stats is None:
        return False
    owners = list(ctx.stats.indexes.values())
    parent_stats, partition_stats = ctx.table_stats(parent), ctx.table_stats(partition)
    if parent_stats is None or partition_stats is None:
        return False
    return owners.count(parent_stats.key) > owners.count(partition_stats.key)


@rule(
    "LK115",
    "detach-partition-blocking",
    summary="DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the whole partitioned table.",
    explanation="""
ALTER TABLE ... DETACH PARTITION takes an ACCESS EXCLUSIVE lock on the partitioned table (and on the
partition, and on a DEFAULT partition if there is one): it is quick once granted, but it waits for
every query already running on any partition, and every query on the partitioned table queues behind
it meanwhile.

DETACH PARTITION ... CONCURRENTLY (PostgreSQL 14 and later) takes only SHARE UPDATE EXCLUSIVE on the
partitioned table, so reads and writes go on; it runs in two transactions, so it can't run inside one:
put it in an autocommit_block(). Between them it waits for every transaction that uses the table,
under lock_timeout (the runner gives such a step the concurrent-build profile); if it is interrupted,
the partition stays "pending detach" and only DETACH PARTITION ... FINALIZE completes it.
It is refused when the partitioned table has a DEFAULT partition, and before PostgreSQL 14; then keep
the detaching step short and let the runner's lock_timeout bound the wait.
""",
    recipe="""
with op.get_context().autocommit_block():
    op.execute("ALTER TABLE events DETACH PARTITION events_2025 CONCURRENTLY")
# if it is interrupted: op.execute("ALTER TABLE events DETACH PARTITION events_2025 FINALIZE")
""",
)
def detach_partition_blocking(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.DETACH_PARTITION):
        if (
            op.table is None
            or op.partition is None
            or op.what == "FINALIZE"
            or ctx.is_exempt(op.table, number)
        ):
            continue
        parent = ctx.partitioned_table(op.table, number)
        default = parent.default if parent else None
        size, ms = ctx.size(op.table), ctx.hold_ms(number)
        sql = f"ALTER TABLE {op.table} DETACH PARTITION {op.partition} CONCURRENTLY"
        recipe = (
            block(f"op.execute({py(sql)})", autocommit=True)
            + "\n"
            + block(
                f"# if it is interrupted: op.execute({py(f'ALTER TABLE {op.table} DETACH PARTITION {op.partition} FINALIZE')})"
            )
        )
        if op.concurrent:
            if default is None:
                continue
            message = (
                f"DETACH PARTITION {op.partition} CONCURRENTLY from {op.table} is refused while {op.table} has a "
                f"default partition ({default}): cannot detach partitions concurrently when a default partition "
                "exists, so the step fails every time."
            )
            help = "Detach it without CONCURRENTLY, in a short step of its own:\n" + block(
                f"op.execute({py(f'ALTER TABLE {op.table} DETACH PARTITION {op.partition}')})"
            )
            yield ctx.finding("LK115", Severity.WARN, message, help, table=op.table, op=op)
            continue
        if size.origin is Origin.NEW:
            continue
        others = (
            f", {op.partition} and the default partition {default}" if default else f" and {op.partition}"
        )
        message = (
            f"DETACH PARTITION {op.partition} from {op.table} takes ACCESS EXCLUSIVE locks on {op.table}{others}, "
            f"which blocks every query on {op.table} and all of its partitions (reads included) {ctx.until(op)}: "
            f"{ctx.duration(size, ms, 'the step')}. While it waits for queries already running there, every new "
            f"query on {op.table} queues behind it."
        )
        if not ctx.version.has(DETACH_CONCURRENTLY) or default is not None:
            why = (
                f"{ctx.version.major} has no DETACH ... CONCURRENTLY"
                if default is None
                else f"CONCURRENTLY is refused while {op.table} has a default partition ({default})"
            )
            help = f"Keep the step short, as {why}; the runner's lock_timeout bounds the wait:\n" + block(
                f"# this revision: only the DETACH of {op.partition}"
            )
            severity = Severity.INFO
        else:
            help = (
                "Detach it concurrently, outside the step's transaction; reads and writes go on:\n" + recipe
            )
            severity = Severity.INFO if size.empty else Severity.WARN
        yield ctx.finding("LK115", severity, message, help, table=op.table, lock=AE, ms=ms, op=op)


@rule(
    "LK116",
    "create-partition-locks-parent",
    summary="CREATE TABLE ... PARTITION OF takes ACCESS EXCLUSIVE on the partitioned table (and scans a "
    "DEFAULT partition).",
    explanation="""
Creating a partition with CREATE TABLE ... PARTITION OF takes an ACCESS EXCLUSIVE lock on the
partitioned table until the step commits: quick once granted, but it waits for every query already
running on any partition, and every new query on the table queues behind it. If the partitioned
table has a DEFAULT partition, that partition is also locked ACCESS EXCLUSIVE and scanned for rows
that belong to the new partition.

Create the table on its own and attach it instead: CREATE TABLE ... (LIKE parent INCLUDING DEFAULTS
INCLUDING CONSTRAINTS), then ATTACH PARTITION, which takes only SHARE UPDATE EXCLUSIVE on the
partitioned table (PostgreSQL 12 and later) and, the new table being empty, scans nothing (a DEFAULT
partition is still scanned: see LK114). Partitions of a table this run creates are not flagged.
""",
    recipe="""
op.execute("CREATE TABLE events_2029 (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
op.execute("ALTER TABLE events ATTACH PARTITION events_2029 FOR VALUES FROM ('2029-01-01') TO ('2030-01-01')")
""",
)
def create_partition_locks_parent(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.CREATE_TABLE):
        parent_ref = op.partition_of
        if parent_ref is None or op.table is None or ctx.is_exempt(parent_ref, number):
            continue
        size = ctx.size(parent_ref)
        if size.origin is Origin.NEW:
            continue
        scanned = [u.table for u in ctx.uses(number) if u.work is Work.SCAN and not ctx.size(u.table).empty]
        ms = ctx.hold_ms(number)
        scan = (
            f", and scans its default partition {scanned[0]} (ACCESS EXCLUSIVE too) for rows that belong to "
            f"{op.table}"
            if scanned
            else ""
        )
        sizes = [size, *(ctx.size(t) for t in scanned)]
        message = (
            f"CREATE TABLE {op.table} PARTITION OF {parent_ref} takes an ACCESS EXCLUSIVE lock on {parent_ref}, "
            f"which blocks every query on {parent_ref} and all of its partitions (reads included){scan}, "
            f"{ctx.until(op)}: {ctx.duration_many(sizes, ms, 'the step')}."
        )
        bound = bound_of(op.sql)
        help = (
            f"Create the table on its own and attach it: ATTACH takes only SHARE UPDATE EXCLUSIVE on {parent_ref} "
            "and has no rows to scan in a new table:\n"
            + block(
                f"op.execute({py(f'CREATE TABLE {op.table} (LIKE {parent_ref} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')})",
                f"op.execute({py(f'ALTER TABLE {parent_ref} ATTACH PARTITION {op.table} {bound}')})",
            )
        )
        if scanned:
            severity = max(ctx.grade(ctx.size(scanned[0]), ms), Severity.WARN, key=lambda s: s.rank)
        else:
            severity = Severity.INFO if size.empty else Severity.WARN
        yield ctx.finding("LK116", severity, message, help, table=parent_ref, lock=AE, ms=ms, op=op)
