"""Driving the runner the way production does: as a subprocess, signalled, starved, its server restarted.

Fault tests start the real command line, wait for a state they can see in the
database (a step waiting for its lock, a session present), inject the fault,
and then check what the operator would: the exit code and message, the revision
in ``alembic_version``, the history rows, ``runner audit verify`` on the log,
the run lock free, and that the next ``runner apply`` reaches head.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from runner.database.runlock import LOCK_CLASS, LOCK_OBJECT
from runner.target import DatabaseTarget
from runner.throwaway.cluster import LocalCluster
from tests.cli import ROOT, run_cli

T = TypeVar("T")
EXAMPLE_INI = ROOT / "examples" / "credentialmate" / "alembic.ini"


def spawn(*args: str, env: dict[str, str], **popen: Any) -> subprocess.Popen[str]:
    """``runner ARGS`` in its own process, as a deploy script would start it."""
    merged = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PGPASSWORD")}
    merged.update(env)
    options: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    options.update(popen)
    return subprocess.Popen(
        [sys.executable, "-m", "runner", *args], cwd=ROOT, env=merged, text=True, **options
    )


def wait_for(probe: Callable[[], T], *, timeout: float = 30.0, what: str = "the condition") -> T:
    """Poll ``probe`` (a database query, usually) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.01)


def connect(url: str) -> psycopg.Connection:
    return psycopg.connect(**DatabaseTarget.parse(url).connect_kwargs(), autocommit=True)


def waiting_on(url: str, table: str) -> bool:
    """True while some session waits for a lock on ``table``."""
    with closing(connect(url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE relation = to_regclass(%s) AND NOT granted", [table]
        ).fetchone()
    return bool(row and row[0])


def run_lock_free(url: str) -> bool:
    with closing(connect(url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objid = %s"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [LOCK_CLASS, LOCK_OBJECT],
        ).fetchone()
    return row is not None and row[0] == 0


def runner_sessions(url: str) -> list[tuple[int, str, str]]:
    """(pid, application_name, state) of every session the runner or its env.py opened."""
    with closing(connect(url)) as conn:
        return conn.execute(
            "SELECT pid, application_name, state FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name LIKE 'migration-runner%%' ORDER BY pid"
        ).fetchall()


def env_py_running(url: str, fragment: str) -> bool:
    """True while env.py's session runs a statement containing ``fragment``."""
    with closing(connect(url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name LIKE 'migration-runner %%env.py' AND state = 'active' AND query LIKE %s",
            [f"%{fragment}%"],
        ).fetchone()
    return bool(row and row[0])


def heads(url: str) -> list[str]:
    with closing(connect(url)) as conn:
        if conn.execute("SELECT to_regclass('alembic_version')").fetchone()[0] is None:  # type: ignore[index]
            return []
        return sorted(r[0] for r in conn.execute("SELECT version_num FROM alembic_version"))


def history_rows(url: str) -> list[dict[str, Any]]:
    from psycopg.rows import dict_row

    with closing(connect(url)) as conn:
        if conn.execute("SELECT to_regclass('runner_history')").fetchone()[0] is None:  # type: ignore[index]
            return []
        with conn.cursor(row_factory=dict_row) as cur:
            return cur.execute("SELECT * FROM runner_history ORDER BY id").fetchall()


def events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def alembic_upgrade(ini: Path, url: str, revision: str) -> None:
    """Plain Alembic, to bring a database to a starting state."""
    config = Config(str(ini))
    config.set_main_option("sqlalchemy.url", DatabaseTarget.parse(url).for_alembic().replace("%", "%%"))
    command.upgrade(config, revision)


def assert_recovers(
    url: str,
    audit: Path,
    *,
    ini: Path = EXAMPLE_INI,
    head: str = "20260131_0000",
    env: dict[str, str] | None = None,
) -> None:
    """What an operator checks after any fault: the log verifies, nothing is left running or locked,
    and the next apply finishes the job."""
    env = {"DATABASE_URL": url, **(env or {})}
    verified = run_cli("audit", "verify", str(audit), env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    wait_for(lambda: run_lock_free(url), timeout=10, what="the run lock to be free")
    again = run_cli("apply", "-c", str(ini), "--yes", "--audit-log", str(audit), env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert heads(url) == [head]
    assert not [r for r in history_rows(url) if r["kind"] == "run" and r["outcome"] == "running"]
    assert run_cli("audit", "verify", str(audit), env=env).returncode == 0


class Cluster:
    """A throwaway PostgreSQL of the test's own, for faults that need the server itself to change."""

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        self.server = LocalCluster(settings=settings)
        self.admin_url = self.server.start()

    def url_for(self, database: str) -> str:
        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)

    def create_database(self, name: str, *, at: str | None = None, ini: Path = EXAMPLE_INI) -> str:
        with closing(connect(self.admin_url)) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = self.url_for(name)
        if at is not None:
            alembic_upgrade(ini, url, at)
        return url

    def restart(self) -> None:
        self.server.pg_ctl("restart")

    def stop_server(self) -> None:
        self.server.pg_ctl("stop")

    def log_text(self) -> str:
        return (self.server.root / "server.log").read_text(errors="replace")

    def close(self) -> None:
        self.server.stop()
