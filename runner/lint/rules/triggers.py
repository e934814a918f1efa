"""BC: switching off triggers, and row security that changes which rows the application sees."""

from __future__ import annotations

from collections.abc import Iterator

from runner.lint.context import Origin, StepContext
from runner.lint.findings import Finding, Severity
from runner.lint.locks import LockMode
from runner.lint.names import TableRef
from runner.lint.ops import Op, OpKind
from runner.lint.rules.code import block, joined, py
from runner.lint.rules.registry import rule

SRE, AE = LockMode.SHARE_ROW_EXCLUSIVE, LockMode.ACCESS_EXCLUSIVE


def _covers(enable: Op, disable: Op) -> bool:
    """Does this ENABLE TRIGGER switch back on what the DISABLE switched off?"""
    if enable.value == "ALL":
        return True
    if enable.value == "USER":
        return disable.value in ("USER", None)
    return disable.value is None and enable.name == disable.name


def _re_enabled(ctx: StepContext, number: int, op: Op) -> bool:
    """Enabled again later in the same transaction: no other session ever writes without the triggers."""
    if not op.statement.in_transaction:
        return False
    return any(
        later > number
        and other.table == op.table
        and other.statement.in_transaction
        and other.statement.segment == op.statement.segment
        and _covers(other, op)
        for later, other in ctx.ops_of(OpKind.ENABLE_TRIGGER)
    )


def _facts(ctx: StepContext, table: TableRef) -> tuple[tuple[str, ...], int | None]:
    """The table's own triggers and how many foreign keys it takes part in, when the database says."""
    stats = ctx.table_stats(table)
    if ctx.stats is None or stats is None or ctx.stats.catalog.server_version_num is None:
        return (), None
    catalog = ctx.stats.catalog
    return catalog.user_triggers.get(stats.key, ()), catalog.foreign_keys.get(stats.key, 0)


@rule(
    "BC108",
    "disable-trigger",
    summary="ALTER TABLE ... DISABLE TRIGGER switches off application logic (and, with ALL, foreign key checks) "
    "for every session.",
    explanation="""
DISABLE TRIGGER takes a SHARE ROW EXCLUSIVE lock (writes to the table wait until the step commits)
and, once committed, switches the triggers off for every session: auditing, denormalised counters,
updated_at stamps and any other logic the application keeps in triggers silently stop. DISABLE
TRIGGER ALL also switches off the internal triggers that enforce foreign keys on and to the table:
rows written meanwhile are never checked, not even when the triggers are enabled again.

Disable a trigger only inside the transaction that needs it, and enable it again before that
transaction commits: the lock keeps every other writer out meanwhile, so no other session ever
writes without the triggers. Name the trigger (or USER) instead of ALL, so foreign keys stay
enforced. Severity is block for ALL left disabled on a table with rows, warn for other triggers left
disabled, info when they are enabled again in the same transaction or the table is new.
""",
    recipe="""
op.execute("ALTER TABLE accounts DISABLE TRIGGER accounts_touch")  # by name (or USER), never ALL
op.execute("UPDATE accounts SET note = '' WHERE note IS NULL AND id BETWEEN 1 AND 5000")
op.execute("ALTER TABLE accounts ENABLE TRIGGER accounts_touch")  # before the same transaction commits
""",
)
def disable_trigger(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.DISABLE_TRIGGER):
        if op.table is None or ctx.is_exempt(op.table, number):
            continue
        size = ctx.size(op.table)
        triggers, keys = _facts(ctx, op.table)
        which = f"TRIGGER {op.value or op.name}"
        if op.value == "ALL":
            named = f"every trigger on {op.table}" + (f" ({joined(triggers)})" if triggers else "")
            fk = f"{keys} foreign key{'s' if keys != 1 else ''}" if keys else "foreign keys"
            off = f"{named} and the checks of the {fk} on and to {op.table}"
        elif op.value == "USER":
            off = f"every user trigger on {op.table}" + (f" ({joined(triggers)})" if triggers else "")
        else:
            off = f"the trigger {op.name}"
        if _re_enabled(ctx, number, op):
            severity = Severity.INFO
            message = (
                f"DISABLE {which} on {op.table} is enabled again before the step commits, so no other session writes "
                f"without {off}: its SHARE ROW EXCLUSIVE lock makes their writes wait until the commit. Only this "
                "step's own writes skip them"
                + (", foreign key checks included." if op.value == "ALL" else ".")
            )
        else:
            severity = (
                Severity.INFO
                if size.origin is Origin.NEW or size.empty
                else Severity.BLOCK
                if op.value == "ALL"
                else Severity.WARN
            )
            message = (
                f"DISABLE {which} on {op.table} switches off {off} for every session from the moment this step "
                "commits, until something enables them again"
                + (
                    ": rows written meanwhile are never checked against the foreign keys."
                    if op.value == "ALL"
                    else "."
                )
            )
        target = op.name if op.value is None else "USER"
        help = (
            "Disable only what must be skipped, inside the transaction that needs it, and enable it again before "
            "the commit:\n"
            + block(
                f"op.execute({py(f'ALTER TABLE {op.table} DISABLE TRIGGER {target}')})",
                "# the data change that must skip it, in this same transaction",
                f"op.execute({py(f'ALTER TABLE {op.table} ENABLE TRIGGER {target}')})",
            )
        )
        yield ctx.finding("BC108", severity, message, help, table=op.table, lock=SRE, op=op)


def _policies(ctx: StepContext, number: int, op: Op) -> int:
    """Policies the table has, or gets in this run before the commit that enables row security."""
    assert op.table is not None
    count = sum(
        1
        for later, other in ctx.ops_of(OpKind.CREATE_POLICY)
        if other.table == op.table and (later < number or other.statement.segment == op.statement.segment)
    )
    if op.table.key in ctx.run.policies:
        count += 1
    stats = ctx.table_stats(op.table)
    if ctx.stats is not None and stats is not None:
        count += ctx.stats.catalog.row_security.get(stats.key, (False, 0))[1]
    return count


@rule(
    "BC109",
    "enable-row-level-security",
    summary="ENABLE ROW LEVEL SECURITY on a table with no policy hides every row from roles that don't own it.",
    explanation="""
Once row level security is enabled, a role that does not own the table (and is neither a superuser
nor BYPASSRLS) sees only the rows a policy allows: with no policy at all it sees no rows and can't
write any. If the application connects as such a role, every query on the table returns nothing
from the moment the step commits. FORCE ROW LEVEL SECURITY applies the policies to the owner too.
The statement takes an ACCESS EXCLUSIVE lock, briefly.

Create the policies first, in the same step (CREATE POLICY), then enable row level security, and
rehearse with the application's own role. Severity is warn for ENABLE without any policy, block for
FORCE without any policy on a table with rows, info once policies exist or for new tables.
""",
    recipe="""
op.execute("CREATE POLICY accounts_by_org ON accounts USING (org_id = current_setting('app.org_id')::bigint)")
op.execute("ALTER TABLE accounts ENABLE ROW LEVEL SECURITY")  # in the same step, after its policies
""",
)
def enable_row_level_security(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.ROW_SECURITY):
        if op.table is None or op.value not in ("ENABLE", "FORCE") or ctx.is_exempt(op.table, number):
            continue
        size, policies = ctx.size(op.table), _policies(ctx, number, op)
        who = "every role, its owner included," if op.value == "FORCE" else "every role that does not own it"
        if policies:
            severity = Severity.INFO
            message = (
                f"{op.value} ROW LEVEL SECURITY on {op.table}: from the moment this step commits, {who} sees and "
                f"writes only the rows its {policies} polic{'ies' if policies > 1 else 'y'} allow (superusers and "
                "BYPASSRLS roles excepted); rehearse with the application's own role."
            )
        else:
            severity = Severity.INFO if size.origin is Origin.NEW else Severity.WARN
            if op.value == "FORCE" and not size.empty and severity is Severity.WARN:
                severity = Severity.BLOCK
            message = (
                f"{op.value} ROW LEVEL SECURITY on {op.table}, which has no policy: from the moment this step "
                f"commits, {who} (superusers and BYPASSRLS roles excepted) sees no rows of {op.table} and can't "
                "write any, the application's role included unless it owns the table."
            )
        help = "Create the policies first, in the same step, then enable row level security:\n" + block(
            f"op.execute({py(f'CREATE POLICY {op.table.name}_access ON {op.table} USING (...)')})  # who sees which rows",
            f"op.execute({py(op.sql)})",
        )
        yield ctx.finding("BC109", severity, message, help, table=op.table, lock=AE, op=op)


@rule(
    "BC110",
    "create-policy",
    summary="CREATE POLICY on a table with row level security on changes which rows running code sees.",
    explanation="""
On a table whose row level security is enabled, a new policy takes effect for every query as soon
as the step commits: a PERMISSIVE policy lets roles see (and write) more rows, a RESTRICTIVE one
hides rows they saw before, and its expression runs for every row every query reads, so a slow
expression slows every query on the table. CREATE POLICY also takes an ACCESS EXCLUSIVE lock on the
table, briefly (noted by LK109).

Review the expression and the roles it applies to, and rehearse with the application's role before
production. On a table without row level security a policy does nothing until it is enabled: noted
only. Tables this run creates are exempt.
""",
    recipe="""
op.execute("CREATE POLICY accounts_open ON accounts AS RESTRICTIVE FOR SELECT USING (status <> 'closed')")
# in the rehearsal, as the application's role: SET ROLE app; SELECT count(*) FROM accounts;
""",
)
def create_policy(ctx: StepContext) -> Iterator[Finding]:
    for number, op in ctx.ops_of(OpKind.CREATE_POLICY):
        if op.table is None or ctx.is_exempt(op.table, number) or ctx.size(op.table).origin is Origin.NEW:
            continue
        stats = ctx.table_stats(op.table)
        enabled = op.table.key in ctx.run.row_security
        if ctx.stats is not None and stats is not None:
            enabled = enabled or ctx.stats.catalog.row_security.get(stats.key, (False, 0))[0]
        kind, command = op.what or "PERMISSIVE", op.value or "ALL"
        effect = (
            "lets roles see and write more rows" if kind == "PERMISSIVE" else "hides rows roles saw before"
        )
        if enabled:
            message = (
                f"CREATE POLICY {op.name} on {op.table} ({kind}, for {command}) changes which rows running code sees "
                f"from the moment this step commits: row level security is on for {op.table}, so it {effect}, and "
                "its expression runs for every row every query reads."
            )
            severity = Severity.WARN
        else:
            message = (
                f"CREATE POLICY {op.name} on {op.table} does nothing until row level security is enabled on "
                f"{op.table}; then it decides which rows each role sees."
            )
            severity = Severity.INFO
        help = "Review it and rehearse with the application's own role before production:\n" + block(
            f"op.execute({py(op.sql)})",
            f"# in the rehearsal: SET ROLE <application role>; SELECT count(*) FROM {op.table};",
        )
        yield ctx.finding("BC110", severity, message, help, table=op.table, lock=AE, op=op)
