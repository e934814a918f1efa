"""The throwaway head: built through env.py in a cluster of its own, never somewhere env.py points instead."""

from __future__ import annotations

from contextlib import closing

import pytest

from runner.database import connections as db
from runner.drift.head import HeadUnavailable, throwaway_head
from runner.errors import EnvPyError
from runner.planning.project import AlembicProject
from tests import pg
from tests.conftest import EXAMPLE_HEAD, EXAMPLE_INI, PROJECTS
from tests.projects.generate import write_project


def test_an_env_py_that_connects_elsewhere_is_refused_before_any_migration(new_db, monkeypatch):
    """env.py reading its own APP_DATABASE_URL would migrate that database: refused, and it stays empty."""
    elsewhere = new_db()
    monkeypatch.setenv("APP_DATABASE_URL", pg.sa_url_for(elsewhere))
    project = AlembicProject.load(PROJECTS / "own_env_var" / "alembic.ini")
    with pytest.raises(EnvPyError) as refused, throwaway_head(project):
        pass
    assert refused.value.message.startswith(
        f"env.py connected to database {elsewhere!r} instead of the throwaway"
    )
    assert pg.heads(elsewhere) == []


def test_a_migration_that_fails_is_reported_as_no_head(tmp_path):
    """A revision that fails on an empty database: HeadUnavailable (exit 6) naming the error, no traceback."""
    ini = write_project(tmp_path, [("a1", 'op.execute("SELECT no_such_function()")', "pass")])
    with pytest.raises(HeadUnavailable) as failed, throwaway_head(AlembicProject.load(ini)):
        pass
    assert failed.value.message.startswith("The code head could not be built in a throwaway database: ")
    assert "no_such_function" in failed.value.message
    assert int(failed.value.exit_code) == 6


def test_the_example_head_is_built():
    """The example project's head, through its own env.py: the throwaway database is at 20260131_0000."""
    with throwaway_head(AlembicProject.load(EXAMPLE_INI)) as head, closing(db.connect(head)) as conn:
        assert db.read_heads(conn, db.VersionTable()) == (EXAMPLE_HEAD,)
