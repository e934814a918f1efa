"""GD and AN rules: guards switched off, and what could not be checked; messages compared verbatim."""

from __future__ import annotations

from runner.lint import Severity, analyse_steps, parse_step
from tests.lint.helpers import big, lint, none, only, revision

HELP = (
    "Remove it; if the step needs a longer limit, set it for this step in the playbook, where the run checks and "
    "records it:\n"
)
ALTER = "ALTER TABLE providers ADD COLUMN tier VARCHAR(20)"


def test_gd101_bad_lock_timeout_set_to_zero() -> None:
    """Turning off lock_timeout on a step that touches a table with rows: block."""
    finding = only(lint(f"SET lock_timeout = 0;\n\n{ALTER}", stats=big()), "GD101")
    assert finding.severity is Severity.BLOCK
    assert finding.message == (
        "SET lock_timeout = 0 turns off the lock_timeout the runner set for this step, so for the rest of the step "
        "a statement waiting for a lock waits with no limit, and every query queued behind it waits too."
    )
    assert finding.help == HELP + '    # remove: op.execute("SET lock_timeout = 0")'


def test_gd101_bad_reset_and_set_config_count_too() -> None:
    reset = only(lint(f"RESET lock_timeout;\n\n{ALTER}", stats=big()), "GD101")
    assert reset.message.startswith(
        "RESET lock_timeout resets the lock_timeout the runner set for this step to the server default, usually 0 "
        "(no limit), so for the rest of the step"
    )
    set_config = only(
        lint(f"SELECT set_config('statement_timeout', '0', true);\n\n{ALTER}", stats=big()), "GD101"
    )
    assert set_config.message.endswith("so for the rest of the step a statement can run with no time limit.")


def test_gd101_good_on_a_fresh_database_it_is_only_a_note() -> None:
    """Nothing with rows is touched (tables this run creates): info, never a refusal."""
    report = lint(
        "SET lock_timeout = 0;\n\nALTER TABLE notes ADD COLUMN body TEXT",
        earlier=["CREATE TABLE notes (id BIGINT)"],
    )
    assert only(report, "GD101").severity is Severity.INFO
    assert none(lint(f"SET lock_timeout = '2s';\n\n{ALTER}", stats=big()), "GD101")


def test_gd102_bad_timeout_overridden() -> None:
    finding = only(lint(f"SET statement_timeout = '10min';\n\n{ALTER}", stats=big()), "GD102")
    assert finding.severity is Severity.INFO
    assert finding.message == (
        "SET statement_timeout = '10min' replaces the statement_timeout the runner set for this step with 10min "
        "for the rest of the step; the audit log shows the runner's value, not this one."
    )
    assert finding.help == HELP + "    # remove: op.execute(\"SET statement_timeout = '10min'\")"


def test_gd102_good_other_settings_are_left_alone() -> None:
    assert none(lint(f"SET search_path = app, public;\n\n{ALTER}", stats=big()), "GD102")


def test_an101_bad_revision_that_cannot_render_offline() -> None:
    """A render error becomes a warning finding, never a crash, and the step's risk is unknown."""
    step = parse_step(revision(), None, error="NotImplementedError: op.get_bind() in offline mode")
    report = analyse_steps([step])
    finding = only(report, "AN101")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "r2 can't be rendered offline (NotImplementedError: op.get_bind() in offline mode), so none of its "
        "statements were checked; it probably reads data or inspects the database while it runs."
    )
    assert finding.help == (
        "Keep data-dependent code to online runs, so the rest of the revision renders offline, and rehearse the "
        "step to measure it:\n"
        "    from alembic import context\n"
        "\n"
        "    if not context.is_offline_mode():\n"
        '        rows = op.get_bind().execute(sa.text("SELECT ...")).all()  # online only'
    )
    assert str(report.step("r2").risk) == "unknown"


def test_an101_good_rendered_step() -> None:
    assert none(lint(ALTER, stats=big()), "AN101")


def test_an102_bad_unparseable_statement_and_the_rest_still_checked() -> None:
    report = lint("CREATE TABLEX t ();\n\nCREATE INDEX ix_providers_tier ON providers (tier)", stats=big())
    finding = only(report, "AN102")
    assert finding.message == (
        'The SQL of r2 could not be parsed: CREATE TABLEX t (); (syntax error at or near "TABLEX", at index 8). '
        "That part was not checked; the rest of the step was."
    )
    assert only(report, "LK101").severity is Severity.BLOCK


def test_an102_good_valid_sql() -> None:
    assert none(lint(ALTER, stats=big()), "AN102")
