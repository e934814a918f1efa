"""Reads that can't hang: every runner connection is bounded, and a read that hits a bound is a refusal.

A catalog read takes ACCESS SHARE on the table it reads (``alembic_version``,
``runner_history``), so a session holding ACCESS EXCLUSIVE on that table, or an
ALTER queued for it, makes the read wait. Every connection the runner opens gets a
short ``lock_timeout`` and a ``statement_timeout`` before its first query; a read
that runs into either becomes ``ReadBlocked`` (a refusal, exit 4) naming the
sessions that held or queued for ACCESS EXCLUSIVE on what it read, never an
internal error or a hang. Table sizes are read from lock-free catalog columns
(``runner.lint.sizing``), so sizing a plan never waits for a table's lock.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import psycopg
from psycopg import errors

from runner.database.blockers import Blocker
from runner.durations import format_ms
from runner.errors import Refused
from runner.redact import redact

READ_LOCK_TIMEOUT_MS = 2_000  # a catalog read waits this long for a table lock, then refuses
READ_STATEMENT_TIMEOUT_MS = 30_000  # and runs this long at most


class ReadBlocked(Refused):
    """A read the runner needed waited past its timeout; nothing was changed by it."""

    def __init__(self, message: str, blockers: Sequence[Blocker]) -> None:
        super().__init__(
            message, next_step="wait for (or end) the session named, then run the same command again."
        )
        self.blockers = tuple(blockers)


def bound(
    conn: psycopg.Connection,
    *,
    lock_timeout_ms: int = READ_LOCK_TIMEOUT_MS,
    statement_timeout_ms: int = READ_STATEMENT_TIMEOUT_MS,
) -> None:
    """Session limits set before the connection's first read (later SETs, such as a run's, override them)."""
    conn.execute(
        f"SET lock_timeout = '{int(lock_timeout_ms)}ms'; SET statement_timeout = '{int(statement_timeout_ms)}ms'"
    )


@contextmanager
def refusing_when_blocked(
    conn: psycopg.Connection, what: str, relations: Sequence[str] = ()
) -> Iterator[None]:
    """Turn a lock or statement timeout inside the block into ReadBlocked naming the blockers.

    ``what`` names the read for the message ("the current revision from alembic_version");
    ``relations`` are the tables it reads (empty: any table of this database).
    """
    try:
        yield
    except errors.LockNotAvailable as exc:
        raise blocked_read(conn, what, relations, exc) from None
    except errors.QueryCanceled as exc:
        if "statement timeout" not in str(exc):
            raise  # a cancel request (Ctrl-C, pg_cancel_backend) is not a timeout
        raise blocked_read(conn, what, relations, exc) from None


def blocked_read(
    conn: psycopg.Connection, what: str, relations: Sequence[str], exc: psycopg.Error
) -> ReadBlocked:
    lock_wait = isinstance(exc, errors.LockNotAvailable)
    setting = "lock_timeout" if lock_wait else "statement_timeout"
    limit = _setting_ms(conn, setting)
    found = _exclusive_holders(conn, relations)
    shown = f" ({format_ms(limit)})" if limit else ""
    if found:
        who = "; ".join(_describe(blocker, granted) for blocker, granted in found)
        cause = f"held up by {who}"
    elif lock_wait:
        cause = "the session holding the lock had ended by the time it was looked up"
    else:
        cause = "no session held or queued for an exclusive lock on it: the server is slow or overloaded"
    return ReadBlocked(
        f"Reading {what} waited longer than the runner's {setting}{shown}: {cause}. Nothing was changed.",
        [blocker for blocker, _ in found],
    )


# Who holds, or queues for, ACCESS EXCLUSIVE: the only lock a plain read waits behind.
EXCLUSIVE_HOLDERS_SQL = """
SELECT a.pid, a.usename, a.application_name, a.state, left(a.query, 500),
       round(extract(epoch FROM clock_timestamp() - a.xact_start)::numeric, 3)::float8,
       l.mode, l.relation::regclass::text, l.granted
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock'
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND l.pid <> pg_backend_pid()
   AND (cardinality(%(names)s::text[]) = 0
        OR l.relation IN (SELECT to_regclass(n) FROM unnest(%(names)s::text[]) AS n))
 ORDER BY l.granted DESC, a.xact_start NULLS LAST, a.pid
"""


def _exclusive_holders(conn: psycopg.Connection, relations: Sequence[str]) -> list[tuple[Blocker, bool]]:
    """(blocker, whether its lock is granted or still queued), holders first."""
    try:
        _recover(conn)
        rows = conn.execute(EXCLUSIVE_HOLDERS_SQL, {"names": list(relations)}).fetchall()
    except psycopg.Error:  # naming the blocker is a courtesy: never let it hide the refusal
        return []
    return [(Blocker(*row[:8]), bool(row[8])) for row in rows]


def _describe(blocker: Blocker, granted: bool) -> str:
    if granted:
        return blocker.describe()
    query = redact(blocker.query or "")[:120]
    return f"pid {blocker.pid} ({blocker.state or 'unknown state'}, queued for {blocker.mode} on {blocker.relation}): {query}"


def _setting_ms(conn: psycopg.Connection, name: str) -> int | None:
    try:
        _recover(conn)
        row = conn.execute("SELECT setting::bigint FROM pg_settings WHERE name = %s", [name]).fetchone()
    except psycopg.Error:
        return None
    return int(row[0]) if row else None


def _recover(conn: psycopg.Connection) -> None:
    """A read inside a transaction leaves it aborted: roll back before asking anything else."""
    if conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
        conn.execute("ROLLBACK")
