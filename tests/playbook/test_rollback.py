"""Failure policies against real PostgreSQL: rollback, rollback_to, halt and restore required."""

from __future__ import annotations

from contextlib import closing

from runner.drift.compare import diff
from runner.drift.snapshot import take
from runner.errors import ExitCode
from runner.run.result import RunStatus
from tests import pg
from tests.conftest import EXAMPLE_HEAD, PRODUCTION_REVISION
from tests.playbook.conftest import named

FAILING_BLUESHIFT_CHECK = """
    version: 1
    project:
      alembic_config: {ini}
      from_revision: 20260115_0200
      target_revision: 20260131_0000
    target:
      name: rehearsal
      environment: rehearsal
      url_env: UNUSED_BY_THESE_TESTS
    on_failure: POLICY
    steps:
      20260131_0000:
        checks:
          - column: providers.home_address
            type: varchar(100)        # the migration makes it varchar(200): this check fails
            nullable: true
"""


LOCK_TIMEOUT_PLAYBOOK = """
    version: 1
    project:
      alembic_config: {ini}
      from_revision: 20260115_0200
      target_revision: 20260131_0000
    target: {name: rehearsal, environment: rehearsal, url_env: UNUSED_BY_THESE_TESTS}
    guards:
      lock_timeout: 50ms
      retry: {attempts: 2, first_wait: 1ms, max_wait: 1ms}
    on_failure: rollback
"""


def schema_of(database: str):
    with closing(pg.connect(database)) as conn:
        return take(conn)


def test_failing_check_under_rollback_restores_the_prior_schema(
    write_playbook, run_playbook, production_db, template_at, reversible_ini
):
    """A failed check after 20260131_0000 under rollback leaves a schema equal to a fresh 20260115_0200 one."""
    path = write_playbook(FAILING_BLUESHIFT_CHECK.replace("POLICY", "rollback"), ini=reversible_ini)

    result, events = run_playbook(path, production_db)

    assert result.status is RunStatus.ROLLED_BACK
    assert result.exit_code is ExitCode.ROLLED_BACK
    assert pg.heads(production_db) == [PRODUCTION_REVISION]
    [failed] = named(events, "check_failed")
    assert failed["revision"] == EXAMPLE_HEAD
    assert failed["check"] == "column providers.home_address"
    assert failed["expected"] == "present, type varchar(100), nullable"
    assert failed["found"] == "present, type character varying(200), nullable"
    assert [e["revision"] for e in named(events, "step_reverted")] == [
        "20260131_0000",
        "7702d353e5b8",
        "20260127_0100",
        "20260115_0300",
    ]
    rolled_back = schema_of(production_db)
    fresh = schema_of(template_at(PRODUCTION_REVISION))
    assert diff(rolled_back, fresh, left="rolled-back", right="fresh") == []
    assert rolled_back == fresh


def test_failing_check_under_halt_stays_at_the_last_completed_step(
    write_playbook, run_playbook, production_db
):
    """The same failure under halt leaves the database at 20260131_0000, the step that was checked."""
    path = write_playbook(FAILING_BLUESHIFT_CHECK.replace("POLICY", "halt"))

    result, events = run_playbook(path, production_db)

    assert result.status is RunStatus.HALTED
    assert result.exit_code is ExitCode.HALTED
    assert pg.heads(production_db) == [EXAMPLE_HEAD]
    assert not named(events, "step_reverted")
    [decision] = named(events, "decision_made")
    assert decision["action"] == "halt"
    assert decision["reason"] == (
        "a check after 20260131_0000 failed: column providers.home_address: expected present, type varchar(100), "
        "nullable, found present, type character varying(200), nullable; the playbook's on_failure is halt"
    )
    assert result.message.startswith("Stopped: a check after 20260131_0000 failed")
    assert result.message.endswith("The database is at 20260131_0000, the last completed step.")


def test_rollback_through_the_enum_step_is_restore_required(write_playbook, run_playbook, production_db):
    """Rolling back past the one-way enum step is refused: exit 7, nothing downgraded."""
    path = write_playbook(FAILING_BLUESHIFT_CHECK.replace("POLICY", "rollback"))

    result, events = run_playbook(path, production_db)

    assert result.status is RunStatus.RESTORE_REQUIRED
    assert int(result.exit_code) == 7
    assert "restore required" in result.message
    assert "Rolling back would pass through 20260127_0100" in result.message
    assert "its downgrade() does nothing" in result.message
    assert pg.heads(production_db) == [EXAMPLE_HEAD]
    assert not named(events, "step_reverted")
    [refused] = named(events, "rollback_refused")
    assert refused["revision"] == "20260127_0100"


def test_rollback_to_undoes_only_the_steps_above_it(write_playbook, run_playbook, production_db, template_at):
    """rollback_to: 7702d353e5b8 (the production playbook's choice) undoes only the BlueShift step."""
    text = FAILING_BLUESHIFT_CHECK.replace("POLICY", "halt").replace(
        "      20260131_0000:\n",
        "      20260131_0000:\n        on_failure: rollback\n        rollback_to: 7702d353e5b8\n",
    )
    path = write_playbook(text)

    result, events = run_playbook(path, production_db)

    assert result.status is RunStatus.ROLLED_BACK
    assert pg.heads(production_db) == ["7702d353e5b8"]
    assert [e["revision"] for e in named(events, "step_reverted")] == ["20260131_0000"]
    assert diff(schema_of(production_db), schema_of(template_at("7702d353e5b8"))) == []


def test_a_step_that_times_out_on_a_lock_is_rolled_back_around(
    write_playbook, run_playbook, production_db, reversible_ini
):
    """A lock held by a real second session fails step 4; rollback downgrades steps 1-3 under the same guards."""
    path = write_playbook(LOCK_TIMEOUT_PLAYBOOK, ini=reversible_ini)
    with closing(pg.connect(production_db)) as blocker:
        blocker.execute("BEGIN")
        blocker.execute("LOCK TABLE licenses IN ACCESS SHARE MODE")
        result, events = run_playbook(path, production_db)
        blocker.execute("ROLLBACK")

    assert result.status is RunStatus.ROLLED_BACK
    assert result.failure is not None and result.failure.kind == "lock_timeout"
    assert pg.heads(production_db) == [PRODUCTION_REVISION]
    assert len(named(events, "lock_timeout_hit")) == 2
    [decision] = named(events, "decision_made")
    assert decision["action"] == "rollback"
    assert decision["reason"].startswith("step 20260131_0000 failed: LockNotAvailable")


def test_a_failure_before_any_step_applied_halts_instead_of_rolling_back(
    write_playbook, run_playbook, production_db
):
    """Under rollback, a first step that fails leaves nothing to undo: the run halts at the prior revision."""
    path = write_playbook(LOCK_TIMEOUT_PLAYBOOK)
    with closing(pg.connect(production_db)) as blocker:
        blocker.execute("BEGIN")
        blocker.execute("LOCK TABLE providers IN ACCESS EXCLUSIVE MODE")
        result, events = run_playbook(path, production_db)
        blocker.execute("ROLLBACK")

    assert result.status is RunStatus.HALTED
    assert pg.heads(production_db) == [PRODUCTION_REVISION]
    assert result.failure is not None and result.failure.revision == "20260115_0300"
    [decision] = named(events, "decision_made")
    assert decision["action"] == "halt"
    assert decision["reason"].endswith(
        "the playbook's on_failure is rollback, but this run had not applied any step, so the database is still "
        "at its prior revision 20260115_0200"
    )
