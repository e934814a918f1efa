"""At least twenty broken playbooks, each with its exact message (file, line, field) and never a traceback.

Every file under ``invalid/`` has exactly one problem; the expected text below is
what ``runner playbook validate`` prints after ``error: ``, with ``{file}``
standing for the file's path as given. The files cover the three stages a
playbook goes through: its YAML and shape, the rules between its fields, and its
meaning against the example Alembic project and the environment.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from runner.cli import app
from tests.conftest import ROOT

INVALID = Path(__file__).parent / "invalid"
URL_ENV = "RUNNER_TEST_PLAYBOOK_URL"
URL = "postgresql://postgres@127.0.0.1:5432/credentialmate"

EXPECTED = {
    "blockers_terminate_everyone.yaml": (
        "{file} line 12, blockers.terminate[1]: '*' matches sessions of any application; name the ones that may be ended, such as report-*."
    ),
    "blockers_wait_too_long.yaml": (
        "{file} line 11, blockers.wait: '2h' is outside the accepted range, 0ms to 1h."
    ),
    "acknowledgement_bad_code.yaml": (
        "{file} line 11, acknowledgements[0].code: 'lk101' is not a lint code (two capital letters and three digits, such as LK101)."
    ),
    "alembic_config_missing.yaml": (
        "{file} line 3, project.alembic_config: examples/credentialmate/alembc.ini does not exist (alembic_config is read relative to the playbook's own directory)."
    ),
    "bad_time_of_day.yaml": (
        "{file} line 14, window.end: expected a time of day as HH:MM (24-hour, quoted), found '24:00'."
    ),
    "check_bad_boolean.yaml": (
        "{file} line 14, steps.20260131_0000.checks[0].nullable: expected true or false, found 'maybe'."
    ),
    "check_sql_copy_to_program.yaml": (
        "{file} line 14, steps.20260131_0000.checks[0].sql: the SQL is a COPY TO PROGRAM, not a query; a check runs one SELECT and only reads."
    ),
    "check_sql_unlocks_run_lock.yaml": (
        "{file} line 12, checks.before[0].sql: the SQL calls pg_advisory_unlock_all(), which takes or releases advisory locks; a check may only read."
    ),
    "check_sql_writes_in_with.yaml": (
        "{file} line 12, checks.after_all[0].sql: the SQL holds a DELETE (in a WITH clause), which changes data; a check only reads."
    ),
    "check_with_two_kinds.yaml": (
        "{file} line 13, steps.20260131_0000.checks[0]: a check has exactly one kind key, found table and column; split it into one check per kind."
    ),
    "database_mismatch.yaml": (
        "{file} line 10, target.database: $RUNNER_TEST_PLAYBOOK_URL points at database 'credentialmate' (postgresql://postgres@127.0.0.1:5432/credentialmate), not 'credentialmate_prod'."
    ),
    "duplicate_key.yaml": (
        "{file} line 13: the key '20260131_0000' appears twice in the same mapping; YAML would keep only one of them, so remove or rename the other."
    ),
    "duration_without_unit.yaml": (
        "{file} line 11, guards.lock_timeout: 2 has no unit; write it as 2ms, 2s or 2min."
    ),
    "duration_zero.yaml": (
        "{file} line 11, guards.statement_timeout: '0s' is zero, which PostgreSQL reads as no limit at all; give a real limit."
    ),
    "empty_file.yaml": (
        "{file} line 1: a playbook is a mapping with the keys version, description, project, target, audit, timings, guards, profiles, on_failure, rollback_to, checks, steps, window, snapshot, notify, acknowledgements, preflight, blockers; found nothing (the file is empty)."
    ),
    "preflight_bad_boolean.yaml": (
        "{file} line 11, preflight.no_relevant_drift: expected true or false, found 'sometimes'."
    ),
    "format_version_2.yaml": ("{file} line 1, version: must be 1, found 2."),
    "lock_timeout_out_of_range.yaml": (
        "{file} line 11, guards.lock_timeout: '99999999999h' is outside the accepted range, 1ms to 1h."
    ),
    "lock_timeout_not_shorter.yaml": (
        "{file} line 13, profiles.concurrent_index.lock_timeout: lock_timeout 10min is not shorter than the statement_timeout 1min it runs under (from the runner's default), so a lock wait would end as a statement timeout, which is never retried; make lock_timeout the shorter of the two."
    ),
    "missing_url_env.yaml": (
        "{file} line 4, target.url_env: required key is missing (the environment variable that holds the database URL)."
    ),
    "policy_typo.yaml": (
        "{file} line 12, steps.20260131_0000.on_failure: 'rollbak' is not one of halt, rollback, restore."
    ),
    "production_without_snapshot.yaml": (
        "{file} line 7, target.environment: a production playbook takes a snapshot before the first step: add a snapshot section with required: true (only staging and rehearsal targets may go without one)."
    ),
    "retry_attempts_out_of_range.yaml": (
        "{file} line 13, profiles.patient.retry.attempts: 101 is outside the accepted range, 1 to 100."
    ),
    "retry_budget_out_of_range.yaml": (
        "{file} line 13, guards.retry.budget: '25h' is outside the accepted range, 1ms to 24h."
    ),
    "rollback_through_enum_step.yaml": (
        "{file} line 12, steps.20260131_0000.on_failure: rolling back after a failure at 20260131_0000 would downgrade through 20260127_0100 (Add STAGE_CHANGED action type to coordinator_actions enum), which can't be undone: its downgrade() does nothing. Use rollback_to: 20260127_0100 to stop above it, or halt or restore."
    ),
    "rollback_to_above_the_step.yaml": (
        "{file} line 13, steps.20260115_0300.rollback_to: 7702d353e5b8 is not below 20260115_0300, so a rollback from 20260115_0300 can't reach it."
    ),
    "rollback_to_without_rollback.yaml": (
        "{file} line 13, steps.20260131_0000.rollback_to: rollback_to only applies with on_failure: rollback, and this step's on_failure is halt."
    ),
    "snapshot_bad_region.yaml": (
        "{file} line 12, snapshot.region: 'us-east1' is not an AWS region name such as us-east-1."
    ),
    "sql_check_scalar_and_rows.yaml": (
        "{file} line 12, checks.after_all[0].sql: a query check compares either scalar or rows with an expected value, found both."
    ),
    "statement_timeout_out_of_range.yaml": (
        "{file} line 13, steps.20260131_0000.guards.statement_timeout: '600h' is outside the accepted range, 1ms to 576h (24 days)."
    ),
    "step_not_in_this_run.yaml": (
        "{file} line 11, steps.20260108_0100: 20260108_0100 is not one of the steps from 20260115_0200 to 20260131_0000: 20260115_0300, 20260127_0100, 7702d353e5b8, 20260131_0000."
    ),
    "step_revision_prefix.yaml": (
        "{file} line 11, steps.20260131_000: write the full revision id 20260131_0000, not a prefix of it."
    ),
    "top_level_list.yaml": (
        "{file} line 1: a playbook is a mapping with the keys version, description, project, target, audit, timings, guards, profiles, on_failure, rollback_to, checks, steps, window, snapshot, notify, acknowledgements, preflight, blockers; found a list."
    ),
    "unknown_check_kind.yaml": (
        "{file} line 13, checks.after_all[1]: a check names its kind with one of the keys table, column, index, constraint, enum, sql, rows_unchanged, http, metric; found the key colum (did you mean column?)."
    ),
    "unknown_day.yaml": (
        "{file} line 12, window.days[0]: 'tues' is not one of mon, tue, wed, thu, fri, sat, sun."
    ),
    "unknown_from_revision.yaml": (
        "{file} line 4, project.from_revision: '20260115_02OO' is not a revision of the project (did you mean 20260115_0200?); the project's heads are 20260131_0000."
    ),
    "unknown_profile.yaml": (
        "{file} line 17, steps.20260131_0000.profile: 'concurent_index' is not one of the playbook's profiles (concurrent_index); define it under profiles."
    ),
    "unknown_step_key.yaml": (
        "{file} line 12, steps.20260127_0100.on_falure: unknown key 'on_falure' (did you mean on_failure?); the keys allowed here are description, on_failure, rollback_to, profile, guards, estimate, irreversible, reversible_because, checks, settle."
    ),
    "unknown_step_revision.yaml": (
        "{file} line 11, steps.20260131_0001: '20260131_0001' is not a revision of the project (did you mean 20260131_0000?); the project's heads are 20260131_0000."
    ),
    "unknown_time_zone.yaml": (
        "{file} line 11, window.timezone: 'Eastern' is not a time zone this machine knows; use an IANA name such as America/New_York or UTC."
    ),
    "unknown_top_level_key.yaml": (
        "{file} line 10, windw: unknown key 'windw' (did you mean window?); the keys allowed at the top level are version, description, project, target, audit, timings, guards, profiles, on_failure, rollback_to, checks, steps, window, snapshot, notify, acknowledgements, preflight, blockers."
    ),
    "url_env_not_set.yaml": (
        "{file} line 8, target.url_env: the environment variable CREDMATE_URL_NOBODY_SET is not set; export the target's database URL in it (a playbook never holds the URL itself)."
    ),
    "window_without_days.yaml": (
        "{file} line 10, window: the window needs days (such as [tue, thu]) or dates (such as [2026-02-10])."
    ),
    "http_check_without_scheme.yaml": (
        "{file} line 12, checks.after_all[0].http: 'credmate-staging.example.com/healthz' is not an http:// or https:// URL with a host."
    ),
    "metric_check_bad_period.yaml": (
        "{file} line 15, steps.20260131_0000.checks[0].period: 45s is not a CloudWatch period: 1s, 5s, 10s, 30s or whole minutes."
    ),
    "metric_check_missing_typo.yaml": (
        "{file} line 15, checks.after_all[0].missing: 'okay' is not one of fail, ok."
    ),
    "metric_check_without_bound.yaml": (
        "{file} line 12, checks.after_all[0].metric: a metric check needs max, min or both: the bound its value (or rate) must keep."
    ),
    "notify_bad_topic_arn.yaml": (
        "{file} line 11, notify.sns_topic_arn: 'arn:aws:sns:us-east-1:deploys' is not an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:deploys."
    ),
    "notify_webhook_url_inline.yaml": (
        "{file} line 11, notify.webhook_url_env: this is a URL, and webhook_url_env names the environment variable that holds the URL; export the URL in a variable and name the variable here."
    ),
    "notify_without_channel.yaml": (
        "{file} line 10, notify: notify needs sns_topic_arn, webhook_url_env or both."
    ),
    "settle_out_of_range.yaml": (
        "{file} line 11, checks.settle: '2h' is outside the accepted range, 1ms to 1h."
    ),
    "snapshot_alias_with_port.yaml": (
        "{file} line 14, snapshot.endpoint_aliases[0]: 'pgbouncer.internal:6432' is not a host name or address as it appears in the database URL."
    ),
    "snapshot_identifier_unknown_field.yaml": (
        "{file} line 13, snapshot.identifier: {target_nme} is not a field a snapshot name can use; the fields are {target_name}, {prior}, {target}, {run_id}, {source}, {utc}."
    ),
    "snapshot_reuse_without_max_age.yaml": (
        "{file} line 13, snapshot.reuse: reuse needs max_age, the oldest snapshot this playbook accepts (such as 6h), so an old snapshot can't pass for a fresh one."
    ),
    "snapshot_waived_in_production.yaml": (
        "{file} line 11, snapshot.required: a production playbook can't waive its snapshot, whatever the reason: make it required: true (only staging and rehearsal targets may go without one)."
    ),
    "snapshot_waived_without_reason.yaml": (
        "{file} line 11, snapshot.required: required: false needs a reason: say in snapshot.reason why this target may go without a snapshot."
    ),
    "yaml_syntax_error.yaml": (
        "{file} line 13: is not valid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence)."
    ),
}


def test_every_invalid_file_has_an_expected_message():
    """A new file without an expectation (or a stale expectation) fails here, not silently."""
    assert sorted(p.name for p in INVALID.glob("*.yaml")) == sorted(EXPECTED)
    assert len(EXPECTED) >= 20


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_playbook_is_reported_in_one_paragraph(name, monkeypatch):
    """runner playbook validate exits 3 with exactly the expected paragraph, and no traceback."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv(URL_ENV, URL)
    monkeypatch.delenv("CREDMATE_URL_NOBODY_SET", raising=False)
    source = f"tests/playbook/invalid/{name}"

    result = CliRunner().invoke(app, ["playbook", "validate", source])

    assert result.exit_code == 3, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stderr == "error: " + EXPECTED[name].replace("{file}", source) + "\n"
    assert result.stdout == ""
