"""One run per database at a time: a session-level advisory lock.

The lock lives on the runner's own autocommit connection, which stays idle
outside any transaction, so it survives every step's commit and can't deadlock
with ``CREATE INDEX CONCURRENTLY``. If the runner dies, PostgreSQL frees it as
soon as the connection drops.

The lock is only as good as its session, so the session protects itself
(``idle_session_timeout`` and ``idle_in_transaction_session_timeout`` off for
itself, whatever the role or database says; TCP keepalives against proxies
that drop quiet connections), and the runner asks before every step whether
the lock is still held. Each step's own transaction also checks, from the
step's connection, that the runner's session still holds it before the step
can commit (see ``HELD_BY_SQL``): a step never commits without the lock.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from runner.errors import Halted, Refused

# Two-key form (classid, objid): "RUN" and a fixed id, so nothing else collides by accident.
LOCK_CLASS = 0x52554E
LOCK_OBJECT = 1


@dataclass(frozen=True)
class LockHolder:
    pid: int
    application_name: str
    user: str | None
    client: str | None
    backend_start: str
    state: str | None

    def describe(self) -> str:
        client = f" from {self.client}" if self.client else ""
        return (
            f"pid {self.pid} ({self.application_name or 'no application_name'}, user {self.user}{client}, "
            f"connected since {self.backend_start})"
        )


HOLDER_SQL = """
SELECT a.pid, a.application_name, a.usename, host(a.client_addr),
       to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), a.state
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'advisory' AND l.granted
   AND l.classid = %s AND l.objid = %s AND l.objsubid = 2
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


APPLICATION_PREFIX = "migration-runner "


def run_id_of(found: LockHolder | None) -> str | None:
    """The run id a live holder's application_name carries (the runner sets it), if it is a runner."""
    if found is None or not found.application_name.startswith(APPLICATION_PREFIX):
        return None
    return found.application_name[len(APPLICATION_PREFIX) :].split(" ", 1)[0] or None


def holder(conn: psycopg.Connection) -> LockHolder | None:
    row = conn.execute(HOLDER_SQL, [LOCK_CLASS, LOCK_OBJECT]).fetchone()
    return LockHolder(*row) if row else None


# The session settings that keep the lock's session from being ended for being quiet.
IMMUNE_SETTINGS = ("idle_in_transaction_session_timeout", "idle_session_timeout")


def _held_by(session: str) -> str:
    """``session`` (an SQL expression for a backend pid) holds the run lock, as an SQL condition."""
    return (
        f"EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = {session}"
        f" AND classid = {LOCK_CLASS} AND objid = {LOCK_OBJECT} AND objsubid = 2)"
    )


# On the lock's own session: a check alone, or a condition of the run's row update before each step.
HELD_HERE_SQL = _held_by("pg_backend_pid()")
# For SQL run on another connection (a step's): is the lock still held by the runner's session?
HELD_BY_SQL = _held_by(":runner_pid")


class RunLockLost(Halted):
    """The session holding the run lock ended (or lost the lock): nothing more may run."""


LOST_MESSAGE = (
    "The run lock was lost: the session that held it ended (terminated by pg_terminate_backend, an idle "
    "timeout, a failover, or a proxy that dropped the connection), so another run could take it. "
    "To never act without that guard, nothing more was run"
)


def protect(conn: psycopg.Connection) -> None:
    """Make the lock's session immune to idle timeouts set on its role or database."""
    row = conn.execute("SHOW server_version_num").fetchone()
    assert row is not None  # SHOW answers with one row
    version = int(row[0])
    for name in IMMUNE_SETTINGS:
        if name == "idle_session_timeout" and version < 140000:
            continue  # PostgreSQL 13 and older have no idle_session_timeout
        conn.execute(f"SET {name} = 0")


def still_held(conn: psycopg.Connection) -> bool:
    """True if this session still holds the run lock; a dead connection does not."""
    if conn.closed or conn.broken:
        return False
    try:
        row = conn.execute(f"SELECT {HELD_HERE_SQL}").fetchone()
        return bool(row and row[0])
    except psycopg.Error:
        return False


def acquire(conn: psycopg.Connection, *, database_label: str) -> None:
    """Take the run lock or refuse at once, naming the session that holds it."""
    got = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_CLASS, LOCK_OBJECT]).fetchone()
    if got and got[0]:
        return
    found = holder(conn)
    who = found.describe() if found else "a session that has since gone"
    raise Refused(
        f"Another migration run holds the run lock on {database_label}: {who}. Nothing was changed.",
        next_step="wait for that run to finish (runner status shows where it got to); "
        "if that session is stuck, end it with SELECT pg_terminate_backend(PID).",
    )


def release(conn: psycopg.Connection) -> None:
    if not conn.closed and not conn.broken:
        conn.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_CLASS, LOCK_OBJECT])
