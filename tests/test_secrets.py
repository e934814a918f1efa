"""Passwords never reach output, --json, the audit log or a report, however they were written.

Each leak path is driven through the real command line: a password as a URL
query parameter, a password with an unescaped '@', a password on the command
line, and passwords in SQL (dollar-quoted, E'...', ENCRYPTED) run by a
migration or shown as a blocking session's query.
"""

from __future__ import annotations

import json
import secrets
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

from runner.target import DatabaseTarget
from tests import pg
from tests.cli import run_cli
from tests.conftest import EXAMPLE_INI
from tests.projects.generate import write_project

INI = str(EXAMPLE_INI)
MARK = "Zq7x"  # in every secret below, and in nothing the runner prints by itself


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert MARK not in text, text


def url_with_query_password(database: str) -> str:
    return f"{pg.url_for(database)}?password={MARK}-query&sslpassword={MARK}-keyphrase"


@pytest.mark.parametrize("command", ["status", "plan", "lint"])
def test_a_password_in_the_query_is_masked_on_the_target_line(production_db, command):
    """?password= and ?sslpassword= in DATABASE_URL: the Target line and --json show *** instead."""
    env = {"DATABASE_URL": url_with_query_password(production_db)}
    shown = f"{pg.url_for(production_db)}?password=***&sslpassword=***"

    text = run_cli(command, "-c", INI, env=env)
    as_json = run_cli(command, "-c", INI, "--json", env=env)

    assert text.returncode == 0, text.stderr
    assert as_json.returncode == 0, as_json.stderr
    assert f"Target   {shown}" in text.stdout.splitlines()
    assert json.loads(as_json.stdout)["target"] == shown
    assert_no_secret(text.stdout, text.stderr, as_json.stdout, as_json.stderr)


@pytest.mark.parametrize("key", ["password", "sslpassword"])
def test_a_query_password_on_the_command_line_is_refused(production_db, key):
    """--database-url ...?password=... is a password on the command line too: exit 3, use the environment."""
    url = f"{pg.url_for(production_db)}?{key}={MARK}"

    proc = run_cli("status", "-c", INI, "--database-url", url)

    assert proc.returncode == 3, proc.stderr
    assert proc.stderr == (
        f"error: --database-url {pg.url_for(production_db)}?{key}=*** carries a password on the command "
        "line, where the process list and shell history keep it. Put the URL in DATABASE_URL, or the "
        "password in PGPASSWORD or ~/.pgpass.\n"
    )
    assert_no_secret(proc.stdout, proc.stderr)


AT_REFUSAL = (
    "error: DATABASE_URL has an '@' after the one that ends the user name and password. SQLAlchemy ends the "
    "password at its first '@', so a password with an '@' in it would be cut there and the rest read as the "
    "host name. Percent-encode every '@' in the password (and in the database name or the query) as %40: "
    "p@ss becomes p%40ss. The URL is not shown here, since part of it may be the password.\n"
)


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://app:pa@ss-{MARK}@127.0.0.1:1/appdb",  # the tail would be read as the host
        f"postgresql://app:pa@{MARK}:tail@127.0.0.1:1/appdb",  # ... or as the port
        f"postgresql://app:pa@{MARK}/x@127.0.0.1:1/appdb",  # ... or as the database
        f"postgresql://app:pa@{MARK}?x@127.0.0.1:1/appdb",  # ... or as the query
    ],
)
def test_a_password_with_an_unescaped_at_is_refused_without_showing_it(tmp_path, url):
    """No piece of a password SQLAlchemy would cut at its '@' reaches the output: exit 3, say %40."""
    log = tmp_path / "audit.jsonl"
    status = run_cli("status", "-c", INI, env={"DATABASE_URL": url})
    apply = run_cli("apply", "-c", INI, "--yes", "--json", "--audit-log", str(log), env={"DATABASE_URL": url})

    assert status.returncode == 3
    assert status.stderr == AT_REFUSAL
    assert apply.returncode == 3
    assert apply.stderr == AT_REFUSAL
    assert_no_secret(status.stdout, apply.stdout, log.read_text() if log.exists() else "")


def test_a_user_name_with_an_at_is_still_read_as_sqlalchemy_reads_it():
    """user@server:pw@host (Azure's style) is not refused: SQLAlchemy splits it where the operator meant."""
    target = DatabaseTarget.parse(f"postgresql://app@server:{MARK}@db.example.com/appdb")
    assert target.url.username == "app@server"
    assert target.url.host == "db.example.com"
    assert target.display == "postgresql://app%40server:***@db.example.com/appdb"


@pytest.fixture
def role():
    """A login role of the test's own: migrations and blockers set its password."""
    name = f"rt_pw_{secrets.token_hex(4)}"
    with closing(pg.admin()) as conn:
        conn.execute(f"CREATE ROLE {name} LOGIN")
    yield name
    with closing(pg.admin()) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {name}")


def password_project(root: Path, role: str) -> Path:
    """Three migrations that set a password in PostgreSQL's other string forms, then one that fails."""
    return write_project(
        root,
        [
            ("pw_dollar", f'op.execute("ALTER ROLE {role} WITH ENCRYPTED PASSWORD $${MARK} dollar$$")', ""),
            (
                "pw_tag",
                f"op.execute(\"ALTER ROLE {role} PASSWORD $pw${MARK}$$tag$pw$ VALID UNTIL 'infinity'\")",
                "",
            ),
            ("pw_escape", f"op.execute(r\"ALTER ROLE {role} PASSWORD E'{MARK}\\'s escape'\")", ""),
            ("pw_fails", f'op.execute("ALTER ROLE rt_no_such_role_x PASSWORD $${MARK} failed$$")', ""),
        ],
    )


def test_passwords_in_a_migrations_sql_stay_out_of_output_log_and_report(new_db, role, tmp_path):
    """ALTER ROLE ... PASSWORD with $$..$$, $tag$..$tag$, E'..' and a failing one: masked everywhere."""
    ini = password_project(tmp_path / "project", role)
    database = new_db()
    log = tmp_path / "audit.jsonl"
    report = tmp_path / "report.md"
    env = {"DATABASE_URL": pg.url_for(database)}

    applied = run_cli("apply", "-c", str(ini), "--yes", "--audit-log", str(log), env=env)
    as_json = run_cli("apply", "-c", str(ini), "--yes", "--json", "--audit-log", str(log), env=env)
    shown = run_cli("audit", "report", str(log))
    written = run_cli("audit", "report", str(log), "-o", str(report))

    assert applied.returncode == 1, applied.stdout + applied.stderr  # halted at pw_fails
    assert as_json.returncode == 1, as_json.stdout + as_json.stderr
    assert pg.heads(database) == ["pw_escape"]
    statements = [
        s["sql"]
        for line in log.read_text().splitlines()
        if (event := json.loads(line))["event"] == "step_applied"
        for s in event["statements"]
        if "ALTER ROLE" in s["sql"]
    ]
    assert statements == [
        f"ALTER ROLE {role} WITH ENCRYPTED PASSWORD '***'",
        f"ALTER ROLE {role} PASSWORD '***' VALID UNTIL 'infinity'",
        f"ALTER ROLE {role} PASSWORD '***'",
    ]
    assert "ALTER ROLE rt_no_such_role_x PASSWORD '***'" in log.read_text()
    assert_no_secret(
        applied.stdout,
        applied.stderr,
        as_json.stdout,
        as_json.stderr,
        log.read_text(),
        shown.stdout,
        shown.stderr,
        written.stdout,
        report.read_text(),
    )


def test_a_blockers_query_with_a_password_is_masked(filled_production_db, role, tmp_path):
    """The session blocking a step last ran ALTER ROLE ... PASSWORD E'..': its query is shown masked."""
    log = tmp_path / "audit.jsonl"
    blocker = psycopg.connect(**DatabaseTarget.parse(pg.url_for(filled_production_db)).connect_kwargs())
    try:
        blocker.execute("SELECT count(*) FROM providers").fetchone()
        blocker.execute(f"ALTER ROLE {role} PASSWORD E'{MARK}\\'s blocker'")
        proc = run_cli(
            "apply",
            "-c",
            INI,
            "--yes",
            "--json",
            "--lock-timeout",
            "50ms",
            "--lock-attempts",
            "1",
            "--audit-log",
            str(log),
            env={"DATABASE_URL": pg.url_for(filled_production_db)},
        )
    finally:
        blocker.close()
    report = run_cli("audit", "report", str(log))

    assert proc.returncode == 1, proc.stdout + proc.stderr
    events = [json.loads(line) for line in log.read_text().splitlines()]
    hit = next(e for e in events if e["event"] == "lock_timeout_hit")
    assert hit["blockers"][0]["query"] == f"ALTER ROLE {role} PASSWORD '***'"
    assert_no_secret(proc.stdout, proc.stderr, log.read_text(), report.stdout, report.stderr)
