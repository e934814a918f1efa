"""step_started's fsync runs beside the step's statements, but the step never commits before it is on disk.

The fsync is made to fail on the helper thread for one step's ``step_started``:
that step rolls back (even a statement in an ``autocommit_block``, which would
commit on its own, never runs), the run halts with exit code 1, the log ends on
a whole line that verifies and names no step the database doesn't show.
"""

from __future__ import annotations

import json
import os
import threading

import pytest

from runner.audit import overlapped_sync, verify_file
from tests import pg
from tests.conftest import events_named
from tests.projects.generate import write_project


def _last_line(fd: int) -> dict:
    size = os.fstat(fd).st_size
    tail = os.pread(fd, min(size, 1 << 16), max(0, size - (1 << 16))).decode()
    return json.loads(tail.rstrip("\n").rsplit("\n", 1)[-1])


class FsyncProbe:
    """Stands in for os.fsync: sees which line is being synced, and from which thread; fails on request."""

    def __init__(self, fail_started_of: str, database: str) -> None:
        self.fail_started_of = fail_started_of
        self.database = database
        self.helper_threads: set[str] = set()
        self.heads_while_syncing: dict[str, list[str]] = {}

    def __call__(self, fd: int) -> None:
        line = _last_line(fd)
        self.helper_threads.add(threading.current_thread().name)
        if line["event"] == "step_started":
            # the step's commit waits for this fsync: the database still shows the step before it
            self.heads_while_syncing[line["revision"]] = pg.heads(self.database)
            if line["revision"] == self.fail_started_of:
                raise OSError(5, "Input/output error")
        os.fsync(fd)


def _project(tmp_path):
    return write_project(
        tmp_path / "app",
        [
            ("a1", 'op.create_table("one", sa.Column("id", sa.Integer))', 'op.drop_table("one")'),
            (
                "a2",
                'with op.get_context().autocommit_block():\n    op.execute("CREATE TABLE early (id int)")\n'
                'op.create_table("two", sa.Column("id", sa.Integer))',
                'op.drop_table("two")',
            ),
            ("a3", 'op.create_table("three", sa.Column("id", sa.Integer))', 'op.drop_table("three")'),
        ],
    )


@pytest.mark.parametrize("failing", ["a2", "a3"])
def test_a_step_started_that_cant_be_synced_stops_its_step_before_it_commits(
    run_apply, new_db, tmp_path, monkeypatch, failing
):
    database = new_db()
    probe = FsyncProbe(failing, database)
    monkeypatch.setattr(overlapped_sync, "fsync", probe)
    audit = tmp_path / "audit.jsonl"

    result, events = run_apply(_project(tmp_path), database, audit_path=audit)

    before = {"a2": "a1", "a3": "a2"}[failing]
    assert int(result.exit_code) == 1, result.message
    assert pg.heads(database) == [before]  # the failing step did not commit
    assert "can't be written (Input/output error" in result.message
    assert f"{failing} was rolled back before it could commit" in result.message
    with pg.connect(database) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        applied = [
            r[0]
            for r in conn.execute(
                "SELECT revision FROM runner_history WHERE kind = 'step' AND outcome = 'applied'"
            )
        ]
    # a2's autocommit_block would have committed on its own: it never ran unless step_started was on disk
    assert ("early" in tables) is (failing == "a3")
    assert sorted(applied) == sorted(["a1", "a2"][: ["a2", "a3"].index(failing) + 1])
    assert probe.helper_threads and threading.main_thread().name not in probe.helper_threads
    assert probe.heads_while_syncing["a1"] == []  # nothing committed before a1's step_started was on disk
    assert probe.heads_while_syncing[failing] == [before]
    assert verify_file(audit).ok
    written = [json.loads(line) for line in audit.read_text().splitlines()]
    started = [e["revision"] for e in written if e["event"] == "step_started"]
    assert failing not in started  # the line whose fsync failed was cut off
    assert [e["revision"] for e in written if e["event"] == "step_applied"] == applied
    assert [e["revision"] for e in events_named(events, "step_failed")] == [failing]
    assert written[-1]["event"] == "run_halted" and written[-1]["final_heads"] == [before]


def test_every_line_is_on_disk_when_the_run_reports_success(run_apply, new_db, tmp_path, monkeypatch):
    """The overlapped fsyncs all ran, each before the next line was written, and the run reached head."""
    database = new_db()
    synced: list[int] = []

    def fsync(fd: int) -> None:
        synced.append(os.fstat(fd).st_size)
        os.fsync(fd)

    monkeypatch.setattr(overlapped_sync, "fsync", fsync)
    audit = tmp_path / "audit.jsonl"
    result, _events = run_apply(_project(tmp_path), database, audit_path=audit)

    assert int(result.exit_code) == 0, result.message
    assert pg.heads(database) == ["a3"]
    lines = audit.read_text().splitlines(keepends=True)
    ends = [sum(len(line.encode()) for line in lines[: n + 1]) for n in range(len(lines))]
    overlapped = [
        n for n, line in enumerate(lines) if json.loads(line)["event"] in ("step_started", "step_applied")
    ]
    assert len(overlapped) == 6
    assert synced == [ends[n] for n in overlapped]  # each synced when it was the last line written
