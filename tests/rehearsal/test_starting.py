"""The starting state: migrated through env.py to the starting revision, cloned from a real database, filled."""

from __future__ import annotations

from contextlib import closing

import pytest

from runner.database import connections as db
from runner.drift.compare import compare
from runner.drift.snapshot import read
from runner.errors import ConfigError, EnvPyError
from runner.planning.project import AlembicProject
from runner.rehearsal.clone import client_for, clone_schema
from runner.rehearsal.starting import StartingStateError, fill, migrate_to
from runner.target import DatabaseTarget
from runner.throwaway.cluster import installed_majors
from runner.throwaway.markers import DIRECTORY_ENV
from runner.throwaway.targets import throwaway_target
from tests import pg
from tests.conftest import EXAMPLE_INI, PRODUCTION_REVISION, PROJECTS
from tests.drift.schemas import build


@pytest.fixture(autouse=True)
def own_markers(tmp_path, monkeypatch):
    monkeypatch.setenv(DIRECTORY_ENV, str(tmp_path / "markers"))


@pytest.fixture
def fresh():
    """A fresh, empty database made by a server throwaway target (dropped afterwards)."""
    with throwaway_target("server", server_url=pg.ADMIN_URL) as target:
        yield target.new_database("starting")


def target_of(database: str) -> DatabaseTarget:
    return DatabaseTarget.parse(pg.url_for(database))


def test_migrate_to_builds_the_same_schema_as_plain_alembic(fresh, template_at):
    """base -> 20260115_0200 through the example's env.py: that revision, and plain Alembic's schema exactly."""
    applied = migrate_to(AlembicProject.load(EXAMPLE_INI), fresh, PRODUCTION_REVISION)

    assert applied == ("20260101_0100", "20260108_0100", PRODUCTION_REVISION)
    with closing(db.connect(fresh)) as conn:
        assert db.read_heads(conn, db.VersionTable()) == (PRODUCTION_REVISION,)
    assert compare(read(fresh), read(target_of(template_at(PRODUCTION_REVISION)))).same


def test_migrate_to_refuses_an_env_py_that_connects_elsewhere(fresh, new_db, monkeypatch):
    """env.py reading its own URL would migrate another database: refused, and that database stays empty."""
    elsewhere = new_db()
    monkeypatch.setenv("APP_DATABASE_URL", pg.sa_url_for(elsewhere))
    with pytest.raises(EnvPyError) as refused:
        migrate_to(AlembicProject.load(PROJECTS / "own_env_var" / "alembic.ini"), fresh, "heads")
    assert refused.value.message.startswith(
        f"env.py connected to database {elsewhere!r} instead of the throwaway database {fresh.database!r} it was "
        "given, so the rehearsal's starting state can't be built; nothing was migrated."
    )
    assert pg.heads(elsewhere) == []


def test_clone_schema_copies_a_real_schema_and_its_revision(new_db):
    """Expression and partial indexes, an enum, a domain, extensions...: the clone compares equal, revision too."""
    source_db = build(new_db)
    pg_source = target_of(source_db)
    with closing(db.connect(pg_source)) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('20260115_0200')")

    with throwaway_target("local") as target:
        clone = target.new_database("clone")
        cloned = clone_schema(pg_source, clone)

        assert cloned.heads == ("20260115_0200",)
        assert cloned.source_major == cloned.client.major and cloned.client.note is None
        comparison = compare(read(clone), read(pg_source))
        assert comparison.same, [d.describe() for d in comparison.differences]
        snapshot = read(clone)
        assert (
            "CREATE UNIQUE INDEX accounts_email_lower ON public.accounts USING btree (lower((email)::text))"
            in [i.definition for i in snapshot.indexes]
        )
        assert [e.values for e in snapshot.enums] == [("draft", "active", "closed")]
        with closing(db.connect(clone)) as conn:
            assert db.read_heads(conn, db.VersionTable()) == ("20260115_0200",)


def test_a_source_newer_than_every_pg_dump_is_refused():
    """pg_dump can't read a newer server: the operator is told which client to install."""
    have = ", ".join(str(m) for m in installed_majors())
    with pytest.raises(StartingStateError) as refused:
        client_for(99)
    assert refused.value.message == (
        f"No pg_dump for PostgreSQL 99 or newer is installed (installed: {have}), so the schema can't be cloned: "
        "pg_dump can't read a server newer than itself. Install the PostgreSQL 99 client (postgresql-client-99)."
    )
    oldest = client_for(1)
    assert oldest.major == min(installed_majors()) and oldest.note == (
        f"pg_dump {oldest.major} is used for the PostgreSQL 1 source (no pg_dump 1)."
    )


def test_fill_calls_the_filler_with_conninfo_and_scale(fresh):
    """--fill module:function at --scale N: the rows are there and the counts reported."""
    filled = fill("tests.rehearsal.fillers:widgets", fresh, 250)

    assert filled.counts == (("widgets", 250),)
    assert filled.describe().startswith("tests.rehearsal.fillers:widgets at scale 250: 250 widgets in ")
    with closing(db.connect(fresh)) as conn:
        assert conn.execute("SELECT count(*) FROM widgets").fetchone() == (250,)


def test_the_example_filler_fills_the_production_state(fresh):
    """The example's own fill.py, on a database migrated to production's revision."""
    migrate_to(AlembicProject.load(EXAMPLE_INI), fresh, PRODUCTION_REVISION)
    filled = fill("examples.credentialmate.fill:fill", fresh, 100)
    assert dict(filled.counts)["providers"] == 100
    with closing(db.connect(fresh)) as conn:
        assert conn.execute("SELECT count(*) FROM licenses").fetchone() == (200,)


def test_fill_errors_name_the_filler(fresh):
    """A bad spec, a bad scale, a filler that raises or answers wrongly: one sentence each, exit 3."""
    cases = [
        ("nope", 1, ConfigError, "--fill 'nope' is not MODULE:FUNCTION."),
        ("tests.rehearsal.fillers:widgets", 0, ConfigError, "--scale 0 is not a whole number of at least 1."),
        (
            "tests.rehearsal.fillers:broken",
            5,
            StartingStateError,
            f"--fill tests.rehearsal.fillers:broken failed on {fresh.display} at scale 5: KeyError: 'FILL_SETTING'. "
            "The rehearsal did not start.",
        ),
        (
            "tests.rehearsal.fillers:list_answer",
            5,
            StartingStateError,
            "--fill tests.rehearsal.fillers:list_answer returned a list; a filler returns None or a mapping of "
            "table names to the rows it made.",
        ),
    ]
    for spec, scale, error, message in cases:
        with pytest.raises(error) as raised:
            fill(spec, fresh, scale)
        assert raised.value.message == message
        assert int(raised.value.exit_code) == 3
