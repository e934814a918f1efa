"""Shared fixtures: real PostgreSQL, one database per test, example project templates."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from examples.credentialmate.fill import fill
from runner.target import DatabaseTarget
from tests import pg

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_INI = ROOT / "examples" / "credentialmate" / "alembic.ini"
PRODUCTION_REVISION = "20260115_0200"
EXAMPLE_HEAD = "20260131_0000"
EXAMPLE_PENDING = ["20260115_0300", "20260127_0100", "7702d353e5b8", "20260131_0000"]


@pytest.fixture(scope="session")
def example_ini() -> Path:
    return EXAMPLE_INI


@pytest.fixture(scope="session")
def template_at(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """Template databases of the example project migrated (by plain Alembic) to a revision."""
    made: dict[str, str] = {}

    def template(revision: str) -> str:
        if revision not in made:
            name = pg.create_database(name=f"{pg.PREFIX}tmpl_{secrets.token_hex(4)}")
            if revision != "base":
                pg.alembic_upgrade(str(EXAMPLE_INI), name, revision)
            made[revision] = name
        return made[revision]

    yield template
    for name in made.values():
        pg.drop_database(name)


@pytest.fixture
def new_db() -> Iterator[Callable[..., str]]:
    """Create databases for this test (empty, or cloned from a template); dropped afterwards."""
    made: list[str] = []

    def create(template: str | None = None) -> str:
        name = pg.create_database(template)
        made.append(name)
        return name

    yield create
    for name in made:
        pg.drop_database(name)


@pytest.fixture
def production_db(new_db: Callable[..., str], template_at: Callable[[str], str]) -> str:
    """A database in production's state from the seed incident: at 20260115_0200."""
    return new_db(template_at(PRODUCTION_REVISION))


PROJECTS = ROOT / "tests" / "projects"


@pytest.fixture
def run_apply():
    """Run the executor in-process against a test database; returns (result, audit events).

    Refusals are written to the log as the command layer writes them (``refusals_audited``).
    """
    from runner.audit import AuditLog
    from runner.commands import refusals_audited
    from runner.guards import GuardPolicy, Guards, LockRetryPolicy
    from runner.planning.project import AlembicProject
    from runner.request import RunRequest
    from runner.run.executor import Executor
    from runner.run.result import new_run_id
    from runner.target import DatabaseTarget

    def run(
        ini,
        database,
        to="heads",
        *,
        guards=None,
        retry=None,
        hooks=None,
        sleep=None,
        wrapper=None,
        audit_path=None,
    ):
        target = DatabaseTarget.parse(pg.url_for(database))
        project = AlembicProject.load(ini, database_url=target.for_alembic(), env_py_wrapper=wrapper)
        request = RunRequest(
            config=Path(ini),
            target=target,
            to=to,
            env_py_wrapper=wrapper,
            guards=GuardPolicy.of(guards or Guards(), retry or LockRetryPolicy(attempts=1)),
            operator="test-operator",
        )
        audit = AuditLog(audit_path, new_run_id())
        try:
            with refusals_audited(audit):
                executor = Executor(
                    project, request.run_settings(), audit, hooks=hooks, sleep=sleep or (lambda s: None)
                )
                result = executor.apply()
        finally:
            audit.close()
        return result, [e.fields for e in audit.events]

    return run


def events_named(events, name):
    return [e for e in events if e["event"] == name]


@pytest.fixture
def filled_production_db(production_db: str) -> str:
    fill(DatabaseTarget.parse(pg.url_for(production_db)).connect_kwargs(), 500)
    return production_db


@pytest.fixture
def reader_holding_providers(filled_production_db: str):
    """A second session inside a transaction that has read providers: it holds ACCESS SHARE."""
    conn = psycopg.connect(
        **DatabaseTarget.parse(pg.url_for(filled_production_db)).connect_kwargs(),
        application_name="report-job",
    )
    conn.execute("SELECT count(*) FROM providers").fetchone()
    yield conn
    conn.close()
