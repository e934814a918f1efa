"""The audit log: append-only JSON lines, hash-chained, 0600, redacted, and checkable."""

from __future__ import annotations

import itertools
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from runner.audit import AuditLog, verify_file
from runner.errors import Refused
from runner.redact import remember_secret
from tests.cli import run_cli


def fixed_clock() -> datetime:
    return datetime(2026, 2, 10, 7, 0, 0, tzinfo=UTC)


def write_log(path, run_id="run-1", events=5):
    with AuditLog(path, run_id, clock=fixed_clock) as log:
        for n in range(events):
            log.emit("step_applied", revision=f"r{n}", duration_ms=n)
    return path.read_text().splitlines()


def test_each_line_is_a_chained_json_event_with_the_required_fields(tmp_path):
    lines = write_log(tmp_path / "audit.jsonl")
    records = [json.loads(line) for line in lines]
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5]
    assert all({"ts", "run_id", "seq", "event", "prev", "hash"} <= set(r) for r in records)
    assert records[0]["prev"] == "0" * 64
    assert all(b["prev"] == a["hash"] for a, b in itertools.pairwise(records))
    assert records[0]["ts"] == "2026-02-10T07:00:00.000Z"
    assert verify_file(tmp_path / "audit.jsonl").ok


def test_the_log_is_created_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "audit.jsonl"
    write_log(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_an_existing_log_open_to_others_is_tightened(tmp_path):
    path = tmp_path / "audit.jsonl"
    path.write_text("")
    os.chmod(path, 0o644)
    write_log(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_second_run_continues_the_same_chain(tmp_path):
    path = tmp_path / "audit.jsonl"
    first = write_log(path, "run-1", 2)
    write_log(path, "run-2", 2)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert records[2]["prev"] == json.loads(first[-1])["hash"]
    assert [r["seq"] for r in records] == [1, 2, 1, 2]
    assert verify_file(path).ok


@pytest.mark.parametrize(
    ("tamper", "line", "problem"),
    [
        (
            lambda ls: [*ls[:2], ls[2].replace('"r2"', '"r9"'), *ls[3:]],
            3,
            "edited: its content does not match its hash.",
        ),
        (lambda ls: ls[:2] + ls[3:], 3, "does not follow line 2"),
        (lambda ls: [*ls[:1], ls[2], ls[1], *ls[3:]], 2, "does not follow line 1"),
        (lambda ls: ls[1:], 1, "does not start a chain: lines were removed from the start of the log."),
        (lambda ls: [*ls[:3], '{"event": "step_applied"', *ls[4:]], 4, "not a complete audit record"),
    ],
    ids=["edited", "removed", "reordered", "head-removed", "truncated"],
)
def test_verify_names_the_first_line_that_was_tampered_with(tmp_path, tamper, line, problem):
    path = tmp_path / "audit.jsonl"
    lines = write_log(path)
    path.write_text("\n".join(tamper(lines)) + "\n")
    result = verify_file(path)
    assert not result.ok
    assert result.bad_line == line
    assert problem in result.problem


def test_audit_verify_command_exit_codes(tmp_path):
    path = tmp_path / "audit.jsonl"
    lines = write_log(path)
    ok = run_cli("audit", "verify", str(path))
    assert ok.returncode == 0 and "5 lines, chain intact" in ok.stdout
    path.write_text("\n".join(lines[:2] + lines[3:]) + "\n")
    broken = run_cli("audit", "verify", str(path))
    assert broken.returncode == 4
    assert f"error: {path} line 3: does not follow line 2" in broken.stderr
    missing = run_cli("audit", "verify", str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 3


def test_secrets_never_reach_the_file(tmp_path):
    remember_secret("hunter2-known-secret")
    path = tmp_path / "audit.jsonl"
    with AuditLog(path, "run-1") as log:
        log.emit(
            "step_failed",
            message="could not connect with hunter2-known-secret",
            url="postgresql://app:inline-secret@db.internal/app",
            statement="ALTER ROLE app PASSWORD 'rotated-secret'",
            nested={"dsn": "host=db password=dsn-secret dbname=app"},
        )
    text = path.read_text()
    for secret in ("hunter2-known-secret", "inline-secret", "rotated-secret", "dsn-secret"):
        assert secret not in text
    assert "postgresql://app:***@db.internal/app" in text
    assert verify_file(path).ok


def test_a_log_being_written_by_another_run_is_refused(tmp_path):
    path = tmp_path / "audit.jsonl"
    with AuditLog(path, "run-1"), pytest.raises(Refused, match="is being written by another run"):
        AuditLog(path, "run-2")


def test_a_log_ending_in_a_damaged_line_is_not_extended(tmp_path):
    path = tmp_path / "audit.jsonl"
    write_log(path)
    with path.open("a") as f:
        f.write('{"half a line\n')
    with pytest.raises(Refused, match="ends with a damaged line"):
        AuditLog(path, "run-2")


def test_a_log_rewritten_after_the_run_no_longer_matches_the_database(example_ini, production_db, tmp_path):
    """Re-chaining a doctored log fools the chain check, not the hash the target recorded."""
    from runner.audit.chain import GENESIS, chain_hash
    from tests import pg

    path = tmp_path / "audit.jsonl"
    env = {"DATABASE_URL": pg.url_for(production_db)}
    applied = run_cli("apply", "-c", str(example_ini), "--yes", "--audit-log", str(path), env=env)
    assert applied.returncode == 0, applied.stderr
    intact = run_cli("audit", "verify", str(path), env=env)
    assert intact.returncode == 0
    assert "1 run(s) match the hashes recorded in the database." in intact.stdout

    records = [json.loads(line) for line in path.read_text().splitlines()]
    records = records[:-1]  # drop the final event
    prev = GENESIS
    for record in records:  # a careful forger recomputes the whole chain
        record["prev"] = prev
        record["hash"] = prev = chain_hash(prev, record)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))

    assert run_cli("audit", "verify", str(path)).returncode == 0  # the chain alone looks fine
    forged = run_cli("audit", "verify", str(path), env=env)
    assert forged.returncode == 4
    assert "the log was rewritten or cut short after that run" in forged.stderr


def test_a_device_is_refused_and_left_untouched(tmp_path):
    """--audit-log /dev/null must not disable the trail, nor change the device's permissions."""
    before = os.stat("/dev/null").st_mode
    with pytest.raises(Refused, match="is not a regular file"):
        AuditLog(Path("/dev/null"), "run-1")
    assert os.stat("/dev/null").st_mode == before


def test_runs_cut_from_the_end_of_the_log_are_named_by_the_database(example_ini, production_db, tmp_path):
    """Dropping the last complete run leaves an intact chain; the database knows that run was written here."""
    from tests import pg

    path = tmp_path / "audit.jsonl"
    env = {"DATABASE_URL": pg.url_for(production_db)}
    for to in ("7702d353e5b8", "20260131_0000"):
        done = run_cli(
            "apply", "-c", str(example_ini), "--yes", "--to", to, "--audit-log", str(path), env=env
        )
        assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in path.read_text().splitlines()]
    first_run, second_run = records[0]["run_id"], records[-1]["run_id"]
    path.write_text("".join(json.dumps(r) + "\n" for r in records if r["run_id"] == first_run))

    assert run_cli("audit", "verify", str(path)).returncode == 0  # the chain alone looks fine
    cut = run_cli("audit", "verify", str(path), env=env)
    assert cut.returncode == 4
    assert f"run {second_run} (done, started " in cut.stderr
    assert "is recorded in runner_history as written to this log, but the log has no line of it" in cut.stderr


def test_a_symlinked_log_is_refused_in_plain_words(tmp_path):
    """--audit-log pointing at a symbolic link: exit 3 saying so, not the operating system's ELOOP text."""
    real = tmp_path / "real.jsonl"
    real.write_text("")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    proc = run_cli(
        "apply",
        "-c",
        "examples/credentialmate/alembic.ini",
        "--yes",
        "--audit-log",
        str(link),
        env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
    )
    assert proc.returncode == 3, proc.stderr
    assert f"The audit log {link} is a symbolic link; refusing a symbolic link" in proc.stderr
    assert "Too many levels" not in proc.stderr


def test_records_are_read_in_the_shape_each_event_writes_them():
    """The plan lists its steps as revisions and the risk as mappings: neither is dropped, damage is."""
    from runner.audit.normal import normal_events

    events = [
        {"run_id": "r", "event": "plan_made", "ts": "2026-01-01T00:00:00Z", "steps": ["a", "b", {"x": 1}]},
        {"run_id": "r", "event": "risk_assessed", "ts": "x", "steps": [{"revision": "a"}, "b"]},
        {"run_id": "r", "event": "run_finished", "steps": "not a list"},
    ]
    planned, risk, finished = normal_events(events, "r")
    assert planned["steps"] == ["a", "b"]
    assert risk["steps"] == [{"revision": "a"}] and risk["ts"] == planned["ts"]
    assert "steps" not in finished
