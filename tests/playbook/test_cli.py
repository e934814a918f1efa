"""runner apply/plan --playbook end to end: confirmation, refusals, overrides, exit codes, the audit log."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from runner.audit import verify_file
from runner.cli import app
from runner.cli import apply as apply_cli
from tests import pg
from tests.conftest import EXAMPLE_HEAD, EXAMPLE_INI, PRODUCTION_REVISION

URL_ENV = "RUNNER_TEST_TARGET_URL"

STAGING = """
    version: 1
    project:
      alembic_config: {ini}
      from_revision: 20260115_0200
      target_revision: 20260131_0000
    target:
      name: credmate-staging
      environment: ENVIRONMENT
      url_env: RUNNER_TEST_TARGET_URL
    audit:
      log: audit.jsonl
    checks:
      after_all:
        - table: payment_methods
"""


@pytest.fixture
def target(production_db, monkeypatch):
    monkeypatch.setenv(URL_ENV, pg.url_for(production_db))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return production_db


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def events(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_rehearsal_needs_no_confirmation(write_playbook, target):
    """environment: rehearsal runs without a prompt or --yes, and writes a verifiable audit log."""
    path = write_playbook(STAGING.replace("ENVIRONMENT", "rehearsal"))

    result = invoke("apply", "--playbook", str(path))

    assert result.exit_code == 0, result.output
    assert pg.heads(target) == [EXAMPLE_HEAD]
    log = path.parent / "audit.jsonl"
    assert verify_file(log).ok
    names = [e["event"] for e in events(log)]
    assert "playbook_loaded" in names and names[-1] == "run_finished"
    assert "target_confirmed" not in names


def test_yes_alone_does_not_confirm_a_staging_target(write_playbook, target):
    """The plan is shown, then exit 4 before anything is locked or changed."""
    path = write_playbook(STAGING.replace("ENVIRONMENT", "staging"))

    result = invoke("apply", "--playbook", str(path), "--yes")

    assert result.exit_code == 4
    assert f"Playbook {path} (staging target 'credmate-staging')" in result.stdout
    assert result.stderr == (
        "error: --yes alone does not confirm a staging target; nothing was changed. Next: add --confirm-target "
        "credmate-staging (the playbook's target.name) to run without a prompt.\n"
    )
    assert pg.heads(target) == [PRODUCTION_REVISION]


def test_confirm_target_must_match_the_playbook(write_playbook, target):
    path = write_playbook(STAGING.replace("ENVIRONMENT", "staging"))

    result = invoke("apply", "--playbook", str(path), "--yes", "--confirm-target", "credmate-prod")

    assert result.exit_code == 4
    assert (
        "--confirm-target 'credmate-prod' does not match the playbook's target 'credmate-staging'"
        in result.stderr
    )
    assert pg.heads(target) == [PRODUCTION_REVISION]


def test_yes_with_the_target_name_runs_and_is_audited(write_playbook, target):
    path = write_playbook(STAGING.replace("ENVIRONMENT", "staging"))

    result = invoke("apply", "--playbook", str(path), "--yes", "--confirm-target", "credmate-staging")

    assert result.exit_code == 0, result.output
    assert pg.heads(target) == [EXAMPLE_HEAD]
    [confirmed] = [e for e in events(path.parent / "audit.jsonl") if e["event"] == "target_confirmed"]
    assert (confirmed["target"], confirmed["how"]) == ("credmate-staging", "--confirm-target")


def test_the_operator_types_the_target_name_at_the_prompt(write_playbook, target, monkeypatch):
    """Interactively the plan is shown and the name typed; a wrong name changes nothing."""
    monkeypatch.setattr(apply_cli, "interactive", lambda: True)
    path = write_playbook(STAGING.replace("ENVIRONMENT", "staging"))

    wrong = invoke("apply", "--playbook", str(path), input="credmate-prod\n")
    assert wrong.exit_code == 4
    assert "'credmate-prod' does not match the target's name 'credmate-staging'" in wrong.stderr
    assert pg.heads(target) == [PRODUCTION_REVISION]

    right = invoke("apply", "--playbook", str(path), input="credmate-staging\n")
    assert right.exit_code == 0, right.output
    assert (
        "Type the target's name (credmate-staging) to apply 4 step(s) to this staging database"
        in right.stdout
    )
    assert pg.heads(target) == [EXAMPLE_HEAD]


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        (
            ["--lock-timeout", "5s"],
            "--lock-timeout can't be combined with --playbook: the playbook sets it (guards.lock_timeout).",
        ),
        (
            ["--to", "7702d353e5b8"],
            "--to can't be combined with --playbook: the playbook sets it (project.target_revision).",
        ),
        (
            ["-c", str(EXAMPLE_INI)],
            "--config can't be combined with --playbook: the playbook sets it (project.alembic_config).",
        ),
    ],
)
def test_options_the_playbook_sets_are_refused_beside_it(write_playbook, target, flag, message):
    """A run does what was reviewed: exit 3, nothing touched."""
    path = write_playbook(STAGING.replace("ENVIRONMENT", "rehearsal"))

    result = invoke("apply", "--playbook", str(path), *flag)

    assert result.exit_code == 3
    assert result.stderr.startswith("error: " + message)
    assert pg.heads(target) == [PRODUCTION_REVISION]


def test_override_window_needs_a_reason_and_a_playbook(write_playbook, target):
    """The override's value is its reason (--reason belongs to --acknowledge alone); no playbook, no window."""
    path = write_playbook(STAGING.replace("ENVIRONMENT", "rehearsal"))
    no_reason = invoke("apply", "--playbook", str(path), "--override-window", " ")
    assert no_reason.exit_code == 3
    assert "--override-window needs a reason" in no_reason.stderr
    no_value = invoke("apply", "--playbook", str(path), "--override-window")
    assert no_value.exit_code == 2  # a usage error: the option takes a value
    no_playbook = invoke(
        "apply", "-c", str(EXAMPLE_INI), "--database-url", pg.url_for(target), "--override-window", "x"
    )
    assert no_playbook.exit_code == 3
    assert "only applies with --playbook" in no_playbook.stderr


def test_a_closed_window_is_refused_and_audited_then_overridden(write_playbook, target):
    """A window on a past date never opens: exit 4 and run_refused; with an override the run goes ahead."""
    text = STAGING.replace("ENVIRONMENT", "rehearsal") + (
        "    window: {timezone: UTC, dates: [2020-01-07], start: '02:00', end: '04:00'}\n"
    )
    path = write_playbook(text)

    refused = invoke("apply", "--playbook", str(path))
    assert refused.exit_code == 4
    assert (
        "error: The maintenance window (2020-01-07 02:00-04:00 UTC) is closed and does not open again."
        in (refused.stderr)
    )
    assert pg.heads(target) == [PRODUCTION_REVISION]
    assert [e["event"] for e in events(path.parent / "audit.jsonl")] == ["run_refused"]

    reason = "INC-4711: the BlueShift import is blocked; approved by the on-call lead"
    overridden = invoke("apply", "--playbook", str(path), "--override-window", reason)
    assert overridden.exit_code == 0, overridden.output
    [event] = [e for e in events(path.parent / "audit.jsonl") if e["event"] == "window_overridden"]
    assert event["reason"] == reason


def test_restore_required_ends_with_exit_7(write_playbook, target):
    """End to end: a failed check under rollback, with the enum step in the way, exits 7."""
    text = """
        version: 1
        project: {alembic_config: {ini}, target_revision: 20260131_0000}
        target: {name: t, environment: rehearsal, url_env: RUNNER_TEST_TARGET_URL}
        audit: {log: audit.jsonl}
        steps:
          20260131_0000:
            on_failure: rollback
            checks:
              - sql: SELECT count(*) FROM payment_methods
                scalar: 1

    """
    path = write_playbook(text)

    result = invoke("apply", "--playbook", str(path))

    assert result.exit_code == 7, result.output
    assert "warning: " in result.stderr and "without from_revision" in result.stderr
    assert "No downgrade was run: restore required." in result.stderr
    assert "Next: restore the database from the snapshot taken before this run" in result.stderr
    assert pg.heads(target) == [EXAMPLE_HEAD]


def test_a_production_snapshot_with_aws_out_of_reach_refuses_before_any_ddl(
    write_playbook, target, monkeypatch
):
    """Fail closed: no AWS credentials means no snapshot, and no snapshot means no step (exit 6)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    text = STAGING.replace("ENVIRONMENT", "production") + (
        "    snapshot: {rds_instance: credmate-prod, region: us-east-1}\n"
    )
    path = write_playbook(text)

    result = invoke("apply", "--playbook", str(path), "--yes", "--confirm-target", "credmate-staging")

    assert result.exit_code == 6, result.output
    assert "credentials" in result.stderr and "Traceback" not in result.output
    assert pg.heads(target) == [PRODUCTION_REVISION]
    logged = [e["event"] for e in events(path.parent / "audit.jsonl")]
    assert "snapshot_requested" in logged and "step_started" not in logged and logged[-1] == "run_refused"


def test_an_invalid_playbook_stops_apply_with_exit_3(write_playbook, target):
    path = write_playbook(STAGING.replace("ENVIRONMENT", "rehersal"))
    result = invoke("apply", "--playbook", str(path))
    assert result.exit_code == 3
    assert "target.environment: 'rehersal' is not one of production, staging, rehearsal." in result.stderr
    assert "Traceback" not in result.output


def test_plan_with_a_playbook_offline(write_playbook, monkeypatch):
    """Without the URL the plan starts at from_revision; every step shows its policy, guards and estimate."""
    monkeypatch.delenv(URL_ENV, raising=False)
    path = write_playbook(STAGING.replace("ENVIRONMENT", "staging"))

    shown = invoke("plan", "--playbook", str(path))
    assert shown.exit_code == 0, shown.output
    assert "Target   (offline, from 20260115_0200)" in shown.stdout
    assert "no maintenance window; the steps are estimated at 4min in all" in shown.stdout

    as_json = invoke("plan", "--playbook", str(path), "--json")
    assert as_json.exit_code == 0, as_json.output
    payload = json.loads(as_json.stdout)
    steps = payload["playbook"]["steps"]
    assert [s["revision"] for s in steps] == [
        "20260115_0300",
        "20260127_0100",
        "7702d353e5b8",
        "20260131_0000",
    ]
    assert steps[1]["irreversible"] == "its downgrade() does nothing"
    assert {s["on_failure"] for s in steps} == {"halt"}


def test_apply_without_a_playbook_still_takes_its_flags(target, monkeypatch, tmp_path):
    """The command line alone keeps working: --yes, and --confirm-target checked against the database name."""
    monkeypatch.setenv("DATABASE_URL", pg.url_for(target))
    wrong = invoke(
        "apply", "-c", str(EXAMPLE_INI), "--confirm-target", "nope", "--audit-log", str(tmp_path / "a.jsonl")
    )
    assert wrong.exit_code == 4
    assert pg.heads(target) == [PRODUCTION_REVISION]
    right = invoke(
        "apply",
        "-c",
        str(EXAMPLE_INI),
        "--to",
        "7702d353e5b8",
        "--lock-timeout",
        "3s",
        "--yes",
        "--audit-log",
        str(tmp_path / "a.jsonl"),
    )
    assert right.exit_code == 0, right.output
    assert pg.heads(target) == ["7702d353e5b8"]
