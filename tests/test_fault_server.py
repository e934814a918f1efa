"""The server restarting or vanishing under a step: the run ends naming the last committed revision."""

from __future__ import annotations

import pytest

from tests.cli import run_cli
from tests.faults import (
    Cluster,
    assert_recovers,
    connect,
    events,
    heads,
    history_rows,
    spawn,
    wait_for,
    waiting_on,
)


@pytest.fixture
def cluster():
    server = Cluster()
    yield server
    server.close()


def _apply_waiting_on_providers(cluster: Cluster, tmp_path, env: dict[str, str] | None = None):
    url = cluster.create_database("app", at="20260115_0200")
    reader = connect(url)  # a report job inside a transaction: the BlueShift step waits for it
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM providers")
    audit = tmp_path / "audit.jsonl"
    proc = spawn(
        "apply",
        "-c",
        "examples/credentialmate/alembic.ini",
        "--yes",
        "--lock-timeout",
        "30s",
        "--audit-log",
        str(audit),
        env={"DATABASE_URL": url, **(env or {})},
    )
    wait_for(lambda: waiting_on(url, "providers"), what="the BlueShift step to wait for its lock")
    return url, audit, proc, reader


def test_a_server_restart_mid_step_halts_and_reads_the_revision_back(cluster, tmp_path):
    """pg_ctl restart kills every session: exit 1, the revision read back on a new session, history finished."""
    url, audit, proc, reader = _apply_waiting_on_providers(cluster, tmp_path)
    cluster.restart()
    out, err = proc.communicate(timeout=60)
    reader.close()

    assert proc.returncode == 1, out + err
    assert "Traceback" not in out + err
    assert "Step 20260131_0000 failed: " in err
    assert "terminating connection due to administrator command." in err  # psycopg and psycopg2 word it apart
    assert "The database is at 7702d353e5b8, the last completed step." in err
    assert heads(url) == ["7702d353e5b8"]
    log = events(audit)
    assert [e["kind"] for e in log if e["event"] == "step_failed"] == ["connection_lost"]
    assert log[-1]["event"] == "run_halted" and log[-1]["final_heads"] == ["7702d353e5b8"]
    rows = history_rows(url)
    assert [r["outcome"] for r in rows if r["kind"] == "run"] == ["halted"]
    assert [r["outcome"] for r in rows if r["kind"] == "step" and r["revision"] == "20260131_0000"] == [
        "connection_lost"
    ]
    assert_recovers(url, audit)


def test_a_server_that_stays_down_is_reported_unreachable_with_the_last_known_revision(cluster, tmp_path):
    """The server stops and does not come back: exit 6, the last committed step named, then status explains."""
    url, audit, proc, reader = _apply_waiting_on_providers(cluster, tmp_path, {"RUNNER_RECONNECT_S": "1"})
    cluster.stop_server()
    out, err = proc.communicate(timeout=60)
    reader.close()

    assert proc.returncode == 6, out + err
    assert "Traceback" not in out + err
    assert (
        "The database stopped answering, so the revision could not be read back; the last step known to have "
        "committed left it at 7702d353e5b8." in err
    )
    assert "Next: runner status once the database answers again" in err
    assert events(audit)[-1]["event"] == "run_halted"

    cluster.server.pg_ctl("start")
    status = run_cli("status", "-c", "examples/credentialmate/alembic.ini", env={"DATABASE_URL": url})
    assert status.returncode == 0, status.stderr
    assert "did not finish: it stopped during 20260131_0000 (upgrade)" in status.stdout
    assert_recovers(url, audit)
    assert [r["outcome"] for r in history_rows(url) if r["kind"] == "run"] == ["abandoned", "done"]
