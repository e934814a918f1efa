"""Real env.py files as applications write them: guards in force in every style, wrong database refused."""

from __future__ import annotations

import importlib.util
from contextlib import closing

import pytest

from runner.guards import Guards
from runner.run.result import RunStatus
from tests import pg
from tests.conftest import PROJECTS, events_named

GUARDS = Guards(lock_timeout_ms=1234, statement_timeout_ms=5678, idle_in_transaction_timeout_ms=9012)
WRAPPER = "tests.projects.app_context.app:in_app_context"


def observed(database: str) -> list[tuple]:
    with closing(pg.connect(database)) as conn:
        return conn.execute(
            "SELECT revision, lock_timeout, statement_timeout, idle_timeout, database, txid FROM observed ORDER BY 1"
        ).fetchall()


@pytest.mark.parametrize(
    ("style", "wrapper", "outer_transaction"),
    [
        ("default", None, False),  # the alembic init env.py: builds its own engine from sqlalchemy.url
        ("attributes", None, False),  # honours config.attributes["connection"]
        ("own_env_var", None, False),  # ignores sqlalchemy.url, reads APP_DATABASE_URL
        ("single_tx", None, True),  # wraps every migration in engine.begin()
        ("runtime_locations", None, False),  # sets version_locations only at run time
        ("app_context", WRAPPER, False),  # needs an application context: --env-py-wrapper
    ],
)
def test_timeouts_are_in_force_on_the_connection_env_py_uses(
    style, wrapper, outer_transaction, new_db, run_apply, monkeypatch
):
    """Each step ran with the runner's timeouts, read back on env.py's own connection, one transaction per step."""
    database = new_db()
    monkeypatch.setenv("APP_DATABASE_URL", pg.sa_url_for(database))

    result, events = run_apply(PROJECTS / style / "alembic.ini", database, guards=GUARDS, wrapper=wrapper)

    assert result.status is RunStatus.DONE, result.message
    rows = observed(database)
    assert [r[:5] for r in rows] == [
        ("0001", "1234ms", "5678ms", "9012ms", database),
        ("0002", "1234ms", "5678ms", "9012ms", database),
    ]
    assert rows[0][5] != rows[1][5], "both steps ran in one transaction"
    checks = events_named(events, "session_checked")
    assert checks and all(c["outer_transaction"] is outer_transaction for c in checks)
    assert checks[0]["timeouts"] == {
        "lock_timeout": "1234ms",
        "statement_timeout": "5678ms",
        "idle_in_transaction_session_timeout": "9012ms",
    }
    expected_driver = "psycopg2" if importlib.util.find_spec("psycopg2") else "psycopg"
    assert checks[0]["driver"] == expected_driver
    assert pg.heads(database) == ["0002"]


def test_env_py_connected_to_another_database_is_refused_before_any_ddl(new_db, run_apply, monkeypatch):
    """env.py reads its own URL, which points elsewhere: refused (exit 4), neither database touched."""
    target, elsewhere = new_db(), new_db()
    monkeypatch.setenv("APP_DATABASE_URL", pg.sa_url_for(elsewhere))

    result, events = run_apply(PROJECTS / "own_env_var" / "alembic.ini", target)

    assert result.status is RunStatus.REFUSED
    assert int(result.exit_code) == 4
    assert f"env.py connected to database {elsewhere!r}" in result.message
    assert f"but the target is database {target!r}" in result.message
    for database in (target, elsewhere):  # refused before the first step: not even runner_history was made
        with closing(pg.connect(database)) as conn:
            tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0]
        assert tables == 0
    assert not events_named(events, "step_started")


def test_env_py_needing_a_context_without_the_wrapper_halts_cleanly(new_db, run_apply, monkeypatch):
    """Without --env-py-wrapper the application's own error is reported and nothing is applied."""
    database = new_db()
    monkeypatch.setenv("APP_DATABASE_URL", pg.sa_url_for(database))

    result, _ = run_apply(PROJECTS / "app_context" / "alembic.ini", database)

    assert result.status is RunStatus.HALTED
    assert "RuntimeError: Working outside of application context." in result.message
    assert pg.heads(database) == []
