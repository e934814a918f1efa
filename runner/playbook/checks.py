"""Checks: what the database must look like before, between and after steps.

Each check runs on a connection of its own (never the run's lock session, so
no check can release the run lock or touch the session a step runs on), in a
READ ONLY transaction of its own with a statement_timeout and lock_timeout,
optionally as the playbook's ``checks.role``, and is always rolled back, so a
check can neither change the database nor hold a lock past its own query, and
one failing check does not stop the others. A ``sql:`` check must be one plain
read-only query (``query_rules``): refused when the playbook is loaded, and
again here. A check that errors (a missing table, a timeout, a role without
SELECT) fails with the error as what was found; it never crashes the run.

Two checks are always on: the version table reads the revision the run
expects, and no index is INVALID (what a failed CREATE INDEX CONCURRENTLY
leaves behind, and what IF NOT EXISTS then silently keeps).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql as pgsql

from runner.check_result import CheckResult, DatabaseCheck
from runner.database import connections
from runner.errors import RunnerError
from runner.playbook.query_rules import query_problems
from runner.redact import redact
from runner.target import DatabaseTarget

DEFAULT_TIMEOUT_MS = 30_000
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@contextmanager
def checks_connection(target: DatabaseTarget | None, run_id: str) -> Iterator[psycopg.Connection | str]:
    """A connection of the checks' own for one round of checks (closed after it), or why there is none.

    Never the run's lock session: a check can't release the run lock or disturb the session steps run on.
    """
    if target is None:
        yield "the run gave the checks no connection of their own"
        return
    try:
        conn = connections.connect(target, application_name=f"migration-runner {run_id} checks")
    except RunnerError as exc:
        yield f"no connection for the checks: {exc.message}"
        return
    with closing(conn):
        yield conn


@contextmanager
def read_only(conn: psycopg.Connection, timeout_ms: int, role: str | None = None) -> Iterator[None]:
    """A READ ONLY transaction with its own timeouts (and role), always rolled back."""
    conn.execute("BEGIN READ ONLY")
    try:
        conn.execute(f"SET LOCAL statement_timeout = '{int(timeout_ms)}ms'")
        conn.execute(f"SET LOCAL lock_timeout = '{int(timeout_ms)}ms'")
        if role is not None:
            conn.execute(pgsql.SQL("SET LOCAL ROLE {}").format(pgsql.Identifier(role)))
        yield
    finally:
        conn.execute("ROLLBACK")


def run_check(
    check: DatabaseCheck,
    conn: psycopg.Connection,
    timeout_ms: int,
    baseline: int | None = None,
    *,
    role: str | None = None,
) -> CheckResult:
    """Run one check; an error in its query is a failed check, not a crash."""
    try:
        with read_only(conn, timeout_ms, role):
            if isinstance(check, RowsUnchanged):
                return check.evaluate(conn, baseline)
            return check.evaluate(conn)
    except Exception as exc:  # fail closed: a check that can't say yes has failed
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return CheckResult(
            check.label, False, check.expectation(), redact(f"error: {type(exc).__name__}: {first}")
        )


# -- the always-on checks ------------------------------------------------------------------------
@dataclass(frozen=True)
class RevisionIs:
    heads: tuple[str, ...]
    version_table: connections.VersionTable = field(default_factory=connections.VersionTable)
    label: str = "revision"

    def expectation(self) -> str:
        return ", ".join(sorted(self.heads)) or "<base>"

    def evaluate(self, conn: psycopg.Connection) -> CheckResult:
        found = connections.read_heads(conn, self.version_table)
        ok = connections.same_heads(found, self.heads)
        return CheckResult(self.label, ok, self.expectation(), ", ".join(found) or "<base>")


@dataclass(frozen=True)
class RevisionReverted:
    """After a downgrade step: the reverted revision is gone from the version table."""

    revision: str
    version_table: connections.VersionTable = field(default_factory=connections.VersionTable)
    label: str = "revision reverted"

    def expectation(self) -> str:
        return f"{self.revision} no longer recorded"

    def evaluate(self, conn: psycopg.Connection) -> CheckResult:
        found = connections.read_heads(conn, self.version_table)
        shown = ", ".join(found) or "<base>"
        return CheckResult(self.label, self.revision not in found, self.expectation(), shown)


INVALID_INDEXES_SQL = """
SELECT i.indexrelid::regclass::text, i.indrelid::regclass::text
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE NOT i.indisvalid AND n.nspname NOT IN ('pg_catalog', 'information_schema')
 ORDER BY 1
"""


@dataclass(frozen=True)
class NoInvalidIndexes:
    label: str = "no INVALID indexes"

    def expectation(self) -> str:
        return "none"

    def evaluate(self, conn: psycopg.Connection) -> CheckResult:
        rows = conn.execute(INVALID_INDEXES_SQL).fetchall()
        found = ", ".join(f"{index} on {table}" for index, table in rows) or "none"
        return CheckResult(self.label, not rows, "none", found)


# -- query checks --------------------------------------------------------------------------------
@dataclass(frozen=True)
class QueryCheck:
    sql: str
    measure: str  # "scalar" (first column of the first row) or "rows" (how many rows)
    op: str
    expected: Any
    label: str = ""

    def expectation(self) -> str:
        shown = _show(self.expected)
        return f"{'rows ' if self.measure == 'rows' else ''}{self.op} {shown}"

    def evaluate(self, conn: psycopg.Connection) -> CheckResult:
        problems = query_problems(self.sql)
        if problems:  # validation refuses these; a check built another way is refused here too
            return CheckResult(
                self.label, False, self.expectation(), f"refused: the SQL {'; '.join(problems)}"
            )
        # Prepared, so the server refuses more than one statement (a COMMIT; would end READ ONLY), and
        # unformatted, so a % in the operator's SQL is just a %.
        cursor = conn.cursor()
        cursor.execute(self.sql, prepare=True)
        rows = cursor.fetchall() if cursor.description is not None else []
        if self.measure == "rows":
            return CheckResult(
                self.label,
                _compare(len(rows), self.op, self.expected),
                self.expectation(),
                f"{len(rows)} rows",
            )
        if not rows:
            return CheckResult(self.label, False, self.expectation(), "no rows")
        value = rows[0][0]
        return CheckResult(
            self.label, _compare(value, self.op, self.expected), self.expectation(), _show(value)
        )


def _compare(found: Any, op: str, expected: Any) -> bool:
    """Numbers as numbers (exactly, whatever their Python type), NULL only equal to NULL, else as text."""
    if expected is None or found is None:
        if op not in ("==", "!="):
            return False  # NULL is not less or greater than anything
        same = (found is None) == (expected is None)
        return same if op == "==" else not same
    if isinstance(expected, bool) or isinstance(found, bool):
        return op in ("==", "!=") and _OPS[op](bool(found), bool(expected))
    if isinstance(expected, int | float | Decimal) and isinstance(found, int | float | Decimal):
        try:
            return bool(_OPS[op](Decimal(str(found)), Decimal(str(expected))))
        except ArithmeticError:  # NaN does not order
            return False
    return op in ("==", "!=") and _OPS[op](str(found), str(expected))


def _show(value: Any) -> str:
    if value is None:
        return "NULL"
    return repr(value) if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class RowsUnchanged:
    """A table's row count after a step (or the run) equals the count before it."""

    table: str
    label: str = ""

    def expectation(self) -> str:
        return "the row count from before"

    def count(self, conn: psycopg.Connection) -> int | None:
        """The table's exact row count; None when there is no such table."""
        row = conn.execute("SELECT to_regclass(%s)::text", [self.table]).fetchone()
        if row is None or row[0] is None:
            return None
        # regclass output is the server's own correctly quoted name for the table
        counted = conn.execute(pgsql.SQL("SELECT count(*) FROM {}").format(pgsql.SQL(row[0]))).fetchone()
        return int(counted[0]) if counted else 0

    def evaluate(self, conn: psycopg.Connection, baseline: int | None = None) -> CheckResult:
        after = self.count(conn)
        shown = "no such table" if after is None else f"{after} rows"
        if baseline is None:
            return CheckResult(self.label, False, self.expectation(), f"{shown}, and no count from before")
        return CheckResult(self.label, after == baseline, f"{baseline} rows (as before)", shown)


def count_rows(
    check: RowsUnchanged, conn: psycopg.Connection, timeout_ms: int, *, role: str | None = None
) -> int | None:
    """The baseline for a RowsUnchanged check; None when the table can't be counted."""
    try:
        with read_only(conn, timeout_ms, role):
            return check.count(conn)
    except psycopg.Error:
        return None
