"""The run never acts without its lock: a lost lock session halts the run before anything more commits."""

from __future__ import annotations

import threading
from contextlib import closing

from runner.database.runlock import LOST_MESSAGE
from runner.guards import GuardPolicy, Guards, LockRetryPolicy
from runner.run.hooks import StandardHooks
from runner.run.result import RunStatus
from tests import pg
from tests.faults import (
    assert_recovers,
    connect,
    env_py_running,
    events,
    heads,
    history_rows,
    run_lock_free,
    runner_sessions,
    spawn,
    wait_for,
    waiting_on,
)

LOST = "The run lock was lost: the session that held it ended"


def _lock_session(url: str) -> int:
    sessions = wait_for(
        lambda: [
            s for s in runner_sessions(url) if s[1].startswith("migration-runner ") and s[1].count(" ") == 1
        ],
        what="the runner's lock session",
    )
    return sessions[0][0]


def test_a_lock_session_terminated_mid_step_halts_before_the_step_commits(
    example_ini, filled_production_db, reader_holding_providers, tmp_path
):
    """The step that was waiting gets its lock only after the run lock is gone: it rolls back, exit 1."""
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
    lock_pid = _lock_session(url)
    with closing(connect(url)) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [lock_pid])
    assert wait_for(
        lambda: run_lock_free(url), what="the run lock to be free"
    )  # a second run could take it now
    reader_holding_providers.close()  # the step now gets its lock, runs, and must not commit
    out, err = proc.communicate(timeout=30)

    assert proc.returncode == 1, out + err
    assert "Traceback" not in out + err
    assert LOST in err
    assert "20260131_0000 was rolled back before it could commit" in err
    assert heads(url) == ["7702d353e5b8"]
    log = events(audit)
    assert log[-1]["event"] == "run_halted"
    assert [e["kind"] for e in log if e["event"] == "step_failed"] == ["lock_lost"]
    assert not [e for e in log if e["event"] == "step_applied" and e["revision"] == "20260131_0000"]
    run_row = [r for r in history_rows(url) if r["kind"] == "run"][-1]
    assert run_row["outcome"] == "halted" and LOST in run_row["detail"]
    assert_recovers(url, audit)


def test_a_lock_session_gone_while_a_statement_runs_rolls_that_step_back(new_db, tmp_path):
    """Terminated while a step's statement runs: that step can't commit, and the next never starts."""
    from tests.conftest import PROJECTS
    from tests.projects.generate import write_project

    root = tmp_path / "project"
    ini = write_project(
        root,
        [
            ("a1", 'op.execute("CREATE TABLE a (id int)")', 'op.execute("DROP TABLE a")'),
            ("a2", 'op.execute("SELECT pg_sleep(1.5)")', "pass"),
            ("a3", 'op.execute("CREATE TABLE c (id int)")', 'op.execute("DROP TABLE c")'),
        ],
    )
    assert PROJECTS.exists()
    database = new_db()
    url = pg.url_for(database)
    audit = tmp_path / "audit.jsonl"
    proc = spawn("apply", "-c", str(ini), "--yes", "--audit-log", str(audit), env={"DATABASE_URL": url})
    wait_for(lambda: env_py_running(url, "pg_sleep"), what="the sleeping step")
    lock_pid = _lock_session(url)
    with closing(connect(url)) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [lock_pid])
    out, err = proc.communicate(timeout=30)

    assert proc.returncode == 1, out + err
    assert LOST in err
    assert heads(url) in (
        ["a1"],
        ["a2"],
    )  # a2 rolls back if the lock is missed inside it, else a3 never starts
    assert not [e for e in events(audit) if e["event"] == "step_started" and e["revision"] == "a3"]


def test_an_idle_session_timeout_on_the_database_does_not_end_the_lock_session(
    example_ini, filled_production_db, reader_holding_providers, tmp_path
):
    """idle_session_timeout set on the database: the lock session (idle while steps run) is immune."""
    url = pg.url_for(filled_production_db)
    with closing(connect(url)) as admin:
        admin.execute(f"ALTER DATABASE \"{filled_production_db}\" SET idle_session_timeout = '300ms'")
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
    timer = threading.Timer(1.0, reader_holding_providers.close)  # the lock session idles for over a second
    timer.start()
    out, err = proc.communicate(timeout=30)
    timer.join()

    assert proc.returncode == 0, out + err
    assert heads(url) == ["20260131_0000"]
    assert [r["outcome"] for r in history_rows(url) if r["kind"] == "run"] == ["done"]


class LoseTheLockBefore(StandardHooks):
    """Just before a step, the runner's lock session is terminated (a failover, an admin, a proxy)."""

    def __init__(self, revision: str) -> None:
        super().__init__(GuardPolicy.of(Guards(), LockRetryPolicy(attempts=1)))
        self.revision = revision

    def before_step(self, revision, progress, run):
        if revision.revision == self.revision:
            with closing(pg.admin()) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", [run.conn.info.backend_pid])
        return None


def test_a_lock_lost_between_steps_is_noticed_before_the_next_step(example_ini, production_db, run_apply):
    """The check before every step finds the lock gone: halted at the last committed step, history finished."""
    result, log = run_apply(example_ini, production_db, hooks=LoseTheLockBefore("7702d353e5b8"))

    assert result.status is RunStatus.HALTED
    assert result.message == (
        f"{LOST_MESSAGE} (7702d353e5b8 was next). The database is at 20260127_0100, the last completed step."
    )
    assert result.next_step.startswith("runner status (no other run should hold the lock), then ")
    assert result.final_heads == ("20260127_0100",)
    assert [e["kind"] for e in log if e["event"] == "step_failed"] == ["lock_lost"]
    run_row = next(r for r in history_rows(pg.url_for(production_db)) if r["kind"] == "run")
    assert run_row["outcome"] == "halted" and run_row["audit_hash"] == log[-1]["hash"]
