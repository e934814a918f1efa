"""Audit log files read back and reports written out: plain errors, and the log's own 0600 for the report."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from runner.audit import AuditLog, verify_file
from tests.cli import run_cli


def write_log(path: Path, events: int = 3, **fields: object) -> Path:
    """A small complete run: run_started, ``events - 2`` step_applied (with ``fields``), run_finished."""
    with AuditLog(path, "run-1", clock=lambda: datetime(2026, 2, 10, 7, 0, 0, tzinfo=UTC)) as log:
        log.emit("run_started", target="postgresql://app@db/appdb")
        for n in range(events - 2):
            log.emit("step_applied", revision=f"r{n}", **fields)
        log.emit("run_finished", status="done", exit_code=0)
    return path


def with_binary_line(path: Path) -> Path:
    """The log with its second line overwritten by bytes that are not UTF-8, as a damaged disk leaves it."""
    lines = path.read_bytes().split(b"\n")
    lines[1] = b'{"ts": "\xff\xfe\x00\x01 damaged'
    path.write_bytes(b"\n".join(lines))
    return path


@pytest.mark.parametrize("command", ["verify", "report"])
def test_a_binary_line_is_named_with_exit_3(tmp_path, command):
    """A line that is not UTF-8: exit 3 naming the file and line, not an internal error (70)."""
    log = with_binary_line(write_log(tmp_path / "audit.jsonl"))

    proc = run_cli("audit", command, str(log))

    assert proc.returncode == 3, proc.stderr
    assert proc.stderr == (
        f"error: Audit log {log} line 2: is not UTF-8 text (binary data at byte 9 of the line), so it is no "
        f"audit record: the line was damaged or overwritten, or {log} is not an audit log.\n"
    )
    assert proc.stdout == ""


@pytest.mark.parametrize("command", ["verify", "report"])
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "line 1: is not UTF-8 text"),
        (lambda p: p.write_bytes(b""), "is empty: it holds no audit records."),
        (lambda p: p.write_bytes(b"\n\n  \n"), "is empty: it holds no audit records."),
        (lambda p: p.mkdir(), "is a directory, not a log file."),
    ],
    ids=["not-utf8", "empty", "blank", "directory"],
)
def test_a_file_that_is_no_audit_log_gets_a_plain_message(tmp_path, command, make, message):
    """Not UTF-8 at all, empty, or a directory: exit 3 and one sentence naming the file."""
    log = tmp_path / "audit.jsonl"
    make(log)

    proc = run_cli("audit", command, str(log))

    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.startswith(f"error: Audit log {log} {message}"), proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_statement_with_a_unicode_line_separator_keeps_the_chain_intact(tmp_path):
    """U+2028 and U+0085 inside a record are not line ends: the log is split at newlines only."""
    log = write_log(tmp_path / "audit.jsonl", sql="SELECT 1 -- a\u2028b\x85c")

    assert verify_file(log).ok
    assert run_cli("audit", "verify", str(log)).returncode == 0


@contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_report_file_is_created_readable_by_its_owner_only(tmp_path):
    """The report holds the log's statements: 0600 like the log, whatever the umask."""
    log = write_log(tmp_path / "audit.jsonl")
    out = tmp_path / "report.md"

    with umask(0o022):
        proc = run_cli("audit", "report", str(log), "-o", str(out))

    assert proc.returncode == 0, proc.stderr
    assert mode_of(out) == 0o600
    assert out.read_text().startswith("# Migration run run-1\n")


def test_an_existing_report_open_to_others_is_tightened_and_replaced(tmp_path):
    """An older report left 0644 is tightened to 0600 and its whole content replaced."""
    log = write_log(tmp_path / "audit.jsonl")
    out = tmp_path / "report.md"
    out.write_text("an older, longer report " * 100)
    os.chmod(out, 0o644)

    proc = run_cli("audit", "report", str(log), "-o", str(out))

    assert proc.returncode == 0, proc.stderr
    assert mode_of(out) == 0o600
    assert "older" not in out.read_text()


def test_a_report_path_that_is_a_symlink_is_refused(tmp_path):
    """Like the log: never written through a link; the file it points at is untouched."""
    log = write_log(tmp_path / "audit.jsonl")
    elsewhere = tmp_path / "elsewhere.md"
    elsewhere.write_text("keep me")
    link = tmp_path / "report.md"
    link.symlink_to(elsewhere)

    proc = run_cli("audit", "report", str(log), "-o", str(link))

    assert proc.returncode == 3
    assert proc.stderr == (
        f"error: --output {link} is a symbolic link; refusing to follow it, since the report holds the same "
        "statements as the audit log. Give a regular file's path.\n"
    )
    assert elsewhere.read_text() == "keep me"


def test_a_report_over_its_own_log_is_refused(tmp_path):
    """-o naming the log itself would destroy the audit trail: refused, the log intact."""
    log = write_log(tmp_path / "audit.jsonl")
    before = log.read_bytes()

    proc = run_cli("audit", "report", str(log), "-o", str(log))

    assert proc.returncode == 3
    assert (
        proc.stderr == f"error: --output {log} is the audit log itself; give the report a file of its own.\n"
    )
    assert log.read_bytes() == before


def test_a_report_to_a_device_is_refused(tmp_path):
    """Only a regular file gets the report: a device or FIFO is refused before anything is written."""
    log = write_log(tmp_path / "audit.jsonl")

    proc = run_cli("audit", "report", str(log), "-o", "/dev/null")

    assert proc.returncode == 3
    assert proc.stderr == (
        "error: --output /dev/null is not a regular file; the report is written only to a file, with mode 0600.\n"
    )
