"""``runner rehearse`` as an operator runs it: a subprocess, a real throwaway target, the evidence it leaves.

The local-cluster cases run as root here, as CI does (the cluster runs as an
unprivileged user). Each test has its own marker directory, so "nothing left
behind" means this test's throwaway targets, not the machine's.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runner.audit.verify import verify_file
from runner.throwaway.markers import DIRECTORY_ENV
from runner.throwaway.processes import exists
from tests import pg
from tests.cli import ROOT
from tests.conftest import EXAMPLE_HEAD, EXAMPLE_INI, PRODUCTION_REVISION
from tests.faults import connect, events, wait_for
from tests.projects.generate import write_project
from tests.rehearsal.test_drill import FORGETFUL

REHEARSAL_PLAYBOOK = ROOT / "playbooks" / "credentialmate-rehearsal.yaml"
PRODUCTION_PLAYBOOK = ROOT / "playbooks" / "credentialmate-production.yaml"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYrehearse"
FILL = ("--fill", "examples.credentialmate.fill:fill", "--scale", "300")


@pytest.fixture
def markers(tmp_path) -> Path:
    return tmp_path / "markers"


def _env(markers: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PGPASSWORD")}
    return {**env, DIRECTORY_ENV: str(markers), "ADMIN_URL": pg.ADMIN_URL, **more}


def _start(markers: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "runner", "rehearse", *args],
        cwd=ROOT,
        env=_env(markers, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _rehearse(markers: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    proc = _start(markers, *args, **env)
    out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _left_behind(markers: Path) -> list[str]:
    """This test's markers still there, and the cluster directories and postmasters they name."""
    left = []
    for marker in markers.glob("*.json*") if markers.exists() else []:
        record = json.loads(marker.read_text())
        left.append(marker.name)
        if record.get("root") and Path(record["root"]).exists():
            left.append(record["root"])
        if record.get("postmaster_pid") and exists(record["postmaster_pid"]):
            left.append(f"postmaster {record['postmaster_pid']}")
    return left


def _named(log: Path, name: str) -> list[dict]:
    return [e for e in events(log) if e["event"] == name]


def test_the_rehearsal_playbook_end_to_end_on_a_local_cluster(markers, tmp_path):
    """Fill, lock contention, the run with its retry, the drill, the report: exit 0 and nothing left running."""
    log, report = tmp_path / "rehearsal.jsonl", tmp_path / "report.html"
    done = _rehearse(
        markers,
        "--playbook", str(REHEARSAL_PLAYBOOK), "--target", "local", *FILL,
        "--hold-lock", "providers=2500ms", "--audit-log", str(log), "--report", str(report), "--json",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert [s["revision"] for s in answer["steps"]] == [
        "20260115_0300", "20260127_0100", "7702d353e5b8", EXAMPLE_HEAD,
    ]  # fmt: skip
    assert answer["drill"]["clean"] is True and answer["report"] == str(report)
    assert answer["target"].startswith("a throwaway local cluster")
    assert verify_file(log).ok
    (prepared,) = _named(log, "rehearsal_prepared")
    assert any("filled by examples.credentialmate.fill:fill at scale 300" in n for n in prepared["notes"])
    assert _named(log, "lock_timeout_hit") and _named(log, "retry_scheduled")  # the held lock was felt
    assert stat.S_IMODE(report.stat().st_mode) == 0o600 and "<svg" in report.read_text()
    assert _left_behind(markers) == []


def test_a_production_playbook_rehearses_its_snapshot_on_moto_never_on_aws(markers, tmp_path):
    """The snapshot is taken and recorded by the production code path, against moto; the window is treated as
    open and said so; the operator's AWS credentials are neither used nor printed."""
    log = tmp_path / "prod-rehearsal.jsonl"
    done = _rehearse(
        markers,
        "--playbook", str(PRODUCTION_PLAYBOOK), "--target", "server", "--server-url", "env:ADMIN_URL",
        "--audit-log", str(log),
        AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE", AWS_SECRET_ACCESS_KEY=SECRET,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    (proof,) = _named(log, "endpoint_proven")
    assert proof["method"] == "stand_in" and proof["proven"] is False
    (snapshot,) = _named(log, "snapshot_available")
    assert snapshot["snapshot_id"].startswith("pre-migration-credmate-prod-20260115-0200")
    assert _named(log, "window_overridden")[0]["reason"] == "a rehearsal: the window is treated as open"
    assert not _named(log, "notification_sent")
    assert _named(log, "drill_finished")[0]["clean"] is True
    for text in (done.stdout, done.stderr, log.read_text()):
        assert SECRET not in text and "AKIAIOSFODNN7EXAMPLE" not in text
    assert (
        not (ROOT / "audit" / "credmate-prod.jsonl").exists()
        or "rehearsal_prepared" not in (ROOT / "audit" / "credmate-prod.jsonl").read_text()
    )  # the production log is never written by a rehearsal


def test_a_downgrade_that_forgets_a_column_and_an_index_exits_9_naming_both(markers, tmp_path):
    ini = write_project(tmp_path / "forgetful", FORGETFUL[:2])  # a3 adds an enum value: one-way, not drilled
    done = _rehearse(
        markers,
        "-c", str(ini), "--target", "server", "--server-url", "env:ADMIN_URL",
        "--audit-log", str(tmp_path / "log.jsonl"), "--json",
    )  # fmt: skip

    assert done.returncode == 9, done.stderr
    drill = json.loads(done.stdout)["drill"]
    found = {s["revision"]: s["differences"] for s in drill["steps"]}
    assert found["a1"] == [] and found["a2"] == [
        "column public.widgets.note is there after the downgrade but was not before the upgrade",
        "index public.ix_widgets_name is there after the downgrade but was not before the upgrade",
    ]
    assert drill["clean"] is False


def test_a_clone_of_a_real_schema_with_an_expression_index_and_an_enum_is_rehearsed(
    markers, tmp_path, production_db
):
    source = pg.url_for(production_db)
    with connect(source) as conn:
        conn.execute("CREATE INDEX ix_users_lower_email ON users (lower(email))")
        conn.execute("CREATE TYPE report_state AS ENUM ('queued', 'done')")
    log = tmp_path / "clone.jsonl"
    done = _rehearse(
        markers,
        "-c", str(EXAMPLE_INI), "--target", "server", "--server-url", "env:ADMIN_URL",
        "--clone-schema-from", "env:SOURCE_URL", "--audit-log", str(log),
        SOURCE_URL=source,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    (prepared,) = _named(log, "rehearsal_prepared")
    assert any("cloned" in n and PRODUCTION_REVISION in n for n in prepared["notes"])
    assert _named(log, "revision_recorded")[0]["prior_heads"] == [PRODUCTION_REVISION]
    assert _named(log, "drill_finished")[0]["clean"] is True
    assert pg.heads(production_db) == [PRODUCTION_REVISION]  # the source is only read


def test_a_failed_start_leaves_nothing_behind(markers, tmp_path):
    done = _rehearse(
        markers,
        "--playbook", str(REHEARSAL_PLAYBOOK), "--target", "local",
        "--fill", "tests.rehearsal.fillers:broken", "--audit-log", str(tmp_path / "log.jsonl"),
    )  # fmt: skip

    assert done.returncode == 3, done.stderr
    assert "--fill tests.rehearsal.fillers:broken failed" in done.stderr and "Traceback" not in done.stderr
    assert _left_behind(markers) == []


def _waiting_rehearsal(markers: Path, tmp_path: Path) -> tuple[subprocess.Popen[str], Path, dict]:
    """A rehearsal whose last step waits behind a held lock; returns it once its cluster is marked."""
    log = tmp_path / "waiting.jsonl"
    proc = _start(
        markers,
        "--playbook", str(REHEARSAL_PLAYBOOK), "--target", "local", "--hold-lock", "providers=60s",
        "--audit-log", str(log),
    )  # fmt: skip
    wait_for(
        lambda: log.exists() and [e for e in events(log) if e.get("revision") == EXAMPLE_HEAD],
        what="the last step to start",
        timeout=120,
    )
    (marker,) = markers.glob("*.json")
    return proc, log, json.loads(marker.read_text())


def test_sigterm_mid_run_cleans_up_the_cluster(markers, tmp_path):
    proc, log, marker = _waiting_rehearsal(markers, tmp_path)
    assert exists(marker["postmaster_pid"])

    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)

    assert proc.returncode == 1, out + err  # halted at a step boundary, the step in flight rolled back
    assert _named(log, "run_halted")
    assert _left_behind(markers) == []
    assert not exists(marker["postmaster_pid"]) and not Path(marker["root"]).exists()


def test_after_sigkill_the_next_rehearsal_reaps_the_cluster(markers, tmp_path):
    proc, _log, marker = _waiting_rehearsal(markers, tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert exists(marker["postmaster_pid"])  # nobody cleaned up: the process was killed

    nxt = _rehearse(
        markers,
        "--playbook", str(REHEARSAL_PLAYBOOK), "--target", "local", "--no-drill",
        "--audit-log", str(tmp_path / "next.jsonl"),
    )  # fmt: skip

    assert nxt.returncode == 0, nxt.stderr
    assert f"reaped the throwaway cluster {marker['root']}" in nxt.stdout
    deadline = time.monotonic() + 10
    while exists(marker["postmaster_pid"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not exists(marker["postmaster_pid"]) and not Path(marker["root"]).exists()
    assert _left_behind(markers) == []
