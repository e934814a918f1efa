"""What a killed run can leave in the database: its own sessions still running, and half-built indexes.

A run's sessions carry its id in ``application_name`` (``migration-runner RUN``),
so a later run can find the ones whose process is gone. A ``CREATE INDEX
CONCURRENTLY`` that was interrupted leaves its index behind, INVALID: unused by
queries, still maintained on every write, and in the way of the statement that
would build it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from runner.database.runlock import APPLICATION_PREFIX
from runner.redact import redact


@dataclass(frozen=True)
class Session:
    pid: int
    application_name: str
    state: str | None
    query: str | None

    def as_fields(self) -> dict[str, Any]:
        return redact(
            {
                "pid": self.pid,
                "application_name": self.application_name,
                "state": self.state,
                "query": (self.query or "")[:500],
            }
        )


def sessions_of(conn: psycopg.Connection, run_id: str) -> list[Session]:
    """The sessions of run ``run_id`` still connected (its own, its watcher, env.py's)."""
    name = f"{APPLICATION_PREFIX}{run_id}"
    rows = conn.execute(
        "SELECT pid, application_name, state, query FROM pg_stat_activity "
        "WHERE pid <> pg_backend_pid() AND (application_name = %s OR application_name LIKE %s) ORDER BY pid",
        [name, name.replace("%", r"\%").replace("_", r"\_") + " %"],
    ).fetchall()
    return [Session(*row) for row in rows]


def end_session(conn: psycopg.Connection, pid: int) -> bool:
    """pg_terminate_backend, waiting (PostgreSQL 14+) until the session and its locks are gone."""
    sql = (
        "SELECT pg_terminate_backend(%s, 5000)"
        if conn.info.server_version >= 140000
        else ("SELECT pg_terminate_backend(%s)")
    )
    row = conn.execute(sql, [pid]).fetchone()
    return bool(row and row[0])


@dataclass(frozen=True)
class IndexState:
    name: str  # as the server prints it (schema-qualified when off the search path)
    valid: bool
    table: str


def index_state(conn: psycopg.Connection, name: str) -> IndexState | None:
    """The index ``name`` ([schema.]index) if it exists."""
    row = conn.execute(
        "SELECT i.indexrelid::regclass::text, i.indisvalid, i.indrelid::regclass::text FROM pg_index i "
        "WHERE i.indexrelid = to_regclass(%s)",
        [name],
    ).fetchone()
    return IndexState(*row) if row else None


def drop_index(conn: psycopg.Connection, name: str) -> None:
    """DROP INDEX CONCURRENTLY: the table stays readable and writable while the index goes."""
    conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
