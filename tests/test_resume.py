"""SIGKILL a run before, during and after each step; ``runner resume`` reaches head and the records agree.

The chain is the example's five pending steps from production's revision plus
``c1``, an index built with CREATE INDEX CONCURRENTLY in an autocommit block
(tests/projects/concurrent). Every case checks the same things afterwards: the
database is at head, the audit log's chain verifies with both runs in it, the
resumed run names the dead one (and its last hash), and runner_history tells one
story: the dead run's row says resumed, and every step was applied exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import psycopg
import pytest

from runner.audit.verify import verify_file
from tests import pg
from tests.conftest import ROOT
from tests.faults import (
    alembic_upgrade,
    connect,
    events,
    heads,
    history_rows,
    runner_sessions,
    spawn,
    wait_for,
)

CONCURRENT_INI = ROOT / "tests" / "projects" / "concurrent" / "alembic.ini"
PRODUCTION = "20260115_0200"
CHAIN = ["20260115_0300", "20260127_0100", "7702d353e5b8", "20260131_0000", "c1"]
HEAD = "c1"


def _apply(url: str, audit: Path) -> subprocess.Popen[str]:
    return spawn(
        "apply", "-c", str(CONCURRENT_INI), "--yes", "--audit-log", str(audit), env={"DATABASE_URL": url}
    )


def _resume(url: str, audit: Path, *more: str) -> subprocess.CompletedProcess[str]:
    proc = spawn("resume", "--audit-log", str(audit), "--yes", *more, env={"DATABASE_URL": url})
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _logged(audit: Path, name: str, revision: str | None = None) -> list[dict]:
    if not audit.exists():
        return []
    return [e for e in events(audit) if e["event"] == name and revision in (None, e.get("revision"))]


def _kill(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)


def _one_story(url: str, audit: Path, applied_before: list[str] = ()) -> None:
    """Head, a verified chain that links the runs, and runner_history agreeing with both."""
    assert heads(url) == [HEAD]
    checked = verify_file(audit)
    assert checked.ok, checked.describe()
    log = events(audit)
    (resumed,) = [e for e in log if e["event"] == "run_resumed"]
    dead = resumed["resumed_run_id"]
    assert resumed["resumed_last_hash"] == [e for e in log if e["run_id"] == dead][-1]["hash"]
    rows = history_rows(url)
    runs = {r["run_id"]: r for r in rows if r["kind"] == "run"}
    if dead in runs and resumed["ended"] == "killed":  # killed before its first step: it wrote no row
        assert runs[dead]["outcome"] == "resumed", runs[dead]
        assert resumed["run_id"] in runs[dead]["detail"]
    (ending,) = [e for e in log if e["run_id"] == resumed["run_id"] and e["event"] == "run_finished"]
    if ending["status"] == "done":
        assert runs[resumed["run_id"]]["outcome"] == "done"
    else:  # the dead run had applied the last step: the resume only closed its row
        assert ending["status"] == "nothing_to_do" and resumed["run_id"] not in runs
    applied = [r["revision"] for r in rows if r["kind"] == "step" and r["outcome"] == "applied"]
    assert sorted(applied) == sorted(set(CHAIN) - set(applied_before)), applied  # each once, none lost
    in_log = [e["revision"] for e in log if e["event"] == "step_applied"]
    assert set(applied) <= set(in_log) | {resumed.get("step_in_flight")}


KILL_POINTS = [("run_lock_acquired", None)] + [
    (event, revision) for revision in CHAIN for event in ("step_started", "step_applied")
]


@pytest.mark.parametrize(("event", "revision"), KILL_POINTS, ids=[f"{e}-{r}" for e, r in KILL_POINTS])
def test_killed_at_each_event_then_resumed(production_db, tmp_path, event, revision):
    """Killed the moment the event is on disk: wherever the run really was by then, resume finishes it."""
    url = pg.url_for(production_db)
    audit = tmp_path / "audit.jsonl"
    proc = _apply(url, audit)
    wait_for(lambda: _logged(audit, event, revision), what=f"{event} {revision or ''}")
    _kill(proc)
    outran_the_kill = bool(_logged(audit, "run_finished"))  # after the last step it may finish first

    done = _resume(url, audit)

    if outran_the_kill:
        assert done.returncode == 4 and "it finished: there is nothing to resume" in done.stderr
        assert heads(url) == [HEAD]
        return
    assert done.returncode == 0, done.stdout + done.stderr
    _one_story(url, audit)


def _waiting_for(url: str, table: str) -> bool:
    with connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE NOT l.granted AND l.relation = to_regclass(%s) AND a.application_name LIKE 'migration-runner %%'",
            [table],
        ).fetchone()
    return bool(row and row[0])


@pytest.mark.parametrize("revision", CHAIN)
def test_killed_inside_each_step_before_it_commits(production_db, tmp_path, revision):
    """The step's work is done, its version row is waiting for a lock: SIGKILL. Nothing of it survives
    except, for c1, the index its autocommit block already built; resume drops that and builds it again."""
    url = pg.url_for(production_db)
    before = CHAIN[: CHAIN.index(revision)]
    if before:
        alembic_upgrade(CONCURRENT_INI, url, before[-1])
    audit = tmp_path / "audit.jsonl"
    holder = connect(url)
    holder.execute("BEGIN")
    holder.execute("LOCK TABLE alembic_version IN EXCLUSIVE MODE")  # reads go on; the version UPDATE waits
    proc = _apply(url, audit)
    wait_for(lambda: _waiting_for(url, "alembic_version"), what=f"{revision} to wait on its version row")
    _kill(proc)
    holder.execute("ROLLBACK")
    holder.close()

    done = _resume(url, audit)

    assert done.returncode == 0, done.stdout + done.stderr
    _one_story(url, audit, applied_before=before)
    (resumed,) = _logged(audit, "run_resumed")
    assert resumed["ended"] == "killed" and resumed["step_in_flight"] == revision
    if revision == "c1":
        (dropped,) = _logged(audit, "leftover_index_dropped")
        assert dropped["index"] == "ix_providers_name" and dropped["valid"] is True


def _index_valid(url: str, name: str) -> bool | None:
    with connect(url) as conn:
        row = conn.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name]
        ).fetchone()
    return None if row is None else bool(row[0])


def test_killed_during_a_concurrent_index_build_leaves_an_invalid_index_that_resume_rebuilds(
    production_db, tmp_path
):
    url = pg.url_for(production_db)
    alembic_upgrade(CONCURRENT_INI, url, "20260131_0000")
    audit = tmp_path / "audit.jsonl"
    writer = connect(url)
    writer.execute("BEGIN")
    writer.execute("LOCK TABLE providers IN ROW EXCLUSIVE MODE")  # an open write: the build waits for it
    proc = _apply(url, audit)
    wait_for(lambda: _index_valid(url, "ix_providers_name") is False, what="the build's INVALID index")
    _kill(proc)
    # The server notices the closed socket within client_connection_check_interval (1s) and stops the build.
    wait_for(lambda: not runner_sessions(url), what="the server to end the dead run's sessions", timeout=10)
    writer.execute("ROLLBACK")
    writer.close()
    assert _index_valid(url, "ix_providers_name") is False

    status = spawn("status", "-c", str(CONCURRENT_INI), env={"DATABASE_URL": url}).communicate(timeout=60)[0]
    assert f"runner resume --audit-log {audit.resolve()}" in status  # status names the way on
    done = _resume(url, audit)

    assert done.returncode == 0, done.stdout + done.stderr
    _one_story(url, audit, applied_before=CHAIN[:-1])
    (dropped,) = _logged(audit, "leftover_index_dropped")
    assert dropped["valid"] is False
    assert _index_valid(url, "ix_providers_name") is True


def test_a_halted_run_resumes_with_the_same_guards(production_db, tmp_path):
    """A lock held past every retry halts the run; resume continues it under the run's own settings."""
    url = pg.url_for(production_db)
    audit = tmp_path / "audit.jsonl"
    reader = psycopg.connect(pg.url_for(production_db))
    reader.execute("SELECT count(*) FROM providers").fetchone()  # ACCESS SHARE until it ends
    proc = spawn(
        "apply",
        "-c",
        str(CONCURRENT_INI),
        "--yes",
        "--audit-log",
        str(audit),
        "--lock-timeout",
        "50ms",
        "--lock-attempts",
        "1",
        env={"DATABASE_URL": url},
    )
    proc.communicate(timeout=120)
    assert proc.returncode == 1
    reader.close()

    done = _resume(url, audit)

    assert done.returncode == 0, done.stdout + done.stderr
    _one_story(url, audit)
    log = events(audit)
    (resumed,) = [e for e in log if e["event"] == "run_resumed"]
    started = [e for e in log if e["event"] == "run_started"]
    assert resumed["ended"] == "halted"
    assert started[-1]["guards"] == started[0]["guards"] and "lock_timeout 50ms" in started[-1]["guards"]


def test_resume_refuses_a_finished_run_and_a_database_that_moved(production_db, tmp_path):
    url = pg.url_for(production_db)
    audit = tmp_path / "audit.jsonl"
    proc = _apply(url, audit)
    wait_for(lambda: _logged(audit, "step_applied", "20260127_0100"), what="the enum step")
    _kill(proc)
    alembic_upgrade(CONCURRENT_INI, url, "heads")  # someone finished it by hand
    with connect(url) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '20260101_0100'")  # and then went elsewhere

    moved = _resume(url, audit)

    assert moved.returncode == 4, moved.stderr
    assert "not on the path of run" in moved.stderr and "Nothing was changed" in moved.stderr
    assert "Traceback" not in moved.stderr

    with connect(url) as conn:
        conn.execute(f"UPDATE alembic_version SET version_num = '{HEAD}'")
    finished = _resume(url, audit)  # the resume itself finds nothing to do, and ends
    assert finished.returncode == 0, finished.stderr
    again = _resume(url, audit)
    assert again.returncode == 4 and "it found nothing to do" in again.stderr


def test_resume_refuses_a_changed_playbook(production_db, tmp_path, example_ini):
    url = pg.url_for(production_db)
    playbook = tmp_path / "playbook.yaml"
    playbook.write_text(
        f"version: 1\nproject:\n  alembic_config: {example_ini}\n  from_revision: {PRODUCTION}\n"
        "target:\n  name: resume-test\n  environment: rehearsal\n  url_env: RESUME_URL\n"
        "audit:\n  log: audit.jsonl\nacknowledgements:\n  - code: LK107\n    revision: 20260127_0100\n"
        "    reason: the new enum value is only added, nothing uses it yet\n"
    )
    audit = tmp_path / "audit.jsonl"
    proc = spawn("apply", "--playbook", str(playbook), "--yes", env={"RESUME_URL": url})
    wait_for(lambda: _logged(audit, "step_applied", "20260115_0300"), what="the first step")
    _kill(proc)
    playbook.write_text(playbook.read_text() + "on_failure: halt\n")

    changed = spawn("resume", "--audit-log", str(audit), "--yes", env={"RESUME_URL": url})
    out, err = changed.communicate(timeout=60)

    assert changed.returncode == 4, out + err
    assert f"The playbook {playbook.resolve()} changed since run" in err
    assert heads(url) != ["20260131_0000"]  # nothing more was run
