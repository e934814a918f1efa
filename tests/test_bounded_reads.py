"""A table already locked when a command starts: every read is bounded, and a blocked one is a refusal.

Sizing a plan reads catalog columns only, so a session holding ACCESS EXCLUSIVE on a
table the plan touches can't stall plan, lint or apply's risk assessment. A read that
does need the table (the version table, runner_history) waits at most the runner's read
lock_timeout, then refuses (exit 4) naming the session that holds the lock, audited when
apply is running. The runner runs as a subprocess, as an operator would run it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress

import psycopg
import pytest

from runner.database import connections, reads
from runner.target import DatabaseTarget
from tests import pg
from tests.cli import run_cli
from tests.conftest import EXAMPLE_INI, PRODUCTION_REVISION

INI = str(EXAMPLE_INI)
QUICKLY_S = 15  # the read lock_timeout is 2s; anything near the old 30s statement_timeout is a stall


@contextmanager
def holding(
    database: str, statement: str, *, application_name: str = "deploy-job"
) -> Iterator[psycopg.Connection]:
    """A second session that ran ``statement`` in a transaction it keeps open."""
    conn = psycopg.connect(
        **DatabaseTarget.parse(pg.url_for(database)).connect_kwargs(), application_name=application_name
    )
    try:
        conn.execute(statement)
        yield conn
    finally:
        conn.close()


def error_line(proc) -> str:
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, output
    return lines[0]


def test_apply_sizes_a_locked_table_without_waiting_and_the_step_names_the_blocker(production_db, tmp_path):
    """ACCESS EXCLUSIVE on providers: the assessment goes through; the step's lock wait halts (exit 1), not 70."""
    log = tmp_path / "audit.jsonl"
    with holding(production_db, "LOCK TABLE providers IN ACCESS EXCLUSIVE MODE") as blocker:
        pid = blocker.info.backend_pid
        started = time.monotonic()
        proc = run_cli(
            "apply",
            "-c",
            INI,
            "--yes",
            "--lock-timeout",
            "300ms",
            "--lock-attempts",
            "1",
            "--audit-log",
            str(log),
            env={"DATABASE_URL": pg.url_for(production_db)},
            timeout=60,
        )
        elapsed = time.monotonic() - started
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Internal error" not in proc.stderr and "Traceback" not in proc.stderr
    assert elapsed < QUICKLY_S
    events = [json.loads(line) for line in log.read_text().splitlines()]
    names = [e["event"] for e in events]
    assert "risk_assessed" in names
    [hit] = [e for e in events if e["event"] == "lock_timeout_hit"]
    assert hit["revision"] == "20260115_0300"
    assert pid in [b["pid"] for b in hit["blockers"]]
    assert names[-1] == "run_halted"
    assert pg.heads(production_db) == [PRODUCTION_REVISION]


@pytest.mark.parametrize("command", ["plan", "lint"])
def test_plan_and_lint_size_a_locked_table_without_waiting(production_db, command):
    """The sizes come from catalog columns: a table held ACCESS EXCLUSIVE does not stall them (30s, then 70)."""
    with holding(production_db, "LOCK TABLE providers IN ACCESS EXCLUSIVE MODE"):
        started = time.monotonic()
        proc = run_cli(command, "-c", INI, env={"DATABASE_URL": pg.url_for(production_db)}, timeout=60)
        elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert elapsed < QUICKLY_S
    assert "20260115_0300" in proc.stdout
    if command == "lint":
        assert f"Sizes    sized from {production_db}" in proc.stdout


@pytest.mark.parametrize("command", ["status", "plan", "lint"])
def test_a_blocked_read_of_the_version_table_is_refused_naming_the_blocker(production_db, command):
    """LOCK TABLE alembic_version (how some deploy scripts serialise migrations): exit 4 in seconds, not a hang."""
    with holding(production_db, "LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE") as blocker:
        proc = run_cli(command, "-c", INI, env={"DATABASE_URL": pg.url_for(production_db)}, timeout=30)
        pid = blocker.info.backend_pid
    assert proc.returncode == 4, proc.stdout + proc.stderr
    line = error_line(proc)
    assert line.startswith(
        "error: Reading the current revision from alembic_version waited longer than the runner's "
        f"lock_timeout (2s): held up by pid {pid} (idle in transaction, "
    )
    assert line.endswith(
        "holds AccessExclusiveLock on alembic_version): LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE. "
        "Nothing was changed. Next: wait for (or end) the session named, then run the same command again."
    )


def test_apply_refuses_and_audits_a_blocked_read_naming_the_blocker(production_db, tmp_path):
    """The run's first read waits out its lock_timeout, then run_refused (exit 4) names the blocking pid."""
    log = tmp_path / "audit.jsonl"
    with holding(production_db, "LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE") as blocker:
        proc = run_cli(
            "apply",
            "-c",
            INI,
            "--yes",
            "--audit-log",
            str(log),
            env={"DATABASE_URL": pg.url_for(production_db)},
            timeout=30,
        )
        pid = blocker.info.backend_pid
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert f"held up by pid {pid} " in error_line(proc)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    refused = events[-1]
    assert refused["event"] == "run_refused" and refused["exit_code"] == 4
    assert [b["pid"] for b in refused["blockers"]] == [pid]
    assert refused["blockers"][0]["relation"] == "alembic_version"
    assert f"held up by pid {pid} " in refused["reason"]
    assert pg.heads(production_db) == [PRODUCTION_REVISION]
    with closing(pg.connect(production_db)) as conn:
        assert conn.execute("SELECT to_regclass('runner_history')").fetchone() == (None,)


def test_audit_verify_against_a_locked_history_table_is_refused(production_db, run_apply, tmp_path):
    """audit verify --database-url reads runner_history under the same bound: exit 4 naming the blocker."""
    log = tmp_path / "audit.jsonl"
    run_apply(INI, production_db, audit_path=log)
    with holding(production_db, "LOCK TABLE runner_history IN ACCESS EXCLUSIVE MODE") as blocker:
        proc = run_cli("audit", "verify", str(log), "--database-url", pg.url_for(production_db), timeout=30)
        pid = blocker.info.backend_pid
    assert proc.returncode == 4, proc.stdout + proc.stderr
    line = error_line(proc)
    assert line.startswith("error: Reading the recorded run hashes from runner_history waited longer than")
    assert f"held up by pid {pid} " in line


def test_a_read_queued_behind_a_waiting_alter_names_the_queue(production_db):
    """A reader holds ACCESS SHARE, an ALTER queues for ACCESS EXCLUSIVE, our read queues behind the ALTER."""
    target = DatabaseTarget.parse(pg.url_for(production_db))
    with (
        holding(production_db, "SELECT count(*) FROM alembic_version", application_name="report-job"),
        closing(connections.connect(target)) as ours,
        closing(psycopg.connect(**target.connect_kwargs(), autocommit=True)) as alter,
    ):
        waiting = alter.cursor()
        alter_pid = alter.info.backend_pid
        thread = threading.Thread(
            target=lambda: _ignore(
                lambda: waiting.execute("ALTER TABLE alembic_version ADD COLUMN note text")
            )
        )
        thread.start()
        _wait_until_waiting(ours, alter_pid)
        reads.bound(ours, lock_timeout_ms=100)
        with pytest.raises(reads.ReadBlocked) as refused:
            connections.read_heads(ours, connections.VersionTable())
        ours.execute("SELECT pg_cancel_backend(%s)", [alter_pid])
        thread.join(10)
    message = refused.value.message
    assert message.startswith(
        "Reading the current revision from alembic_version waited longer than the runner's lock_timeout "
        f"(100ms): held up by pid {alter_pid} (active, queued for AccessExclusiveLock on alembic_version): "
        "ALTER TABLE alembic_version ADD COLUMN note text."
    )
    assert [b.pid for b in refused.value.blockers] == [alter_pid]


def test_every_runner_connection_starts_bounded(production_db):
    """A fresh runner connection has the read lock_timeout and statement_timeout before its first query."""
    with closing(connections.connect(DatabaseTarget.parse(pg.url_for(production_db)))) as conn:
        assert conn.execute("SHOW lock_timeout").fetchone() == ("2s",)
        assert conn.execute("SHOW statement_timeout").fetchone() == ("30s",)


def _ignore(action) -> None:
    with suppress(psycopg.Error):
        action()


def _wait_until_waiting(conn: psycopg.Connection, pid: int) -> None:
    for _ in range(200):
        row = conn.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
        if row and row[0] == "Lock":
            return
        time.sleep(0.01)
    raise AssertionError(f"pid {pid} never waited for its lock")
