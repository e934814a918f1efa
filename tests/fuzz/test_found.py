"""What the fuzzer found: each input was an internal error (exit 70) and is now a plain refusal, word for word."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runner.audit.chain import GENESIS, chain_hash
from runner.cli import app
from runner.errors import ConfigError
from runner.request.flags import GuardFlags
from tests.conftest import ROOT

NINES = "9" * 400


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def _forged(**fields: object) -> str:
    record = {**fields, "prev": GENESIS}
    return json.dumps({**record, "hash": chain_hash(GENESIS, record)}) + "\n"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "version: " + "9" * 5000 + "\n",
            " line 1: is not valid YAML: '99999999999999999999'... (5000 characters) can't be read as a whole "
            "number (it has too many digits).",
        ),
        (
            "version: 1\nwindow: {dates: [2026-13-45]}\n",
            " line 2: is not valid YAML: '2026-13-45' can't be read as a date (month must be in 1..12).",
        ),
        (
            "version: 1\ndescription: " + "[" * 400 + "]" * 400 + "\n",
            ": is nested too deeply to be read; a playbook is a few levels deep.",
        ),
    ],
    ids=["integer-of-5000-digits", "impossible-date", "nested-400-deep"],
)
def test_a_playbook_yaml_cannot_read_is_refused_at_its_line(tmp_path: Path, text: str, problem: str) -> None:
    """A number too long for int(), a date that doesn't exist, nesting past the recursion limit: exit 3."""
    path = tmp_path / "playbook.yaml"
    path.write_text(text)
    result = invoke("playbook", "validate", str(path), "--no-env-check")
    assert result.exit_code == 3
    assert result.stderr == f"error: {path}{problem}\n"


def test_a_duration_too_large_for_a_float_is_refused_in_a_playbook(tmp_path: Path) -> None:
    """400 nines with a unit were float infinity, and round() raised OverflowError inside pydantic."""
    path = tmp_path / "playbook.yaml"
    path.write_text(f"version: 1\nguards: {{lock_timeout: {NINES}s}}\n")
    result = invoke("playbook", "validate", str(path), "--no-env-check")
    assert result.exit_code == 3
    assert (
        f"{path} line 2, guards.lock_timeout: '{NINES}s' is too large a number to be a duration.\n"
        in result.stderr
    )


def test_a_duration_too_large_for_a_float_is_refused_on_the_command_line() -> None:
    """The same duration given as --retry-budget names the option."""
    with pytest.raises(ConfigError) as caught:
        GuardFlags(retry_budget=f"{NINES}s").policy()
    assert caught.value.message == f"--retry-budget: '{NINES}s' is too large a number to be a duration."


@pytest.mark.parametrize("snapshot", ["", " ", "snap\x1fshot"], ids=["empty", "blank", "control-character"])
def test_a_snapshot_id_that_names_no_snapshot_is_refused(snapshot: str) -> None:
    """An empty --snapshot-id made AWS list every snapshot (and the first was reused); now exit 3 before anything."""
    result = invoke(
        "apply",
        "--playbook",
        str(ROOT / "playbooks" / "credentialmate-rehearsal.yaml"),
        "--snapshot-id",
        snapshot,
    )
    assert result.exit_code == 3
    assert result.stderr == (
        f"error: --snapshot-id {snapshot!r} is not an RDS snapshot identifier (a letter, then letters, digits and "
        "single hyphens, not ending in a hyphen; rds: first for an automated snapshot); nothing was changed.\n"
    )


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"prev": 5, "hash": "x"}\n', "not a complete audit record: the line was edited or truncated."),
        (
            "[" * 100_000 + "]" * 100_000 + "\n",
            "not a complete audit record: the line was edited or truncated.",
        ),
        (
            '{"prev": "' + GENESIS + '", "hash": "x", "sql": "\\ud800"}\n',
            "edited: its content does not match its hash.",
        ),
    ],
    ids=["prev-not-text", "json-nested-100000-deep", "lone-surrogate"],
)
def test_an_audit_line_verify_could_not_check_is_named(tmp_path: Path, line: str, problem: str) -> None:
    """A prev that isn't text, JSON nested past the recursion limit, text that can't be hashed: exit 4, line 1."""
    log = tmp_path / "audit.jsonl"
    log.write_text(line)
    result = invoke("audit", "verify", str(log))
    assert result.exit_code == 4
    assert result.stderr == f"error: {log} line 1: {problem}\n"


def test_a_forged_chain_without_event_names_holds_no_runs(tmp_path: Path) -> None:
    """An intact chain of records with no event name: the report says there are no runs (exit 3), no KeyError."""
    log = tmp_path / "audit.jsonl"
    log.write_text(_forged(run_id="r", seq=1))
    assert invoke("audit", "verify", str(log)).exit_code == 0
    result = invoke("audit", "report", str(log))
    assert result.exit_code == 3
    assert result.stderr == f"error: Audit log {log} holds no runs.\n"


def test_a_forged_chain_with_odd_fields_is_still_reported(tmp_path: Path) -> None:
    """A run id that is a list, counts that are null, statements that are text: reported, event names kept."""
    log = tmp_path / "audit.jsonl"
    first = _forged(run_id=["r"], seq=1, event="run_started", target=5)
    prev = json.loads(first)["hash"]
    body = {"run_id": ["r"], "seq": 2, "event": "lock_timeout_hit", "blockers": "pid 1", "prev": prev}
    second = json.dumps({**body, "hash": chain_hash(prev, body)}) + "\n"
    log.write_text(first + second)
    result = invoke("audit", "report", str(log))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("# Migration run ['r']\n")
    assert "## What needed attention\n\n- lock_timeout_hit\n" in result.stdout
