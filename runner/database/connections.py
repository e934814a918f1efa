"""The runner's own connections to the target, and what they read from it.

These use psycopg 3 directly, whatever driver the application uses: the advisory
lock, the identity of the server, the current revision and the history table
must not depend on the application's env.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql

from runner import tuning
from runner.database.reads import bound, refusing_when_blocked
from runner.database.version_table import VersionTable as VersionTable  # re-exported: its old home
from runner.errors import ConfigError, Unreachable
from runner.redact import redact
from runner.target import DatabaseTarget

CONNECT_TIMEOUT_S = 10
# TCP keepalives (libpq names): a proxy or NAT that drops quiet connections, or a dead peer, is noticed
# in about a minute instead of hanging; the URL's own values win. Ignored on unix sockets.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}

# What PostgreSQL says when every connection slot is taken (SQLSTATE 53300), as libpq passes it on.
_NO_FREE_SLOTS = (
    "too many clients already",
    "remaining connection slots are reserved",
    "too many connections for role",
    "too many connections for database",
)


def connect(target: DatabaseTarget, application_name: str = "migration-runner") -> psycopg.Connection:
    """An autocommit connection with the runner's read timeouts set, or an error that names where and why."""
    kwargs = target.connect_kwargs()
    kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    kwargs.setdefault("application_name", application_name)
    for key, value in KEEPALIVES.items():
        kwargs.setdefault(key, value)
    try:
        conn = psycopg.connect(autocommit=True, **kwargs)
    except psycopg.OperationalError as exc:
        raise unreachable(target, exc) from None
    except psycopg.ProgrammingError as exc:  # an unknown libpq keyword in the URL's query
        raise ConfigError(f"The database URL {target.display} can't be used: {redact(str(exc))}.") from None
    try:
        bound(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def unreachable(target: DatabaseTarget, exc: Exception) -> Unreachable:
    """Why a connection failed: a server out of connection slots is said to be that, not bad credentials."""
    reason = " ".join(redact(str(exc)).split()).rstrip(". ")
    if any(text in reason for text in _NO_FREE_SLOTS):
        return Unreachable(
            f"Can't connect to {target.display}: the server has no free connections ({reason}). Every slot "
            "up to its max_connections (or the role's or database's connection limit) is taken. Nothing was "
            "changed.",
            next_step="find what holds the connections (SELECT application_name, count(*) FROM pg_stat_activity "
            "GROUP BY 1), wait for them to be released or raise the limit, then run runner status.",
        )
    return Unreachable(
        f"Can't connect to {target.display}: {reason}. Nothing was changed.",
        next_step="check the host, port, database name and credentials, then run runner status.",
    )


@dataclass(frozen=True)
class ServerIdentity:
    """What identifies one database on one server, as seen from one session."""

    system_identifier: str | None
    database: str
    address: str | None
    port: int | None
    backend_pid: int
    backend_start_us: int

    def describe(self) -> str:
        where = f"{self.address or 'local socket'}:{self.port or '?'}"
        system = f", system {self.system_identifier}" if self.system_identifier else ""
        return f"database {self.database!r} on {where}{system}"

    def as_fields(self) -> dict[str, object]:
        return {
            "system_identifier": self.system_identifier,
            "database": self.database,
            "address": self.address,
            "port": self.port,
        }


IDENTITY_SQL = """
SELECT current_database(),
       host(inet_server_addr()),
       inet_server_port(),
       CASE WHEN has_function_privilege('pg_control_system()', 'EXECUTE')
            THEN (SELECT system_identifier::text FROM pg_control_system()) END,
       pg_backend_pid(),
       (SELECT (extract(epoch FROM backend_start) * 1000000)::bigint
          FROM pg_stat_activity WHERE pid = pg_backend_pid())
"""


def identity(conn: psycopg.Connection) -> ServerIdentity:
    row = conn.execute(IDENTITY_SQL).fetchone()
    assert row is not None
    database, address, port, system_identifier, pid, start_us = row
    return ServerIdentity(system_identifier, database, address, port, pid, start_us)


def read_heads(conn: psycopg.Connection, table: VersionTable) -> tuple[str, ...]:
    """The revisions recorded in the version table; () when it doesn't exist yet (base).

    A read held up past the connection's lock or statement timeout (a session holding
    ACCESS EXCLUSIVE on the version table) is a ReadBlocked refusal naming that session.
    """
    with refusing_when_blocked(conn, f"the current revision from {table}", [str(table)]):
        regclass = conn.execute("SELECT to_regclass(%s)", [str(table)]).fetchone()
        if regclass is None or regclass[0] is None:
            return ()
        rows = conn.execute(
            sql.SQL("SELECT version_num FROM {} ORDER BY 1").format(table.identifier())
        ).fetchall()
    return tuple(row[0] for row in rows)


def server_version(conn: psycopg.Connection) -> str:
    row = conn.execute("SHOW server_version").fetchone()
    assert row is not None  # SHOW answers with one row
    return str(row[0])


def same_heads(a: Sequence[str], b: Sequence[str]) -> bool:
    return sorted(a) == sorted(b)


def reconnect(
    target: DatabaseTarget,
    application_name: str,
    *,
    within_s: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> psycopg.Connection | None:
    """A new connection for the run's last records after its own was lost; None if none comes in time.

    A restarting server (failover, ``pg_ctl restart``) usually answers again
    within seconds, and then the run can still read back where the database
    is and finish its history row.
    """
    deadline = time.monotonic() + (tuning.number(tuning.RECONNECT_S) if within_s is None else within_s)
    while True:
        try:
            return connect(target, application_name)
        except Unreachable:
            if time.monotonic() >= deadline:
                return None
            sleep(1.0)


def is_alive(conn: psycopg.Connection) -> bool:
    if conn.closed or conn.broken:
        return False
    try:
        conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True
