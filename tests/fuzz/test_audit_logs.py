"""Damaged audit logs: verify says intact exactly when the chain is, and nothing that reads a log crashes.

In-process, each case goes through every reader of the format: the chain check,
the events and the runs in them, the report of every run, each event's sentence,
the last hash of every run (the database cross-check) and the rehearsal
timings. A sample goes through ``runner audit verify`` (alone and against the
database the runs were recorded in) and ``runner audit report``.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runner.audit.anchor import run_ends
from runner.audit.chain import GENESIS, chain_hash
from runner.audit.describe import describe
from runner.audit.html_report import render_html
from runner.audit.reader import events_of, read_lines
from runner.audit.report import render_markdown, runs_in
from runner.audit.runs import logged_runs
from runner.audit.timings import TimingsError, step_durations
from runner.audit.verify import verify_lines
from runner.errors import InvalidInput
from tests import pg
from tests.fuzz.audit_cases import RealLogs, corrupted_logs, edit_record, intact
from tests.fuzz.budget import COMMAND_LINE, IN_PROCESS, tally
from tests.fuzz.target import finish, start_cli


def _forged(**fields: object) -> bytes:
    """One record with a correct hash: an intact chain of one line holding whatever fields it is given."""
    record = {**fields, "prev": GENESIS}
    return json.dumps({**record, "hash": chain_hash(GENESIS, record)}).encode() + b"\n"


# Logs that crashed a reader before its fix (each was an exit 70 on the command line).
PREV_NOT_TEXT = b'{"prev": 5, "hash": "x"}\n'
DEEP_JSON = b"[" * 100_000 + b"]" * 100_000 + b"\n"
LONE_SURROGATE = b'{"prev": "' + GENESIS.encode() + b'", "hash": "x", "s": "\\ud800"}\n'
FORGED_WITHOUT_EVENT = _forged(run_id="r", seq=1)
FORGED_RUN_ID_LIST = _forged(run_id=["r"], seq=1, event="run_started")


def _originals(logs: RealLogs) -> tuple[bytes, ...]:
    return tuple(path.read_bytes() for path in logs.paths)


def _read_everything(path: Path) -> str:
    """Every reader of the format on the log at ``path``; the tally label for the case."""
    with contextlib.suppress(TimingsError):  # a rehearsal log that can't be read is refused, not a crash
        step_durations(path)
    try:
        lines = read_lines(path)
    except InvalidInput:
        return "unreadable"
    checked = verify_lines(str(path), lines)
    assert checked.ok == intact(path.read_bytes()), checked.describe()
    if not checked.ok:
        assert checked.bad_line is not None and 1 <= checked.bad_line <= len(lines)
    events = events_of(lines)
    for event in events:
        describe(event)
    for run in runs_in(events):
        assert render_markdown(events, run, chain_note=checked.describe()).startswith("# Migration run")
        assert render_html(events, run, chain_note=checked.describe()).startswith("<!DOCTYPE html>")
    for run in logged_runs(path) if checked.ok else []:  # what runner resume reads
        assert run.status and run.last_hash is not None and run.request is not None
        assert (run.server, run.snapshot_id, run.step_in_flight) is not None
    run_ends(path)
    return "intact" if checked.ok else "broken"


@pytest.mark.parametrize(
    "damaged",
    [PREV_NOT_TEXT, DEEP_JSON, LONE_SURROGATE, FORGED_WITHOUT_EVENT, FORGED_RUN_ID_LIST],
    ids=[
        "prev-not-text",
        "json-nested-100000-deep",
        "lone-surrogate",
        "forged-without-event",
        "forged-run-id-list",
    ],
)
def test_the_logs_that_crashed_a_reader_are_read(damaged: bytes, tmp_path: Path) -> None:
    """The fuzzer's finds, as fixed examples (the cases below draw their logs, so @example can't hold these)."""
    path = tmp_path / "audit.jsonl"
    path.write_bytes(damaged)
    assert _read_everything(path) == ("intact" if damaged.startswith(b'{"run_id"') else "broken")


@IN_PROCESS
@given(data=st.data())
def test_a_damaged_audit_log_is_read_without_a_crash(
    data: st.DataObject, real_audit_logs: RealLogs, fuzz_dir: Path
) -> None:
    """verify_lines is ok exactly when the chain is intact; the report, sentences and anchors never crash."""
    path = fuzz_dir / "audit.jsonl"
    path.write_bytes(data.draw(corrupted_logs(_originals(real_audit_logs)), label="log").data)
    tally("audit logs in-process", _read_everything(path))


@IN_PROCESS
@given(data=st.data())
def test_a_log_edited_and_re_hashed_still_reports(
    data: st.DataObject, real_audit_logs: RealLogs, fuzz_dir: Path
) -> None:
    """A forged but intact chain whose records hold odd fields is reported, never crashes the report."""
    originals = _originals(real_audit_logs)
    original = originals[data.draw(st.integers(0, len(originals) - 1), label="original")]
    lines = original.rstrip(b"\n").split(b"\n")
    damaged = edit_record(data.draw, lines, data.draw(st.integers(0, len(lines) - 1)), rehash=True)
    path = fuzz_dir / "forged.jsonl"
    path.write_bytes(damaged)
    tally("audit logs re-hashed in-process", _read_everything(path))


@COMMAND_LINE
@given(data=st.data())
def test_a_damaged_audit_log_on_the_command_line(
    data: st.DataObject, real_audit_logs: RealLogs, fuzz_dir: Path
) -> None:
    """audit verify exits 0 only for an intact chain, else 3 or 4; audit report likewise; never a traceback."""
    damaged = data.draw(corrupted_logs(_originals(real_audit_logs)), label="log").data
    path = fuzz_dir / "cli-audit.jsonl"
    path.write_bytes(damaged)
    commands = {
        "runner audit verify": ["audit", "verify", str(path)],
        "runner audit verify --database-url": [
            "audit",
            "verify",
            str(path),
            "--database-url",
            pg.url_for(real_audit_logs.database),
        ],
        "runner audit report": ["audit", "report", str(path)],
    }
    running = {name: start_cli(args, fuzz_dir) for name, args in commands.items()}
    whole = intact(damaged)
    for name, process in running.items():
        outcome = finish(process, commands[name])
        outcome.check()
        assert outcome.exit_code in (0, 3, 4), outcome
        if name == "runner audit verify":
            assert (outcome.exit_code == 0) == whole, outcome
        elif outcome.exit_code == 0:
            assert whole, outcome
        tally(f"audit logs: {name}", f"exit {outcome.exit_code}")
