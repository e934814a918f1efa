"""A rehearsal that starts from what production really has: its schema cloned, drift included.

``pg_dump --schema-only`` of the real database is restored into the fresh
throwaway database (owners, grants, tablespaces, publications and subscriptions
left out: the throwaway server has none of production's roles), and the rows of
its version table are copied, since a schema-only dump has none. The pg_dump used
matches the source server's major version where that is installed
(``/usr/lib/postgresql/N/bin``), else the nearest newer one (pg_dump reads older
servers, never newer ones). Passwords travel in ``PGPASSWORD``, never on a
command line another user could read.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from psycopg import sql
from psycopg.conninfo import make_conninfo

from runner.database import connections as db
from runner.database.connections import VersionTable
from runner.redact import redact
from runner.rehearsal.starting import StartingStateError
from runner.target import DatabaseTarget
from runner.throwaway.cluster import installed_majors

APPLICATION_NAME = "migration-runner clone"
LOCK_WAIT_TIMEOUT = "10s"  # pg_dump's AccessShare locks: never queue behind production's DDL for long
DUMP_OPTIONS = (
    "--schema-only",
    "--no-owner",
    "--no-privileges",
    "--no-tablespaces",
    "--no-publications",
    "--no-subscriptions",
    "--no-security-labels",
    f"--lock-wait-timeout={LOCK_WAIT_TIMEOUT}",
)


@dataclass(frozen=True)
class Client:
    """The pg_dump (and the psql beside it) a clone uses, and its major version."""

    pg_dump: Path
    psql: Path
    major: int
    note: str | None = None  # said when it is not the source's own major version


@dataclass(frozen=True)
class Cloned:
    """What a clone did: from which server version, with which pg_dump, the revisions copied, how long."""

    source_major: int
    client: Client
    heads: tuple[str, ...]
    duration_ms: int

    def describe(self) -> str:
        heads = ", ".join(self.heads) or "<base>"
        return (
            f"schema cloned from PostgreSQL {self.source_major} with pg_dump {self.client.major} "
            f"in {self.duration_ms} ms; at revision {heads}"
        )


def _version(binary: Path) -> int | None:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False)
    found = re.search(r"\) (\d+)", out.stdout)
    return int(found.group(1)) if out.returncode == 0 and found else None


def client_for(major: int) -> Client:
    """pg_dump for a PostgreSQL ``major`` server: its own version, else the nearest newer one installed."""
    candidates = {
        m: b for m, b in installed_majors().items() if (b / "pg_dump").exists() and (b / "psql").exists()
    }
    on_path = shutil.which("pg_dump")
    if on_path and shutil.which("psql"):
        found = _version(Path(on_path))
        if found is not None:
            candidates.setdefault(found, Path(on_path).parent)
    usable = sorted(m for m in candidates if m >= major)
    if not usable:
        have = ", ".join(str(m) for m in sorted(candidates)) or "none"
        raise StartingStateError(
            f"No pg_dump for PostgreSQL {major} or newer is installed (installed: {have}), so the schema can't be "
            f"cloned: pg_dump can't read a server newer than itself. Install the PostgreSQL {major} client "
            f"(postgresql-client-{major})."
        )
    chosen = usable[0]
    note = (
        None
        if chosen == major
        else f"pg_dump {chosen} is used for the PostgreSQL {major} source (no pg_dump {major})."
    )
    return Client(candidates[chosen] / "pg_dump", candidates[chosen] / "psql", chosen, note)


def _libpq(target: DatabaseTarget) -> tuple[str, dict[str, str]]:
    """A conninfo string without the password, and the environment that carries it."""
    kwargs = {k: str(v) for k, v in target.connect_kwargs().items()}
    password = kwargs.pop("password", None)
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    env.pop("PGPASSWORD", None)
    if password:
        env["PGPASSWORD"] = password
    return make_conninfo(**kwargs), env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        detail = " ".join((result.stderr or result.stdout).split())[:800]
        raise StartingStateError(f"{what} failed: {redact(detail)}")


def clone_schema(
    source: DatabaseTarget, target: DatabaseTarget, *, version_table: VersionTable | None = None
) -> Cloned:
    """Restore ``source``'s schema into the empty ``target`` and copy its version table's rows."""
    table = version_table or VersionTable()
    started = time.monotonic()
    with closing(db.connect(source, APPLICATION_NAME)) as conn:
        major = conn.info.server_version // 10000
        heads = db.read_heads(conn, table)
    client = client_for(major)
    source_info, source_env = _libpq(source)
    target_info, target_env = _libpq(target)
    with tempfile.TemporaryDirectory(prefix="runner-clone-") as work:
        dump = Path(work) / "schema.sql"
        _run(
            [str(client.pg_dump), *DUMP_OPTIONS, f"--file={dump}", f"--dbname={source_info}"],
            source_env,
            f"pg_dump --schema-only of {source.display}",
        )
        _run(
            [
                str(client.psql),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "--single-transaction",
                "-f",
                str(dump),
                "-d",
                target_info,
            ],
            target_env,
            f"Restoring the schema of {source.display} into {target.display}",
        )
    if heads:
        with closing(db.connect(target, APPLICATION_NAME)) as conn:
            insert = sql.SQL("INSERT INTO {} (version_num) VALUES (%s)").format(table.identifier())
            for head in heads:
                conn.execute(insert, [head])
    return Cloned(major, client, heads, round((time.monotonic() - started) * 1000))
