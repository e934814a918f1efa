"""LK: index builds and foreign keys on a partitioned table, which act on every partition at once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from runner.lint.context import StepContext
from runner.lint.findings import Finding, Severity
from runner.lint.locks import LockMode, Work
from runner.lint.names import TableRef
from runner.lint.ops import Constraint, Op, OpKind
from runner.lint.partitioned import PartitionedTable
from runner.lint.rules.code import block, joined, py, py_list
from runner.lint.rules.locks.partition_code import foreign_key_recipe, index_recipe
from runner.lint.rules.registry import rule
from runner.lint.versions import PARTITIONED_FK_NOT_VALID

SHARE, SRE, AE = LockMode.SHARE, LockMode.SHARE_ROW_EXCLUSIVE, LockMode.ACCESS_EXCLUSIVE
_KEYED = (Constraint.UNIQUE, Constraint.PRIMARY_KEY)  # an EXCLUDE constraint has no concurrent path: LK106


def index_builds(ctx: StepContext) -> Iterator[tuple[int, Op, PartitionedTable]]:
    """CREATE INDEX (not ON ONLY) and UNIQUE/PRIMARY KEY constraints on a partitioned table."""
    for number, op in ctx.ops_of(OpKind.CREATE_INDEX, OpKind.ADD_CONSTRAINT):
        if op.table is None or ctx.is_exempt(op.table, number):
            continue
        if op.kind is OpKind.CREATE_INDEX and op.only:
            continue
        if op.kind is OpKind.ADD_CONSTRAINT and (op.constraint not in _KEYED or op.using_index):
            continue
        parent = ctx.partitioned_table(op.table, number)
        if parent is not None:
            yield number, op, parent


def missing_key(op: Op, parent: PartitionedTable) -> tuple[str, ...] | None:
    """The partition key columns a unique index or constraint leaves out; None when it may be unique."""
    unique = op.unique if op.kind is OpKind.CREATE_INDEX else True
    if not unique or not op.plain_columns or not op.columns:
        return None
    if parent.key_expressions:
        return ("an expression",)
    missing = tuple(column for column in parent.key_columns if column not in op.columns)
    return missing or None


def _index_name(op: Op) -> str:
    table = op.table or TableRef("?")
    if op.name:
        return op.name
    suffix = (
        "pkey" if op.constraint is Constraint.PRIMARY_KEY else "key" if op.unique or op.constraint else "idx"
    )
    return f"{table.name}_{'_'.join(op.columns) or 'expr'}_{suffix}"


@rule(
    "LK112",
    "partitioned-index-build",
    summary="An index or UNIQUE/PRIMARY KEY constraint on a partitioned table locks and builds on every "
    "partition in one statement; CONCURRENTLY is refused there.",
    explanation="""
CREATE INDEX on a partitioned table recurses: it takes a SHARE lock on the table and on every
partition, and builds the index on each of them in one transaction, so every INSERT, UPDATE and
DELETE on the whole table waits until the last partition is built (a UNIQUE or PRIMARY KEY
constraint also takes ACCESS EXCLUSIVE on the partitioned table itself). CREATE INDEX CONCURRENTLY
is refused on a partitioned table ("cannot create index on partitioned table ... concurrently").

The safe recipe: CREATE INDEX ... ON ONLY the partitioned table (catalog only: the index starts
INVALID), then CREATE INDEX CONCURRENTLY on each partition in an autocommit_block(), then ALTER INDEX
... ATTACH PARTITION each of them; the parent's index becomes valid when every partition has one. A
unique index built this way enforces the same uniqueness as a constraint, and foreign keys can
reference it; PostgreSQL can't turn it into a PRIMARY KEY or UNIQUE constraint of a partitioned
table (ADD CONSTRAINT ... USING INDEX is refused there), so acknowledge a constraint only on a small
table. Partitioned tables are known from the database, or from CREATE TABLE ... PARTITION BY earlier
in the run; without a database URL an existing partitioned table looks like any table (see LK101).
""",
    recipe="""
op.execute("CREATE INDEX ix_events_org_id ON ONLY events (org_id)")  # catalog only: INVALID for now
with op.get_context().autocommit_block():
    for partition in ["events_2025", "events_2026"]:
        op.create_index(f"ix_events_org_id_{partition}", partition, ["org_id"], postgresql_concurrently=True)
for partition in ["events_2025", "events_2026"]:
    op.execute(f"ALTER INDEX ix_events_org_id ATTACH PARTITION ix_events_org_id_{partition}")
""",
)
def partitioned_index_build(ctx: StepContext) -> Iterator[Finding]:
    for number, op, parent in index_builds(ctx):
        if missing_key(op, parent):
            continue  # refused outright: LK117
        name = _index_name(op)
        unique = op.unique or op.constraint in (Constraint.UNIQUE, Constraint.PRIMARY_KEY)
        recipe = index_recipe(op, parent, name, unique=unique)
        what = (
            f"ADD CONSTRAINT {name} {op.constraint}"
            if op.kind is OpKind.ADD_CONSTRAINT
            else f"CREATE {'UNIQUE ' if unique else ''}INDEX {name}"
        )
        if op.concurrent:
            what = f"CREATE {'UNIQUE ' if unique else ''}INDEX CONCURRENTLY {name}"
            message = (
                f"{what} on {op.table} is refused: PostgreSQL can't build an index concurrently on a "
                f'partitioned table (cannot create index on partitioned table "{op.table}" concurrently), so the '
                "step fails every time."
            )
            help = "Build it per partition instead, concurrently, and attach each to an index ON ONLY the table:\n"
            yield ctx.finding("LK112", Severity.WARN, message, help + block(*recipe), table=op.table, op=op)
            continue
        size, ms = ctx.size(op.table or TableRef("?")), ctx.hold_ms(number)
        own = (
            f"an ACCESS EXCLUSIVE lock on {op.table}, which blocks every query on it (reads included), and a "
            f"SHARE lock on {parent.counted()}"
            if op.kind is OpKind.ADD_CONSTRAINT
            else f"a SHARE lock on {op.table} and on {parent.counted()}, which blocks every INSERT, UPDATE and "
            "DELETE on all of them"
        )
        message = (
            f"{what} on {op.table} builds the index on every partition in one statement: it takes {own}, "
            f"{ctx.until(op)}: {ctx.duration(size, ms, 'the builds')}. CREATE INDEX CONCURRENTLY is refused on a "
            "partitioned table."
        )
        help = (
            "Create the index ON ONLY the partitioned table, build it concurrently on each partition, and attach "
            "each build; reads and writes go on throughout:\n"
        )
        if op.kind is OpKind.ADD_CONSTRAINT:
            help = (
                "PostgreSQL can't attach an index as a constraint of a partitioned table, but a unique index built "
                "this way enforces the same uniqueness (and foreign keys can reference it):\n"
            )
        mode = AE if op.kind is OpKind.ADD_CONSTRAINT else SHARE
        yield ctx.finding(
            "LK112",
            ctx.grade(size, ms),
            message,
            help + block(*recipe),
            table=op.table,
            lock=mode,
            ms=ms,
            op=op,
        )


@rule(
    "LK113",
    "partitioned-foreign-key",
    summary="A FOREIGN KEY on a partitioned table locks every partition and the referenced table while it "
    "checks every partition; NOT VALID is refused there before PostgreSQL 18.",
    explanation="""
ALTER TABLE ... ADD FOREIGN KEY on a partitioned table takes SHARE ROW EXCLUSIVE on the table, on
every partition and on the referenced table, and checks every row of every partition before it
commits: INSERT, UPDATE and DELETE wait on all of them meanwhile. The usual cure, NOT VALID, is
refused on a partitioned table before PostgreSQL 18 ("cannot add NOT VALID foreign key on
partitioned table"), and the verdict follows the target's server_version_num (without a database
the oldest supported release is assumed, and said).

The safe recipe before PostgreSQL 18: add the same foreign key NOT VALID to each partition (catalog
only), VALIDATE it on each partition in a later revision (SHARE UPDATE EXCLUSIVE: reads and writes go
on), then add it to the partitioned table, which adopts the validated constraints of the partitions
without checking a row (measured on PostgreSQL 15). From PostgreSQL 18 on, add it NOT VALID to the
partitioned table and validate it later, as LK103 says.
""",
    recipe="""
for partition in ["events_2025", "events_2026"]:
    op.create_foreign_key(
        "events_org_id_fkey", partition, "orgs", ["org_id"], ["id"], postgresql_not_valid=True
    )
# in the next revision: VALIDATE holds SHARE UPDATE EXCLUSIVE, reads and writes go on
for partition in ["events_2025", "events_2026"]:
    op.execute(f"ALTER TABLE {partition} VALIDATE CONSTRAINT events_org_id_fkey")
# in the revision after: the key on events adopts the validated ones without a scan
op.create_foreign_key("events_org_id_fkey", "events", "orgs", ["org_id"], ["id"])
""",
)
def partitioned_foreign_key(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.ADD_CONSTRAINT):
        if op.constraint is not Constraint.FOREIGN_KEY or op.table is None or op.on_new_column:
            continue
        parent = ctx.partitioned_table(op.table, number)
        if parent is None or ctx.is_exempt(op.table, number):
            continue
        reference = op.references[0] if op.references else TableRef("?")
        name = op.name or f"{op.table.name}_{'_'.join(op.columns) or 'fk'}_fkey"
        native = ctx.version.has(PARTITIONED_FK_NOT_VALID)
        if native:
            recipe = [
                f"op.create_foreign_key({py(name)}, {py(op.table.name)}, {py(reference.name)}, {py_list(op.columns)}, "
                f"{py_list(op.ref_columns or ('id',))}, postgresql_not_valid=True)",
                "# in the next revision:",
                f"op.execute({py(f'ALTER TABLE {op.table} VALIDATE CONSTRAINT {name}')})",
            ]
            help = f"Add it NOT VALID ({ctx.version.major} allows it on a partitioned table) and validate it later:\n"
        else:
            recipe = foreign_key_recipe(op, parent, name)
            help = (
                "Add it NOT VALID to each partition, validate each in a later revision, then add it to the "
                "partitioned table, which adopts the validated constraints without a scan:\n"
            )
        if op.not_valid and not native:
            message = (
                f"ADD CONSTRAINT {name} FOREIGN KEY ... NOT VALID on {op.table} is refused {ctx.version.here()}: "
                f"a NOT VALID foreign key on a partitioned table needs {PARTITIONED_FK_NOT_VALID.release} (cannot add "
                f'NOT VALID foreign key on partitioned table "{op.table}"), so the step fails every time.'
            )
            yield ctx.finding("LK113", Severity.WARN, message, help + block(*recipe), table=op.table, op=op)
            continue
        if op.not_valid or all(use.work is Work.CATALOG for use in ctx.uses(number)):
            continue  # catalog only: NOT VALID on PostgreSQL 18, or every partition has the key validated
        size, ms = ctx.size(op.table), ctx.hold_ms(number)
        message = (
            f"ADD CONSTRAINT {name} FOREIGN KEY on {op.table} checks every row of {parent.counted()} against "
            f"{reference} while holding SHARE ROW EXCLUSIVE locks on {joined([str(op.table), 'each partition', str(reference)])}, "
            f"which block every INSERT, UPDATE and DELETE on them {ctx.until(op)}: "
            f"{ctx.duration(size, ms, 'the validation scans')}."
        )
        if not native:
            message += f" NOT VALID is refused on a partitioned table {ctx.version.here()}."
        yield ctx.finding(
            "LK113",
            ctx.grade(size, ms),
            message,
            help + block(*recipe),
            table=op.table,
            lock=SRE,
            ms=ms,
            op=op,
        )


@rule(
    "LK117",
    "partitioned-unique-without-key",
    summary="A unique index or constraint on a partitioned table that leaves out a partition key column is "
    "refused.",
    explanation="""
PostgreSQL enforces uniqueness on a partitioned table one partition at a time, so it only accepts a
UNIQUE or PRIMARY KEY constraint, or a unique index, that includes every column of the partition key
("unique constraint on partitioned table must include all partitioning columns"); with an expression
in the partition key it accepts none. The step fails every time, after any slower statement before
it in the same transaction has run.

Include the partition key columns in the index (unique per partition key value is then unique
everywhere), or enforce the narrower rule another way: a unique index on each partition only
guarantees uniqueness within that partition.
""",
    recipe="""
# the partition key (created_on) is part of the unique index, built as LK112 shows
op.execute("CREATE UNIQUE INDEX events_id_key ON ONLY events (id, created_on)")
with op.get_context().autocommit_block():
    for partition in ["events_2025", "events_2026"]:
        op.create_index(
            f"events_id_key_{partition}", partition, ["id", "created_on"], unique=True,
            postgresql_concurrently=True,
        )
for partition in ["events_2025", "events_2026"]:
    op.execute(f"ALTER INDEX events_id_key ATTACH PARTITION events_id_key_{partition}")
""",
)
def partitioned_unique_without_key(ctx: StepContext) -> Iterator[Finding]:
    for _, op, parent in index_builds(ctx):
        missing = missing_key(op, parent)
        if not missing or op.table is None:
            continue
        name = _index_name(op)
        what = (
            f"ADD CONSTRAINT {name} {op.constraint}"
            if op.kind is OpKind.ADD_CONSTRAINT
            else f"CREATE UNIQUE INDEX {name}"
        )
        lacks = f"leaves out the partition key column{'s' if len(missing) > 1 else ''} {joined(missing)}"
        if missing == ("an expression",):
            lacks = "is on a table partitioned by an expression"
        message = (
            f"{what} on {op.table} {lacks}: PostgreSQL refuses a unique index or constraint on a partitioned "
            "table unless it includes every partition key column (unique constraint on partitioned table must "
            "include all partitioning columns), so the step fails every time."
        )
        columns = (*op.columns, *(c for c in parent.key_columns if c not in op.columns))
        keyed = replace(op, kind=OpKind.CREATE_INDEX, columns=columns, index_where=None, plain_columns=True)
        help = (
            "Include the partition key in the unique index, and build it per partition so reads and writes go on "
            "(see LK112):\n" + block(*index_recipe(keyed, parent, name, unique=True))
        )
        if parent.key_expressions:
            help = (
                "Enforce it another way: a unique index on each partition is unique only within it.\n"
                + block(f"# no unique index or constraint on {op.table} can leave out its partition key")
            )
        yield ctx.finding("LK117", Severity.WARN, message, help, table=op.table, op=op)
