"""Ctrl-C, SIGTERM and SIGHUP stop a run the same clean way: statement cancelled, step rolled back, lock last."""

from __future__ import annotations

import signal

import pytest

from tests import pg
from tests.conftest import PROJECTS
from tests.faults import (
    assert_recovers,
    env_py_running,
    events,
    heads,
    history_rows,
    runner_sessions,
    spawn,
    wait_for,
    waiting_on,
)

SIGNALS = {signal.SIGINT: "Ctrl-C (SIGINT)", signal.SIGTERM: "SIGTERM", signal.SIGHUP: "SIGHUP"}


@pytest.mark.parametrize("signum", list(SIGNALS), ids=[s.name for s in SIGNALS])
def test_a_stop_signal_while_a_step_waits_for_its_lock_halts_at_a_known_revision(
    signum, example_ini, filled_production_db, reader_holding_providers, tmp_path
):
    """The waiting ALTER is cancelled and rolled back; exit 1; log, history and locks all say so."""
    url = pg.url_for(filled_production_db)
    audit = tmp_path / "audit.jsonl"
    proc = spawn(
        "apply",
        "-c",
        str(example_ini),
        "--yes",
        "--lock-timeout",
        "30s",
        "--audit-log",
        str(audit),
        env={"DATABASE_URL": url},
    )
    wait_for(lambda: waiting_on(url, "providers"), what="the BlueShift step to wait for its lock")
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)

    assert proc.returncode == 1, out + err
    assert "Traceback" not in out + err
    assert (
        f"Stopped by {SIGNALS[signum]}: the running statement was cancelled and 20260131_0000 rolled back. "
        "The database is at 7702d353e5b8, the last completed step." in err
    )
    assert heads(url) == ["7702d353e5b8"]
    log = events(audit)
    assert log[-1]["event"] == "run_halted" and log[-1]["exit_code"] == 1
    assert [e["kind"] for e in log if e["event"] == "step_failed"] == ["interrupted"]
    run_row = [r for r in history_rows(url) if r["kind"] == "run"][-1]
    assert run_row["outcome"] == "halted" and run_row["audit_hash"] == log[-1]["hash"]
    assert not runner_sessions(url)  # the step's session is gone, so it holds and waits for nothing
    assert not waiting_on(url, "providers")
    reader_holding_providers.close()
    assert_recovers(url, audit)


def test_sigterm_while_a_statement_runs_cancels_it(new_db, tmp_path):
    """A long statement (not a lock wait) is cancelled too; the step before it stays committed."""
    database = new_db()
    url = pg.url_for(database)
    audit = tmp_path / "audit.jsonl"
    ini = PROJECTS / "slow" / "alembic.ini"
    proc = spawn(
        "apply",
        "-c",
        str(ini),
        "--yes",
        "--statement-timeout",
        "60s",
        "--audit-log",
        str(audit),
        env={"DATABASE_URL": url},
    )
    wait_for(lambda: env_py_running(url, "pg_sleep"), what="the pg_sleep step to run")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)

    assert proc.returncode == 1, out + err
    assert "Stopped by SIGTERM: the running statement was cancelled and s2 rolled back." in err
    assert heads(url) == ["s1"]
    assert events(audit)[-1]["event"] == "run_halted"
    assert not runner_sessions(url)
