"""What the operator sees while a run goes on: timed lines, waits reported, notices, and a usable Next."""

from __future__ import annotations

import re
import subprocess
import threading

from tests import pg
from tests.conftest import PROJECTS
from tests.faults import events, heads, runner_sessions, spawn, wait_for, waiting_on

TIMED_LINE = re.compile(r"^\d\d:\d\d:\d\dZ ")


def test_a_step_waiting_for_its_lock_is_reported_every_few_seconds(
    example_ini, filled_production_db, reader_holding_providers, tmp_path
):
    """Waited so far, the blocker's pid and query, and the queue: on the console and in the log."""
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
        env={"DATABASE_URL": url, "RUNNER_LOCK_WAIT_REPORT_S": "0.2"},
    )
    wait_for(lambda: waiting_on(url, "providers"), what="the BlueShift step to wait for its lock")
    names = [s[1] for s in runner_sessions(url)]
    blocker = reader_holding_providers.info.backend_pid
    timer = threading.Timer(1.0, reader_holding_providers.close)
    timer.start()
    out, err = proc.communicate(timeout=30)
    timer.join()

    assert proc.returncode == 0, out + err
    run_id = events(audit)[0]["run_id"]
    assert f"migration-runner {run_id} env.py" in names  # a DBA can find env.py's session
    lines = out.splitlines()
    events_shown = [line for line in lines if re.search(r" (applying|applied|plan:|risk:|run \d)", line)]
    assert len(events_shown) >= 8 and all(TIMED_LINE.match(line) for line in events_shown)
    waiting = [line for line in lines if "still waiting for a lock after" in line]
    assert waiting, out
    assert f"blocked by pid {blocker} (idle in transaction" in waiting[0]
    assert "SELECT count(*) FROM providers" in waiting[0]
    assert "session(s) queued behind this step" in waiting[0]
    assert [e for e in events(audit) if e["event"] == "lock_waiting"]


def test_next_repeats_every_option_the_operator_gave(
    example_ini, filled_production_db, reader_holding_providers, tmp_path
):
    """After a lock-timeout halt, the suggested command is the one that was run, options and all."""
    audit = tmp_path / "audit.jsonl"
    proc = spawn(
        "apply",
        "-c",
        str(example_ini),
        "--yes",
        "--lock-timeout",
        "50ms",
        "--lock-attempts",
        "1",
        "--audit-log",
        str(audit),
        env={"DATABASE_URL": pg.url_for(filled_production_db)},
    )
    out, err = proc.communicate(timeout=30)

    assert proc.returncode == 1, out + err
    assert (
        f"Next: wait for (or end) the session holding the lock, then runner apply -c {example_ini} --yes "
        f"--lock-timeout 50ms --lock-attempts 1 --audit-log {audit} to resume." in err
    )


def test_a_closed_pipe_on_stdout_does_not_stop_the_run(example_ini, production_db, tmp_path):
    """`runner apply | head -2`: the run goes on to the end, exit 0, and the log says the console was lost."""
    audit = tmp_path / "audit.jsonl"
    url = pg.url_for(production_db)
    proc = spawn(
        "apply",
        "-c",
        str(example_ini),
        "--yes",
        "--audit-log",
        str(audit),
        env={"DATABASE_URL": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = [proc.stdout.readline(), proc.stdout.readline()]
    proc.stdout.close()  # what head does after two lines
    err = proc.stderr.read()
    proc.wait(timeout=30)

    assert all(line.strip() for line in first)  # the plan shown before the run
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "BrokenPipeError" not in err
    assert heads(url) == ["20260131_0000"]
    assert [e["event"] for e in events(audit)].count("console_lost") == 1
    assert events(audit)[-1]["event"] == "run_finished"


def test_the_runner_says_when_it_changes_env_pys_transaction_mode(example_ini, new_db, tmp_path):
    """The alembic-init env.py runs all revisions in one transaction; the runner commits each: it says so."""
    audit = tmp_path / "audit.jsonl"
    proc = spawn(
        "apply",
        "-c",
        str(PROJECTS / "single_tx" / "alembic.ini"),
        "--yes",
        "--audit-log",
        str(audit),
        env={"DATABASE_URL": pg.url_for(new_db())},
    )
    out, err = proc.communicate(timeout=30)

    assert proc.returncode == 0, out + err
    (notice,) = [e for e in events(audit) if e["event"] == "transaction_mode_changed"]
    assert notice["env_py_asked"] == "one transaction for all revisions"
    assert (
        "NOTICE: env.py asked for one transaction for all revisions; the runner uses one transaction per "
        in out
    )
