"""A run that died is never invisible: status, the next apply and the report all name where it stopped."""

from __future__ import annotations

import json
import signal

from tests import pg
from tests.cli import run_cli
from tests.faults import assert_recovers, events, history_rows, run_lock_free, spawn, wait_for, waiting_on


def test_a_killed_run_is_shown_by_status_closed_by_the_next_apply_and_reported_incomplete(
    example_ini, filled_production_db, reader_holding_providers, tmp_path
):
    """SIGKILL mid-step (no handler can run): status names the run and its step; apply closes it and finishes."""
    url = pg.url_for(filled_production_db)
    env = {"DATABASE_URL": url}
    audit = tmp_path / "audit.jsonl"
    proc = spawn(
        "apply", "-c", str(example_ini), "--yes", "--lock-timeout", "30s", "--audit-log", str(audit), env=env
    )
    wait_for(lambda: waiting_on(url, "providers"), what="the BlueShift step to wait for its lock")
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    run_id = events(audit)[0]["run_id"]
    reader_holding_providers.close()
    wait_for(lambda: run_lock_free(url), what="the dead run's lock to be freed by the server")

    status = run_cli("status", "-c", str(example_ini), env=env)
    assert status.returncode == 0, status.stderr
    assert f"Unfinished  Run {run_id} by " in status.stdout
    assert "did not finish: it stopped during 20260131_0000 (upgrade) (started " in status.stdout
    assert (
        f"Next: runner resume --audit-log {audit.resolve()} continues it from where the database is (runner "
        f"audit report {audit.resolve()} --run {run_id} says what it did)." in " ".join(status.stdout.split())
    )
    as_json = run_cli("status", "-c", str(example_ini), "--json", env=env)
    (stopped,) = json.loads(as_json.stdout)["unfinished"]
    assert (
        stopped["run_id"] == run_id and stopped["step"] == "20260131_0000" and not stopped["step_committed"]
    )

    report = run_cli("audit", "report", str(audit), "--run", run_id)
    assert (
        "- **Outcome**: incomplete: stopped during 20260131_0000 (upgrade); the log ends at step_started"
        in (report.stdout)
    )
    assert "No step was started" not in report.stdout

    assert_recovers(url, audit)
    closed = next(r for r in history_rows(url) if r["run_id"] == run_id and r["kind"] == "run")
    assert closed["outcome"] == "abandoned"
    assert "stopped during 20260131_0000" in closed["detail"]
    notices = [e for e in events(audit) if e["event"] == "unfinished_run_found"]
    assert [n["run"]["run_id"] for n in notices] == [run_id]
