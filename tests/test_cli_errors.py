"""Bad input gets one paragraph, the documented exit code, no traceback and no password."""

from __future__ import annotations

from contextlib import closing

import psycopg
import pytest

from runner.database import runlock
from runner.target import DatabaseTarget
from tests import pg
from tests.cli import run_cli
from tests.conftest import EXAMPLE_INI

INI = str(EXAMPLE_INI)
SECRET = "s3cr3t-Pa55word"


def assert_clean_error(proc, code: int, *needles: str) -> str:
    output = proc.stdout + proc.stderr
    assert proc.returncode == code, output
    assert "Traceback" not in output
    assert SECRET not in output
    error_lines = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(error_lines) == 1, proc.stderr
    for needle in needles:
        assert needle in error_lines[0]
    return error_lines[0]


def test_unknown_target_revision_is_invalid_input(production_db):
    proc = run_cli(
        "apply", "-c", INI, "--to", "nope123", "--yes", env={"DATABASE_URL": pg.url_for(production_db)}
    )
    assert_clean_error(proc, 3, "Revision 'nope123' is not in the Alembic project")


def test_missing_alembic_ini_is_invalid_input(production_db):
    proc = run_cli("status", "-c", "no/such/alembic.ini", env={"DATABASE_URL": pg.url_for(production_db)})
    assert_clean_error(proc, 3, "Alembic config no/such/alembic.ini does not exist")


def test_unreachable_database_exits_6_without_the_password():
    url = f"postgresql://app:{SECRET}@127.0.0.1:1/appdb"
    proc = run_cli("apply", "-c", INI, "--yes", env={"DATABASE_URL": url})
    line = assert_clean_error(proc, 6, "Can't connect to postgresql://app:***@127.0.0.1:1/appdb")
    assert "Nothing was changed." in line


def test_wrong_password_is_reported_without_it(production_db):
    """A password in DATABASE_URL that the server checks and rejects never shows up in the output."""
    with closing(pg.admin()) as conn:
        conn.execute("DROP ROLE IF EXISTS rt_pw_user")
        conn.execute(f"CREATE ROLE rt_pw_user LOGIN PASSWORD 'other-{SECRET}'")
    try:
        url = f"postgresql://rt_pw_user:{SECRET}@localhost:5432/{production_db}?sslmode=disable"
        proc = run_cli("status", "-c", INI, env={"DATABASE_URL": url})
        # trust auth on this machine lets the role in; either way the secret must not appear
        assert SECRET not in proc.stdout + proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr
    finally:
        with closing(pg.admin()) as conn:
            conn.execute("DROP ROLE IF EXISTS rt_pw_user")


def test_a_password_on_the_command_line_is_refused():
    """The process list and shell history would keep it: use DATABASE_URL / PGPASSWORD instead."""
    url = f"postgresql://app:{SECRET}@127.0.0.1:5432/appdb"
    proc = run_cli("status", "-c", INI, "--database-url", url)
    assert_clean_error(
        proc, 3, "carries a password on the command line", "postgresql://app:***@127.0.0.1:5432/appdb"
    )


def test_a_postgres_scheme_says_to_write_postgresql():
    """Heroku-style postgres:// URLs: exit 3, naming DATABASE_URL and the scheme to write instead."""
    proc = run_cli("status", "-c", INI, env={"DATABASE_URL": "postgres://app@127.0.0.1:5432/appdb"})
    line = assert_clean_error(proc, 3)
    assert line == (
        "error: DATABASE_URL starts with postgres://, a scheme SQLAlchemy no longer reads; write postgresql:// "
        "instead (the rest of the URL stays the same)."
    )


def test_no_target_at_all_is_invalid_input():
    proc = run_cli("status", "-c", INI)
    assert_clean_error(proc, 3, "No target database")


def test_bad_duration_is_invalid_input(production_db):
    proc = run_cli(
        "apply", "-c", INI, "--lock-timeout", "soon", "--yes", env={"DATABASE_URL": pg.url_for(production_db)}
    )
    assert_clean_error(proc, 3, "--lock-timeout: 'soon' is not a duration")


def test_zero_timeout_is_refused_as_invalid(production_db):
    proc = run_cli(
        "apply", "-c", INI, "--lock-timeout", "0", "--yes", env={"DATABASE_URL": pg.url_for(production_db)}
    )
    assert_clean_error(proc, 3, "--lock-timeout 0 is outside the accepted range, 1ms to 1h (0 means no limit")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        (
            "--lock-timeout",
            "99999999999h",
            "--lock-timeout 99999999999h is outside the accepted range, 1ms to 1h.",
        ),
        (
            "--statement-timeout",
            "25000h",
            "--statement-timeout 25000h is outside the accepted range, 1ms to 576h (24 days).",
        ),
        (
            "--idle-in-transaction-timeout",
            "2147483648ms",
            "--idle-in-transaction-timeout 2147483648ms is outside the accepted range, 1ms to 576h (24 days).",
        ),
        ("--lock-attempts", "0", "--lock-attempts 0 is outside the accepted range, 1 to 100."),
        ("--lock-attempts", "101", "--lock-attempts 101 is outside the accepted range, 1 to 100."),
        ("--lock-attempts", "many", "--lock-attempts: 'many' is not a whole number."),
        (
            "--lock-retries",
            "5",
            "--lock-retries is replaced by --lock-attempts, which counts every try of a step including the first, "
            "as a playbook's retry.attempts does: --lock-retries 5 is --lock-attempts 6.",
        ),
        ("--retry-wait", "1h", "--retry-wait 1h is outside the accepted range, 1ms to 10min."),
        ("--retry-max-wait", "0", "--retry-max-wait 0 is outside the accepted range, 1ms to 1h."),
        ("--retry-budget", "48h", "--retry-budget 48h is outside the accepted range, 1ms to 24h."),
    ],
)
def test_absurd_guard_values_are_refused_before_connecting(tmp_path, option, value, message):
    """Exit 3 with the accepted range, every bad value alike; the unreachable target is never tried (6)."""
    log = tmp_path / "audit.jsonl"
    proc = run_cli(
        "apply",
        "-c",
        INI,
        "--yes",
        option,
        value,
        "--audit-log",
        str(log),
        env={"DATABASE_URL": "postgresql://app@127.0.0.1:1/appdb"},
    )
    line = assert_clean_error(proc, 3)
    assert line == f"error: {message}"
    assert not log.exists()


def test_unknown_option_is_a_usage_error():
    proc = run_cli("apply", "--frobnicate")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_a_second_concurrent_apply_is_refused_naming_the_holder(production_db):
    """Another run holds the advisory lock: refused at once (exit 4), its pid and name in the message."""
    holder = psycopg.connect(
        **DatabaseTarget.parse(pg.url_for(production_db)).connect_kwargs(),
        autocommit=True,
        application_name="migration-runner other-run",
    )
    try:
        holder.execute("SELECT pg_advisory_lock(%s, %s)", [runlock.LOCK_CLASS, runlock.LOCK_OBJECT])
        proc = run_cli("apply", "-c", INI, "--yes", env={"DATABASE_URL": pg.url_for(production_db)})
        line = assert_clean_error(proc, 4, "Another migration run holds the run lock")
        assert f"pid {holder.info.backend_pid} (migration-runner other-run" in line
    finally:
        holder.close()
    assert pg.heads(production_db) == ["20260115_0200"]


def test_apply_without_yes_and_without_a_terminal_refuses(production_db):
    proc = run_cli("apply", "-c", INI, env={"DATABASE_URL": pg.url_for(production_db)})
    assert_clean_error(proc, 4, "apply needs confirmation and stdin is not a terminal")
    assert pg.heads(production_db) == ["20260115_0200"]


@pytest.mark.parametrize("command", [["status"], ["plan"], ["plan", "--sql"]])
def test_reading_commands_give_json(production_db, command):
    import json

    proc = run_cli(*command, "-c", INI, "--json", env={"DATABASE_URL": pg.url_for(production_db)})
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["current"] == ["20260115_0200"]
    assert payload["heads"] == ["20260131_0000"]
    assert [p["revision"] for p in payload["pending"]] == [
        "20260115_0300",
        "20260127_0100",
        "7702d353e5b8",
        "20260131_0000",
    ]
    assert {"current", "heads", "pending"} <= set(payload)  # the keys the README documents
    assert {"revision", "down_revision", "message", "downgrade", "reversible"} <= set(payload["pending"][0])


def test_a_refused_apply_is_in_the_audit_log_without_the_password(tmp_path):
    import json

    log = tmp_path / "audit.jsonl"
    url = f"postgresql://app:{SECRET}@127.0.0.1:1/appdb"
    proc = run_cli("apply", "-c", INI, "--yes", "--audit-log", str(log), env={"DATABASE_URL": url})
    assert proc.returncode == 6
    text = log.read_text()
    assert SECRET not in text
    events = [json.loads(line) for line in text.splitlines()]
    assert events[-1]["event"] == "run_refused"
    assert events[-1]["exit_code"] == 6
    assert "postgresql://app:***@127.0.0.1:1/appdb" in events[-1]["reason"]
