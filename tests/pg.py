"""Real PostgreSQL for tests: a database per test, cloned from migrated templates."""

from __future__ import annotations

import os
import secrets
from contextlib import closing

import psycopg
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from runner.target import DatabaseTarget

ADMIN_URL = os.environ.get("RUNNER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PREFIX = "rt_"


def admin() -> psycopg.Connection:
    return psycopg.connect(**DatabaseTarget.parse(ADMIN_URL).connect_kwargs(), autocommit=True)


def url_for(database: str) -> str:
    """A driver-less URL, as an operator would write it."""
    return make_url(ADMIN_URL).set(database=database).render_as_string(hide_password=False)


def sa_url_for(database: str) -> str:
    """The URL an application env.py would use in this environment (psycopg2 if present)."""
    return DatabaseTarget.parse(url_for(database)).for_alembic()


def create_database(template: str | None = None, name: str | None = None) -> str:
    name = name or f"{PREFIX}{secrets.token_hex(5)}"
    with closing(admin()) as conn:
        clause = f" TEMPLATE {template}" if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{clause}')
    return name


def drop_database(name: str) -> None:
    with closing(admin()) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drop_leftovers() -> None:
    """Databases a killed test run left behind."""
    with closing(admin()) as conn:
        names = [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'rt\\_%'")]
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def alembic_upgrade(ini: str, database: str, revision: str) -> None:
    """Plain Alembic, as the baseline: used to build templates and reference schemas."""
    config = Config(ini)
    config.set_main_option("sqlalchemy.url", sa_url_for(database).replace("%", "%%"))
    command.upgrade(config, revision)


# A run in-process puts its limits in PGOPTIONS for env.py's connections; the tests' own sessions (holding
# locks, queueing behind an ALTER, watching) must not inherit them while it runs.
OWN_SETTINGS = "-c lock_timeout=0 -c statement_timeout=0 -c idle_in_transaction_session_timeout=0"


def connect(database: str) -> psycopg.Connection:
    kwargs = {**DatabaseTarget.parse(url_for(database)).connect_kwargs(), "options": OWN_SETTINGS}
    return psycopg.connect(**kwargs, autocommit=True)


def heads(database: str) -> list[str]:
    with closing(connect(database)) as conn:
        exists = conn.execute("SELECT to_regclass('alembic_version')").fetchone()[0]
        if not exists:
            return []
        return sorted(r[0] for r in conn.execute("SELECT version_num FROM alembic_version"))
