"""One run per database at a time: a session-level advisory lock.

The lock lives on the runner's own autocommit connection, which stays idle
outside any transaction, so it survives every step's commit and can't deadlock
with ``CREATE INDEX CONCURRENTLY``. If the runner dies, PostgreSQL frees it as
soon as the connection drops.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from runner.errors import Refused

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


def holder(conn: psycopg.Connection) -> LockHolder | None:
    row = conn.execute(HOLDER_SQL, [LOCK_CLASS, LOCK_OBJECT]).fetchone()
    return LockHolder(*row) if row else None


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
    if not conn.closed:
        conn.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_CLASS, LOCK_OBJECT])
