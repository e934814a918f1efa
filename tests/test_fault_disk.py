"""A full disk or a file-size limit never costs the record: refused at the start, halted before the next step."""

from __future__ import annotations

import os
import resource
import subprocess
from contextlib import suppress
from pathlib import Path

import pytest

from runner.audit import verify_file
from tests import pg
from tests.faults import assert_recovers, connect, events, heads, history_rows, spawn, wait_for, waiting_on


def _limited(max_bytes: int):
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return limit


def _apply(ini: Path, url: str, audit: Path, *, limit: int | None = None, env: dict[str, str] | None = None):
    proc = spawn(
        "apply",
        "-c",
        str(ini),
        "--yes",
        "--audit-log",
        str(audit),
        env={"DATABASE_URL": url, **(env or {})},
        preexec_fn=_limited(limit) if limit else None,
    )
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


def test_no_room_for_the_reserve_refuses_before_anything_changes(example_ini, production_db, tmp_path):
    """A file-size limit under the 1 MiB reserve: exit 4, nothing in the target, the refusal logged."""
    url = pg.url_for(production_db)
    audit = tmp_path / "audit.jsonl"
    code, out, err = _apply(example_ini, url, audit, limit=64 * 1024)

    assert code == 4, out + err
    assert "There is no room to record this run: the audit log" in err
    assert "less than the 1,048,576 bytes the runner keeps in reserve. Nothing was changed." in err
    assert heads(url) == ["20260115_0200"]
    assert history_rows(url) == []
    assert [e["event"] for e in events(audit)] == ["run_started", "run_refused"]


def test_a_write_that_fails_mid_run_halts_before_the_next_step(example_ini, new_db, template_at, tmp_path):
    """The file-size limit is met by the first step_applied line: that step stays, nothing more runs."""
    reserve = {"RUNNER_AUDIT_RESERVE_BYTES": "100"}
    scratch = pg.url_for(new_db(template_at("20260115_0200")))
    measured = tmp_path / "measure.jsonl"
    assert _apply(example_ini, scratch, measured, env=reserve)[0] == 0
    text = measured.read_text()
    first_applied = text.index('"event": "step_applied"')
    cut = text.rfind("\n", 0, first_applied) + 1 + 150  # room for step_started, not for step_applied

    url = pg.url_for(new_db(template_at("20260115_0200")))
    audit = tmp_path / "audit.jsonl"
    code, out, err = _apply(example_ini, url, audit, limit=cut, env=reserve)

    assert code == 1, out + err
    assert "Traceback" not in out + err
    assert "The audit log" in err and "can't be written (File too large" in err
    assert heads(url) == [
        "20260115_0300"
    ]  # the first step committed; the log could not say so, so it stopped
    assert verify_file(audit).ok  # the log still ends on a complete line
    written = events(audit)
    assert written[-1]["event"] == "step_started" and written[-1]["revision"] == "20260115_0300"
    run_row = next(r for r in history_rows(url) if r["kind"] == "run")
    assert run_row["outcome"] == "halted" and "can't be written" in run_row["detail"]
    assert run_row["audit_hash"] == written[-1]["hash"]  # the database anchors what the log really holds
    assert_recovers(url, audit)


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs: a real file system that fills up (needs root; skipped elsewhere)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"can't mount a tmpfs here: {made.stderr.decode().strip() or 'not root'}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path, leave: int) -> None:
    """Take all free space on ``disk`` but ``leave`` bytes."""
    stats = os.statvfs(disk)
    free = stats.f_bavail * stats.f_frsize
    with (disk / "filler").open("wb") as f, suppress(OSError):
        f.write(b"\0" * max(0, free - leave))


def test_a_disk_that_fills_up_mid_step_gives_back_the_reserve_and_halts(
    example_ini, production_db, small_disk
):
    """The disk fills while the first step waits: that step's record is kept, and the run halts after it."""
    url = pg.url_for(production_db)
    audit = small_disk / "audit.jsonl"
    reserve = {"RUNNER_AUDIT_RESERVE_BYTES": "65536"}
    writer = connect(url)  # an uncommitted write on providers holds off the first step's foreign key
    writer.execute("BEGIN")
    writer.execute("UPDATE providers SET id = id WHERE false")
    proc = spawn(
        "apply",
        "-c",
        str(example_ini),
        "--yes",
        "--lock-timeout",
        "30s",
        "--audit-log",
        str(audit),
        env={"DATABASE_URL": url, **reserve},
    )
    wait_for(lambda: waiting_on(url, "providers"), what="the first step to wait for its lock")
    _fill(small_disk, leave=0)
    writer.execute("COMMIT")
    writer.close()
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 1, out + err
    assert "can grow by only" in err and "the run stopped before 20260127_0100" in err
    assert heads(url) == ["20260115_0300"]
    assert verify_file(audit).ok
    written = events(audit)
    assert [e["revision"] for e in written if e["event"] == "step_applied"] == ["20260115_0300"]
    assert written[-1]["event"] == "run_halted" and written[-1]["final_heads"] == ["20260115_0300"]
    (small_disk / "filler").unlink()
    assert_recovers(url, audit, env=reserve)


def test_the_reserve_is_given_back_when_the_disk_is_full(small_disk, monkeypatch):
    """With no free space left, a line still gets written into the reserve, and the log says it was used."""
    from runner.audit import AuditLog

    path = small_disk / "audit.jsonl"
    block = os.statvfs(small_disk).f_frsize
    monkeypatch.setenv("RUNNER_AUDIT_RESERVE_BYTES", str(16 * block))
    with AuditLog(path, "run-1") as log:
        _fill(small_disk, leave=0)
        for n in range(6):  # 6 x 8 KiB: more than the last page's slack, less than the reserve
            log.emit("step_applied", revision=f"r{n}", padding="x" * 8192)
        assert log.healthy and log.reserve_used
        assert "the reserve kept for the log was used" in (log.room_problem() or "")
    assert verify_file(path).ok and verify_file(path).lines == 6
