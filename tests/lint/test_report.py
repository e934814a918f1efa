"""Acknowledgements, blocking findings, timeout profiles, calibration and the JSON shape apply relies on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.errors import ConfigError, InvalidInput
from runner.guards import Guards
from runner.lint import Acknowledgement, Severity, Stats, blocking, profile_for, read_calibration
from runner.lint.context import Origin, Size
from runner.lint.engine import run
from runner.lint.estimate import Calibration, about, size_text
from runner.lint.names import TableRef
from runner.lint.sizing import TableStats
from tests.lint.helpers import REVISION, big, lint, only, small, step, table

INDEX = "CREATE INDEX ix_providers_npi ON providers (npi)"


def test_acknowledged_block_no_longer_blocks() -> None:
    """CODE:REVISION with a reason marks the finding acknowledged; blocking() leaves it out."""
    ack = Acknowledgement.parse("lk101:r2", "providers is read-only during the window")
    report = lint(INDEX, stats=big(), acknowledgements=[ack])
    finding = only(report, "LK101")
    assert (finding.acknowledged, finding.reason) == (True, "providers is read-only during the window")
    assert blocking(report) == []
    assert report.unused_acknowledgements == ()


def test_unacknowledged_block_is_blocking_and_unused_acknowledgements_are_reported() -> None:
    ack = Acknowledgement("LK102", REVISION, "typo")
    report = lint(INDEX, stats=big(), acknowledgements=[ack])
    assert [f.code for f in blocking(report)] == ["LK101"]
    assert report.unused_acknowledgements == (ack,)


@pytest.mark.parametrize(
    ("spec", "reason", "message"),
    [
        ("LK101", "why", "--acknowledge 'LK101' is not CODE:REVISION (for example LK101:20260131_0000)."),
        ("L101:r2", "why", "Acknowledgement L101:r2: 'L101' is not a rule code such as LK101"),
        ("LK101:r2", " ", "Acknowledgement LK101:r2 has no reason"),
    ],
)
def test_acknowledgement_parse_errors_say_what_to_write(spec: str, reason: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Acknowledgement.parse(spec, reason)
    assert raised.value.message.startswith(message)


def test_profiles_follow_the_work_in_the_step() -> None:
    """Catalog DDL: short-lock; a concurrent build: minutes of lock_timeout; a backfill: sized statement_timeout."""
    assert profile_for(lint("ALTER TABLE providers ADD COLUMN note TEXT", stats=big()), REVISION) == (
        "short-lock-ddl",
        Guards(lock_timeout_ms=2_000, statement_timeout_ms=30_000, idle_in_transaction_timeout_ms=60_000),
    )
    concurrent = lint("COMMIT;\n\nCREATE INDEX CONCURRENTLY ix ON providers (npi);\n\nBEGIN;", stats=big())
    assert profile_for(concurrent, REVISION)[0] == "concurrent-build"
    name, guards = profile_for(lint("UPDATE providers SET status = 'active'", stats=big()), REVISION)
    assert name == "backfill"
    assert (guards.lock_timeout_ms, guards.statement_timeout_ms) == (5_000, 300_000)
    # an acknowledged blocking build gets room for three times its estimate (5.2 s -> 16 s, under the 30 s floor)
    assert profile_for(lint(INDEX, stats=big()), REVISION)[1].statement_timeout_ms == 30_000


def test_backfill_statement_timeout_grows_with_the_table() -> None:
    """20M rows at ~20,000 rows/s is ~1,000 s: statement_timeout is three times that, rounded up to a second."""
    huge = Stats.of(table("providers", 20_000_000, 4_000, 1_000))
    name, guards = profile_for(lint("UPDATE providers SET status = 'active'", stats=huge), REVISION)
    assert name == "backfill" and guards.statement_timeout_ms == 3_001_000
    assert (
        profile_for(lint("UPDATE providers SET status = 'active'", stats=small()), REVISION)[0] == "backfill"
    )


def test_calibration_from_a_rehearsal_log_scales_size_proportional_estimates(tmp_path: Path) -> None:
    """The rehearsal took twice the estimate: every size-proportional estimate doubles."""
    log = tmp_path / "rehearsal.jsonl"
    events = [
        {"event": "run_started"},
        {"event": "step_applied", "revision": REVISION, "direction": "upgrade", "duration_ms": 10_490},
        {"event": "step_reverted", "revision": REVISION, "direction": "downgrade", "duration_ms": 5},
    ]
    log.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    calibration = read_calibration(log)
    assert calibration.measured_ms == {REVISION: 10_490}
    report = run([step(INDEX)], stats=big(), calibration=calibration)
    assert report.calibration_factor == pytest.approx(2.0, rel=0.01)
    assert only(report, "LK101").estimated_lock_ms == pytest.approx(10_488, abs=5)
    assert report.step(REVISION).measured_ms == 10_490


def test_calibration_ignores_catalog_only_steps() -> None:
    """A step that only changes the catalog measures connection overhead, not size."""
    calibration = Calibration(measured_ms={REVISION: 900})
    report = run([step("ALTER TABLE providers ADD COLUMN note TEXT")], stats=big(), calibration=calibration)
    assert report.calibration_factor == 1.0


def test_unreadable_rehearsal_log_is_invalid_input(tmp_path: Path) -> None:
    (tmp_path / "bad.jsonl").write_text("not json\n")
    with pytest.raises(InvalidInput, match=r"line 1 of the rehearsal log .* is not a JSON audit event"):
        read_calibration(tmp_path / "bad.jsonl")


def test_json_has_the_keys_apply_and_ci_read() -> None:
    report = lint(INDEX, stats=big())
    payload = report.as_json()
    finding = payload["findings"][0]
    assert {"revision", "code", "slug", "severity", "message"} <= set(finding)
    assert (finding["code"], finding["severity"], finding["revision"]) == ("LK101", "block", REVISION)
    assert payload["summary"] == {"block": 1, "warn": 0, "info": 0, "blocking": 1}
    step_json = payload["steps"][0]
    assert step_json["risk"] == "high" and step_json["profile"] == "short-lock-ddl"
    assert step_json["lock"] == "SHARE on providers (5.2s)"
    assert json.dumps(payload)  # plain data all the way down


def test_durations_and_sizes_read_like_people_say_them() -> None:
    assert [about(x) for x in (0.2, 42, 4_200, 90_000, 7_200_000)] == ["1ms", "42ms", "4.2s", "1.5min", "2h"]
    assert [size_text(x) for x in (512, 2_048, 5_000_000, 3 * 1024**3)] == [
        "512 bytes",
        "2 kB",
        "4.8 MB",
        "3 GB",
    ]
    assert Severity.BLOCK.rank > Severity.WARN.rank > Severity.INFO.rank


def test_a_playbooks_acknowledgements_are_taken_as_they_are() -> None:
    """Anything with code, revision and reason acknowledges (the playbook has its own dataclass)."""

    class FromPlaybook:
        code, revision, reason = "LK101", REVISION, "a maintenance window with the app stopped"

    report = lint(INDEX, stats=big(), acknowledgements=[FromPlaybook()])  # type: ignore[list-item]
    assert blocking(report) == [] and report.acknowledgements[0].reason.startswith("a maintenance window")


def test_table_description_includes_write_activity_when_known() -> None:
    stats = TableStats("public", "providers", 10_000, 2 * 1024 * 1024, 1024 * 1024, writes_per_s=12.0)
    assert Size(TableRef("providers"), Origin.MEASURED, stats).describe() == (
        "providers has about 10,000 rows, 3 MB with indexes, and averages about 12 writes/s"
    )
