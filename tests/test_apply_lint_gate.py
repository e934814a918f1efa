"""apply acts on lint: a blocking finding on this database refuses the run until it is acknowledged."""

from __future__ import annotations

import json

from tests import pg
from tests.cli import run_cli
from tests.conftest import PROJECTS

INI = str(PROJECTS / "destructive" / "alembic.ini")


def at_d1(new_db) -> str:
    database = new_db()
    pg.alembic_upgrade(INI, database, "d1")
    return database


def test_dropping_a_table_that_holds_rows_is_refused_before_anything_runs(new_db, tmp_path):
    database = at_d1(new_db)
    log = tmp_path / "audit.jsonl"

    proc = run_cli(
        "apply", "-c", INI, "--yes", "--audit-log", str(log), env={"DATABASE_URL": pg.url_for(database)}
    )

    assert proc.returncode == 4, proc.stderr
    assert "1 unacknowledged blocking finding(s) on this database. DS101 on d2:" in proc.stderr
    assert "--acknowledge DS101:d2" in proc.stderr
    assert pg.heads(database) == ["d1"]
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["event"] for e in events][-1] == "run_refused"
    assessed = next(e for e in events if e["event"] == "risk_assessed")
    assert assessed["counts"]["block"] == 1


def test_an_acknowledged_finding_runs_and_the_reason_is_audited(new_db, tmp_path):
    database = at_d1(new_db)
    log = tmp_path / "audit.jsonl"

    proc = run_cli(
        "apply",
        "-c",
        INI,
        "--yes",
        "--audit-log",
        str(log),
        "--acknowledge",
        "DS101:d2",
        "--reason",
        "archived to S3 in OPS-1234",
        env={"DATABASE_URL": pg.url_for(database)},
    )

    assert proc.returncode == 0, proc.stderr
    assert pg.heads(database) == ["d2"]
    events = [json.loads(line) for line in log.read_text().splitlines()]
    acknowledged = [e for e in events if e["event"] == "finding_acknowledged"]
    assert [(e["code"], e["revision"], e["reason"]) for e in acknowledged] == [
        ("DS101", "d2", "archived to S3 in OPS-1234")
    ]


def test_the_same_drop_on_an_empty_table_is_not_refused(new_db, tmp_path):
    """Severity means harm here: no rows, nothing lost."""
    database = at_d1(new_db)
    with pg.connect(database) as conn:
        conn.execute("DELETE FROM legacy_accounts")
        conn.execute("ANALYZE legacy_accounts")

    proc = run_cli(
        "apply",
        "-c",
        INI,
        "--yes",
        "--audit-log",
        str(tmp_path / "a.jsonl"),
        env={"DATABASE_URL": pg.url_for(database)},
    )

    assert proc.returncode == 0, proc.stderr
    assert pg.heads(database) == ["d2"]


def test_an_acknowledgement_needs_a_reason(new_db):
    database = at_d1(new_db)
    proc = run_cli(
        "apply", "-c", INI, "--yes", "--acknowledge", "DS101:d2", env={"DATABASE_URL": pg.url_for(database)}
    )
    assert proc.returncode == 3
    assert "--reason" in proc.stderr
