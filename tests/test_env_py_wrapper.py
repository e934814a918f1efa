"""--env-py-wrapper is entered once per command, and a server out of connections is reported as such.

The wrapper under test behaves like a Flask app factory: each entry opens a database
connection and keeps it. Entered once per revision that can't be rendered offline (as
before), 344 Superset revisions exhausted max_connections; entered once per command,
the count of connections does not grow with the number of revisions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, closing

import psycopg
import pytest

from runner.target import DatabaseTarget
from runner.throwaway.cluster import LocalCluster
from tests import pg
from tests.cli import run_cli
from tests.projects.generate import write_project

WRAPPER = "tests.projects.connecting_wrapper:open_app"
# Reads data: can't be rendered offline (AN101), runs fine online.
READS_DATA = """
tables = op.get_bind().execute(sa.text("SELECT count(*) FROM pg_class")).scalar()
op.execute("CREATE TABLE t_{n} (id int)")
"""


def reading_project(tmp_path, count: int):
    revisions = [(f"w{n}", READS_DATA.format(n=n), f'op.execute("DROP TABLE t_{n}")') for n in range(count)]
    return write_project(tmp_path / f"app{count}", revisions)


@pytest.mark.parametrize("count", [2, 9])
@pytest.mark.parametrize("command", [("plan",), ("lint",), ("apply", "--yes"), ("status",)])
def test_the_wrapper_is_entered_once_whatever_the_number_of_revisions(tmp_path, new_db, command, count):
    """plan, lint, apply and status enter the wrapper once: one application, one of its connections."""
    ini = reading_project(tmp_path, count)
    database = new_db()
    entries = tmp_path / "entries.txt"
    url = pg.url_for(database)
    extra = ("--audit-log", str(tmp_path / "audit.jsonl")) if command[0] == "apply" else ()
    proc = run_cli(
        *command,
        "-c",
        str(ini),
        "--env-py-wrapper",
        WRAPPER,
        *extra,
        env={"DATABASE_URL": url, "APP_DATABASE_URL": url, "WRAPPER_ENTRIES": str(entries)},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert entries.read_text().splitlines() == ["entered with 1 connection(s) open"]
    if command[0] == "apply":
        assert pg.heads(database) == [f"w{count - 1}"]
    if command[0] == "lint":  # every revision was still rendered (and found unreadable) in that one entry
        assert proc.stdout.count("[warn] AN101 cannot-analyse") == count


@pytest.fixture(scope="module")
def crowded_server() -> Iterator[tuple[str, str]]:
    """A throwaway server with max_connections 3 (one kept for superusers): (superuser URL, app-role URL)."""
    cluster = LocalCluster(settings={"max_connections": "3", "superuser_reserved_connections": "1"})
    url = cluster.start()
    try:
        with closing(psycopg.connect(**DatabaseTarget.parse(url).connect_kwargs(), autocommit=True)) as conn:
            conn.execute("CREATE ROLE app LOGIN")
        yield url, url.replace("://runner@", "://app@")
    finally:
        cluster.stop()


def fill(url: str, count: int, stack: ExitStack) -> None:
    for _ in range(count):
        stack.enter_context(closing(psycopg.connect(**DatabaseTarget.parse(url).connect_kwargs())))


def test_a_server_without_free_connections_is_reported_as_such(crowded_server, tmp_path):
    """53300 is not bad credentials: the message says the server is out of connections (exit 6)."""
    superuser, app = crowded_server
    with ExitStack() as stack:
        fill(superuser, 2, stack)
        reserved = run_cli("status", "-c", "examples/credentialmate/alembic.ini", env={"DATABASE_URL": app})
        fill(superuser, 1, stack)
        log = tmp_path / "audit.jsonl"
        full = run_cli(
            "apply",
            "-c",
            "examples/credentialmate/alembic.ini",
            "--yes",
            "--audit-log",
            str(log),
            env={"DATABASE_URL": superuser},
        )
    for proc, reason in [
        (reserved, "remaining connection slots are reserved for non-replication superuser connections"),
        (full, "sorry, too many clients already"),
    ]:
        assert proc.returncode == 6, proc.stderr
        [line] = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
        assert "the server has no free connections (" in line and reason in line
        assert (
            "Every slot up to its max_connections (or the role's or database's connection limit) is taken."
            in line
        )
        assert "credentials" not in line
    refused = json.loads(log.read_text().splitlines()[-1])
    assert refused["event"] == "run_refused" and "the server has no free connections" in refused["reason"]


def test_a_wrapper_that_fails_before_calling_env_py_is_invalid_input(tmp_path):
    """The application can't start (a setting missing at create_app()): exit 3 naming the wrapper, once."""
    ini = reading_project(tmp_path, 3)
    proc = run_cli("lint", "-c", str(ini), "--from", "base", "--env-py-wrapper", WRAPPER)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr == (
        f"error: --env-py-wrapper {WRAPPER} failed before it called env.py: KeyError: 'APP_DATABASE_URL'.\n"
    )
    assert "AN101" not in proc.stdout


def test_within_wrapper_carries_the_body_out_of_the_wrappers_context():
    """The body's value or error comes out after the wrapper's context closed; env.py runs inside call straight through."""
    from runner.errors import ConfigError
    from runner.planning.project import AlembicProject
    from runner.planning.wrapper import EnvPyWrapper
    from tests.conftest import EXAMPLE_INI

    project = AlembicProject.load(EXAMPLE_INI)
    trail: list[str] = []

    def wrapper(run):
        trail.append("enter")
        try:
            run()
        finally:
            trail.append("exit")

    project.wrapper = EnvPyWrapper(wrapper, "test:wrapper")
    assert project.within_wrapper(lambda: project.within_wrapper(lambda: 42)) == 42
    assert trail == ["enter", "exit"]
    with pytest.raises(KeyError):
        project.within_wrapper(lambda: {}["missing"])
    assert trail == ["enter", "exit", "enter", "exit"]

    project.wrapper = EnvPyWrapper(lambda run: None, "test:wrapper")
    with pytest.raises(ConfigError, match="returned without calling the function it was given"):
        project.within_wrapper(lambda: 1)
