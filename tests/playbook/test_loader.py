"""Loading: revision ids that YAML reads as numbers, line numbers, resolved guards, timings."""

from __future__ import annotations

import json

import pytest

from runner.audit.timings import TimingsError, step_durations
from runner.playbook import InvalidPlaybook, load_playbook
from runner.playbook.timings import Estimator

HEAD = """
version: 1
project:
  alembic_config: {ini}
  target_revision: 20260131_0000
target: {name: t, environment: rehearsal, url_env: X}
"""


def test_revision_ids_that_look_like_numbers_keep_their_text(write_playbook):
    """20260131_0000 is an int to YAML and 123456e78901 a float; both stay the ids the operator wrote."""
    path = write_playbook(
        HEAD
        + """
steps:
  20260131_0000: {on_failure: halt}
  123456e78901: {on_failure: halt}
  1_2: {estimate: 2s}
rollback_to: 7702d353e5b8
on_failure: rollback
"""
    )
    book = load_playbook(path)
    assert book.project.target_revision == "20260131_0000"
    assert book.step_names() == ["20260131_0000", "123456e78901", "1_2"]
    assert book.policy.rollback_to == "7702d353e5b8"


def test_all_problems_are_listed_in_line_order(write_playbook):
    """An operator fixing a playbook sees every problem at once, top to bottom."""
    path = write_playbook(
        HEAD
        + """
guards:
  lock_timeout: 5
steps:
  20260131_0000:
    on_failure: rollbak
    checks:
      - column: providers.home_address
        nulable: true
"""
    )
    with pytest.raises(InvalidPlaybook) as caught:
        load_playbook(path)
    problems = caught.value.problems
    assert [p.split(": ")[0].split(", ")[1] for p in problems] == [
        "guards.lock_timeout",
        "steps.20260131_0000.on_failure",
        "steps.20260131_0000.checks[0].nulable",
    ]
    assert [int(p.split(" line ")[1].split(",")[0]) for p in problems] == [9, 12, 15]


def test_guards_resolve_from_defaults_through_profile_to_step(write_playbook):
    """Runner defaults, then the playbook's guards, the step's profile, and the step's own guards."""
    path = write_playbook(
        HEAD
        + """
guards:
  statement_timeout: 30s
  retry: {attempts: 4}
profiles:
  concurrent_index:
    non_transactional: true
    lock_timeout: 5min
    statement_timeout: 2h
    retry: {budget: 30min}
steps:
  20260131_0000:
    profile: concurrent_index
    guards: {lock_timeout: 10min}
"""
    )
    book = load_playbook(path)
    assert (book.guards.lock_timeout_ms, book.guards.statement_timeout_ms) == (2_000, 30_000)
    step = book.rules_for("20260131_0000")
    assert (step.guards.lock_timeout_ms, step.guards.statement_timeout_ms) == (600_000, 7_200_000)
    assert (step.retry.attempts, step.retry.total_s) == (4, 1800)
    assert step.non_transactional
    other = book.rules_for("7702d353e5b8")
    assert (other.guards, other.retry, other.named) == (book.guards, book.retry, False)


def test_estimates_come_from_the_rehearsal_log_times_the_safety_factor(write_playbook, tmp_path):
    """The longest rehearsal time wins over earlier runs; a larger explicit estimate is never lowered."""
    log = tmp_path / "rehearsal.jsonl"
    events = [
        {"event": "step_applied", "revision": "20260115_0300", "duration_ms": 400},
        {"event": "step_applied", "revision": "20260115_0300", "duration_ms": 1000},
        {"event": "step_reverted", "revision": "20260131_0000", "duration_ms": 99_000},
        {"event": "step_applied", "revision": "20260131_0000", "duration_ms": 2000},
    ]
    log.write_text("\n".join(json.dumps(e) for e in events) + "\n\n")
    path = write_playbook(
        HEAD
        + f"""
timings: {{rehearsal_log: {log.name}, safety_factor: 2, default_estimate: 3min}}
steps:
  20260131_0000: {{estimate: 1min}}
  7702d353e5b8: {{estimate: 10s}}
"""
    )
    estimator = Estimator(load_playbook(path))
    assert estimator.estimate("20260115_0300").describe() == "2s (rehearsal 1s x 2)"
    assert (
        estimator.estimate("20260131_0000").describe()
        == "1min (playbook estimate, above the rehearsal 2s x 2)"
    )
    assert estimator.estimate("7702d353e5b8").describe() == "10s (playbook estimate)"
    assert estimator.estimate("20260127_0100").describe() == "3min (default estimate, not rehearsed)"


def test_a_damaged_rehearsal_log_is_reported_with_its_line(tmp_path):
    log = tmp_path / "r.jsonl"
    log.write_text('{"event": "run_started"}\nnot json\n')
    with pytest.raises(TimingsError, match=r"line 2 of the rehearsal log .* is not a JSON audit event"):
        step_durations(log)
    assert step_durations(tmp_path / "missing.jsonl", missing_ok=True) == {}


def test_paths_are_relative_to_the_playbook(write_playbook, tmp_path):
    """alembic_config, the audit log and the rehearsal log are read next to the playbook, wherever it runs."""
    path = write_playbook(HEAD.replace("{ini}", "../project/alembic.ini") + "audit: {log: audit/run.jsonl}\n")
    book = load_playbook(path)
    assert book.project.alembic_config.resolve() == (tmp_path.parent / "project" / "alembic.ini").resolve()
    assert (
        book.audit_log is not None
        and book.audit_log.resolve() == (tmp_path / "audit" / "run.jsonl").resolve()
    )


def test_a_missing_file_is_an_invalid_playbook_not_a_crash(tmp_path):
    with pytest.raises(InvalidPlaybook, match=r"no such playbook file"):
        load_playbook(tmp_path / "nope.yaml")


def test_a_file_that_is_not_utf8_names_its_line(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"version: 1\nproject:\n  alembic_config: caf\xe9.ini\n")
    with pytest.raises(InvalidPlaybook, match=r"latin1.yaml line 3: is not UTF-8 text"):
        load_playbook(path)
