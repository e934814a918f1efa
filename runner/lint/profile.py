"""The timeout profile each step should run under, derived from what its statements do.

One step gets one set of server-side limits (they are session settings on the
connection Alembic uses), so the profile follows the step's most demanding kind
of work:

- ``short-lock-ddl``: catalog changes and short locks. A lock wait is cut short
  after 2 s (and retried by the runner) so traffic never queues behind it for long.
- ``concurrent-build``: CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY,
  DETACH PARTITION ... CONCURRENTLY, VACUUM. These wait for every older transaction, and lock_timeout bounds that
  wait too, so it is minutes; the build itself may take hours on a large table.
- ``backfill``: UPDATE/DELETE/INSERT ... SELECT on tables that already have rows.
  Row-lock waits are bounded at seconds, the statement at its estimated duration.

statement_timeout is three times the step's longest estimated statement, kept
within each profile's floor and ceiling; an unknown estimate gets the floor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from runner.guards import Guards
from runner.lint import report
from runner.lint.context import StepContext
from runner.lint.ops import OpKind

SHORT_LOCK_DDL = report.SHORT_LOCK_DDL
CONCURRENT_BUILD = "concurrent-build"
BACKFILL = "backfill"
STATEMENT_MARGIN = 3


@dataclass(frozen=True)
class Profile:
    name: str
    lock_timeout_ms: int
    statement_floor_ms: int
    statement_ceiling_ms: int
    idle_in_transaction_timeout_ms: int = 60_000

    def guards(self, longest_statement_ms: float | None) -> Guards:
        if longest_statement_ms is None:
            statement = self.statement_floor_ms
        else:
            wanted = math.ceil(longest_statement_ms * STATEMENT_MARGIN / 1000) * 1000
            statement = min(max(wanted, self.statement_floor_ms), self.statement_ceiling_ms)
        return Guards(
            lock_timeout_ms=self.lock_timeout_ms,
            statement_timeout_ms=statement,
            idle_in_transaction_timeout_ms=self.idle_in_transaction_timeout_ms,
        )


PROFILES = {
    SHORT_LOCK_DDL: Profile(SHORT_LOCK_DDL, 2_000, 30_000, 3_600_000),
    CONCURRENT_BUILD: Profile(CONCURRENT_BUILD, 300_000, 1_800_000, 43_200_000),
    BACKFILL: Profile(BACKFILL, 5_000, 300_000, 21_600_000),
}
# DETACH PARTITION ... CONCURRENTLY also waits for older transactions, under lock_timeout: cut short, it
# leaves the partition "pending detach" until DETACH ... FINALIZE (checked on PostgreSQL 15).
_CONCURRENT_KINDS = (OpKind.CREATE_INDEX, OpKind.DROP_INDEX, OpKind.REINDEX, OpKind.DETACH_PARTITION)
_DATA_KINDS = (OpKind.UPDATE, OpKind.DELETE, OpKind.INSERT)


def profile_name(ctx: StepContext) -> str:
    if any((op.concurrent and op.kind in _CONCURRENT_KINDS) or op.kind is OpKind.VACUUM for op in ctx.ops):
        return CONCURRENT_BUILD
    for number, op in ctx.ops_of(*_DATA_KINDS):
        tables = op.reads if op.kind is OpKind.INSERT else ((op.table,) if op.table else ())
        if any(not ctx.is_exempt(t, number) and not ctx.size(t).empty for t in tables):
            return BACKFILL
    return SHORT_LOCK_DDL


def profile_of(ctx: StepContext) -> tuple[str, Guards]:
    name = profile_name(ctx)
    longest = 0.0
    for position in {op.statement.position for op in ctx.ops}:
        ms = ctx.statement_ms(position)
        if ms is None:  # a statement of unknown duration: the profile's floor
            return name, PROFILES[name].guards(None)
        longest = max(longest, ms)
    return name, PROFILES[name].guards(longest)
