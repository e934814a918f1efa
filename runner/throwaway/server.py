"""Temporary databases on an existing server: a random name, created for a rehearsal, dropped after it.

The admin URL is the operator's (a connection allowed to CREATE DATABASE). The
marker names each database *before* it is created, so a run killed between
the two leaves nothing a later run would not drop. Dropping uses ``WITH
(FORCE)`` (PostgreSQL 13 and later; older servers get their sessions ended
first), so a session left open by a rehearsal never keeps its database alive.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import psycopg
from psycopg import sql

from runner.database import connections as db
from runner.errors import ConfigError
from runner.target import SECRET_QUERY_KEYS, DatabaseTarget
from runner.throwaway.markers import Marker, MarkerBook

APPLICATION_NAME = "migration-runner throwaway"
_PREFIX = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")


def without_secrets(target: DatabaseTarget) -> str:
    """The URL with no password anywhere in it: what a marker file may hold."""
    url = target.url.set(password=None)
    query = {key: value for key, value in url.query.items() if key.lower() not in SECRET_QUERY_KEYS}
    return url.set(query=query).render_as_string(hide_password=False)


def _same_server(a: DatabaseTarget, b: DatabaseTarget) -> bool:
    """Same host, port and user: the same credentials apply (the database in the URL may differ)."""
    return (a.url.host, a.url.port, a.url.username) == (b.url.host, b.url.port, b.url.username)


def new_name(prefix: str) -> str:
    """A database name no one else has: ``PREFIX_`` and ten random hex digits."""
    if not _PREFIX.match(prefix):
        raise ConfigError(
            f"{prefix!r} can't begin a database name: use at most 40 lowercase letters, digits and underscores."
        )
    return f"{prefix}_{secrets.token_hex(5)}"


def drop(server: DatabaseTarget, name: str) -> None:
    """DROP DATABASE IF EXISTS ``name`` on ``server``, ending its sessions."""
    statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with closing(db.connect(server, APPLICATION_NAME)) as conn:
        if conn.info.server_version >= 130000:
            conn.execute(statement)
            return
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


class TemporaryDatabases:
    """Databases made on one server for one throwaway target; ``drop_all()`` removes them and the marker."""

    def __init__(self, server: DatabaseTarget, markers: MarkerBook) -> None:
        self.server = server
        self.markers = markers
        self.marker = Marker.new("server", server=without_secrets(server))
        self.path: Path | None = markers.write(self.marker)

    def create(self, prefix: str = "rehearsal") -> DatabaseTarget:
        name = new_name(prefix)
        assert self.path is not None, "create() after drop_all()"
        self.marker = self.markers.update(self.path, self.marker, databases=(*self.marker.databases, name))
        with closing(db.connect(self.server, APPLICATION_NAME)) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return DatabaseTarget(self.server.url.set(database=name))

    def drop_all(self) -> None:
        for name in self.marker.databases:
            drop(self.server, name)
        if self.path is not None:
            self.markers.remove(self.path)
            self.path = None


def drop_abandoned(marker: Marker, known: Sequence[DatabaseTarget]) -> str:
    """Drop an abandoned marker's databases, with the password of a known URL for that server if it needs one."""
    server = DatabaseTarget.parse(str(marker.server), source="a throwaway marker")
    for candidate in known:
        if _same_server(candidate, server):
            server = DatabaseTarget(candidate.url.set(database=server.database))
            break
    for name in marker.databases:
        try:
            drop(server, name)
        except psycopg.Error as exc:
            raise ConfigError(f"database {name} could not be dropped: {exc}") from None
    return f"dropped {', '.join(marker.databases)}" if marker.databases else "no database had been made"
