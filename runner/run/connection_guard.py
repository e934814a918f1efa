"""Guarding the connection the application's env.py hands to Alembic.

Before Alembic sees the connection, the runner sets its timeouts on it, reads
them back from the server, and checks that the connection reaches the very
database the runner locked (same cluster, same database, and the runner's own
lock-holding session visible from it). Nothing in a migration has run yet, so a
wrong database is refused before any DDL.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError

from runner.database.connections import ServerIdentity
from runner.durations import format_ms, parse_ms
from runner.errors import Refused
from runner.guards import Guards

CLIENT_CHECK_MS = 1000  # how soon the server notices that a killed runner's socket closed
STATEMENT_TEXT_LIMIT = 4000  # characters of one statement kept in the audit log


@dataclass(frozen=True)
class SessionCheck:
    """What the runner read back from env.py's connection before the first step."""

    backend_pid: int
    settings_ms: dict[str, int]
    identity: ServerIdentity
    sees_runner_session: bool
    outer_transaction: bool
    driver: str

    def as_fields(self) -> dict[str, Any]:
        return {
            "backend_pid": self.backend_pid,
            "timeouts": {name: format_ms(ms) for name, ms in self.settings_ms.items()},
            "server": self.identity.as_fields(),
            "sees_runner_session": self.sees_runner_session,
            "outer_transaction": self.outer_transaction,
            "driver": self.driver,
        }


_READ_BACK = text(
    """
SELECT pg_backend_pid() AS pid,
       current_setting('lock_timeout') AS lock_timeout,
       current_setting('statement_timeout') AS statement_timeout,
       current_setting('idle_in_transaction_session_timeout') AS idle_in_transaction_session_timeout,
       current_database() AS database,
       host(inet_server_addr()) AS address,
       inet_server_port() AS port,
       CASE WHEN has_function_privilege('pg_control_system()', 'EXECUTE')
            THEN (SELECT system_identifier::text FROM pg_control_system()) END AS system_identifier,
       EXISTS (SELECT 1 FROM pg_stat_activity
                WHERE pid = :runner_pid AND datname = current_database()
                  AND (extract(epoch FROM backend_start) * 1000000)::bigint = :runner_start_us)
         AS sees_runner_session
"""
)


def prepare(connection: Any, guards: Guards, runner: ServerIdentity) -> SessionCheck:
    """Set the guards on ``connection`` and read back what the server now says.

    If the connection is outside a transaction the settings are committed in one
    of their own, so Alembic still finds the connection as env.py left it. Inside
    env.py's own transaction they simply take effect there.
    """
    outer = bool(connection.in_transaction())
    if outer:
        row = _set_and_read(connection, guards, runner)
    else:
        with connection.begin():
            row = _set_and_read(connection, guards, runner)
    settings = {name: parse_ms(row[name]) for name in guards.settings_ms()}
    identity = ServerIdentity(
        system_identifier=row["system_identifier"],
        database=row["database"],
        address=row["address"],
        port=row["port"],
        backend_pid=row["pid"],
        backend_start_us=0,
    )
    return SessionCheck(
        backend_pid=row["pid"],
        settings_ms=settings,
        identity=identity,
        sees_runner_session=bool(row["sees_runner_session"]),
        outer_transaction=outer,
        driver=str(connection.dialect.driver),
    )


def _notice_a_dead_client(connection: Any) -> None:
    """If the runner is killed mid-statement, the server stops that statement within a second.

    Without this (PostgreSQL 14+), a statement whose client died runs on to its
    end (an index build, a lock wait, a rewrite holding ACCESS EXCLUSIVE) and only
    then finds nobody to answer. Some platforms can't watch the socket: then the
    setting is refused, and the session goes on without it.
    """
    if (connection.dialect.server_version_info or (0,)) < (14,):
        return
    try:
        with connection.begin_nested():
            connection.exec_driver_sql(f"SET client_connection_check_interval = '{CLIENT_CHECK_MS}ms'")
    except DBAPIError:
        return


def _set_and_read(connection: Any, guards: Guards, runner: ServerIdentity) -> dict[str, Any]:
    for name, ms in guards.settings_ms().items():
        connection.exec_driver_sql(f"SET {name} = '{int(ms)}ms'")
    _notice_a_dead_client(connection)
    result = connection.execute(
        _READ_BACK, {"runner_pid": runner.backend_pid, "runner_start_us": runner.backend_start_us}
    )
    return dict(result.mappings().one())


def verify(check: SessionCheck, guards: Guards, runner: ServerIdentity) -> None:
    """Refuse unless env.py's connection is on the runner's database with the guards in force."""
    found = check.identity
    same_system = (
        runner.system_identifier is None
        or found.system_identifier is None
        or runner.system_identifier == found.system_identifier
    )
    if not (check.sees_runner_session and same_system and found.database == runner.database):
        raise Refused(
            f"env.py connected to {found.describe()}, but the target is {runner.describe()}. "
            "No migration was run. env.py probably builds its engine from its own setting or environment "
            "variable instead of sqlalchemy.url.",
            next_step="point that setting at the target database (or pass the matching --database-url) "
            "and run the same command again.",
        )
    for name, wanted in guards.settings_ms().items():
        if check.settings_ms[name] != wanted:
            raise Refused(
                f"env.py's connection reports {name} = {format_ms(check.settings_ms[name])} after the runner "
                f"set {format_ms(wanted)} (a connection pooler in transaction mode, or env.py resetting it). "
                "No migration was run.",
                next_step="connect directly to PostgreSQL rather than through a transaction pooler.",
            )


def capture_statements(connection: Any, sink: Callable[[], list[dict[str, Any]] | None]) -> None:
    """Every statement env.py's connection runs during a step, kept for that step's audit event.

    They are written with the step's outcome (applied or failed), one fsync per
    step rather than per statement; a step cut short by a crash rolled back, so
    its statements changed nothing.
    """

    def before(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        conn.info["runner_statement_started"] = time.monotonic()

    def after(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        into = sink()  # the list of the step in flight, or None between steps
        if into is None:
            return
        started = conn.info.pop("runner_statement_started", time.monotonic())
        into.append(
            {
                "sql": statement.strip()[:STATEMENT_TEXT_LIMIT],
                "ms": round((time.monotonic() - started) * 1000, 2),
            }
        )

    event.listen(connection, "before_cursor_execute", before)
    event.listen(connection, "after_cursor_execute", after)


_COMMITTING = ("COMMIT", "END", "PREPARE")


def barrier_before_commits(connection: Any, barrier: Callable[[], None]) -> None:
    """``barrier`` runs before anything on env.py's connection can commit, wherever the migration commits.

    Besides the step's own commit: a transaction committed early (``autocommit_block``),
    a COMMIT sent as a statement, and every statement run in autocommit mode, which
    commits as it runs. ``barrier`` raising stops that commit.
    """

    def on_commit(conn: Any) -> None:
        barrier()

    def before(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        autocommit = getattr(getattr(cursor, "connection", None), "autocommit", False) is True
        words = statement.lstrip("( \n\t").split(None, 1)
        if autocommit or (words and words[0].upper() in _COMMITTING):
            barrier()

    event.listen(connection, "commit", on_commit)
    event.listen(connection, "before_cursor_execute", before)


@contextmanager
def application_name(name: str) -> Iterator[None]:
    """Connections env.py opens show up in pg_stat_activity under the run's name (libpq's PGAPPNAME).

    An application_name set in the URL or by env.py itself wins, as libpq intends.
    """
    previous = os.environ.get("PGAPPNAME")
    os.environ["PGAPPNAME"] = name
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("PGAPPNAME", None)
        else:
            os.environ["PGAPPNAME"] = previous


@contextmanager
def pgoptions(guards: Guards) -> Iterator[None]:
    """Connections env.py opens get the guards from libpq too (a second layer)."""
    previous = os.environ.get("PGOPTIONS")
    os.environ["PGOPTIONS"] = f"{previous} {guards.pgoptions()}".strip() if previous else guards.pgoptions()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("PGOPTIONS", None)
        else:
            os.environ["PGOPTIONS"] = previous
