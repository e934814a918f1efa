"""The window enforced on real runs (clock injected): refused outside hours, no overrunning step started."""

from __future__ import annotations

import pytest

from runner.errors import ExitCode, Refused
from runner.playbook.schedule import WindowOverride
from runner.run.result import RunStatus
from tests import pg
from tests.conftest import EXAMPLE_HEAD, PRODUCTION_REVISION
from tests.playbook.conftest import FakeClock, at, named

WINDOWED = """
    version: 1
    project:
      alembic_config: {ini}
      from_revision: 20260115_0200
      target_revision: 20260131_0000
    target: {name: staging, environment: staging, url_env: UNUSED_BY_THESE_TESTS}
    window:
      timezone: America/New_York
      days: [tue]
      start: "02:00"
      end: "04:00"
    steps:
      20260115_0300: {estimate: 1s}
      20260127_0100: {estimate: 1s}
      7702d353e5b8: {estimate: 1s}
      20260131_0000: {estimate: 5min}
"""


def test_outside_the_window_the_run_is_refused_and_nothing_changes(
    write_playbook, run_playbook, production_db
):
    """Monday noon: exit 4, the database untouched, the refusal in the audit log."""
    path = write_playbook(WINDOWED)

    with pytest.raises(Refused) as refused:
        run_playbook(path, production_db, clock=FakeClock(at("2026-02-09 12:00")))

    assert refused.value.exit_code is ExitCode.REFUSED
    assert refused.value.message == (
        "The maintenance window (tue 02:00-04:00 America/New_York) is closed; it next opens Tue 2026-02-10 02:00 "
        "EST, in 14h. Nothing was changed."
    )
    assert pg.heads(production_db) == [PRODUCTION_REVISION]
    with pg.connect(production_db) as conn:
        assert conn.execute("SELECT to_regclass('runner_history')").fetchone() == (None,)


def test_a_step_that_would_overrun_the_window_is_not_started(write_playbook, run_playbook, production_db):
    """At 03:56 three 1 s steps run; the 5 min BlueShift step does not start: halted at 7702d353e5b8."""
    path = write_playbook(WINDOWED)

    result, events = run_playbook(path, production_db, clock=FakeClock(at("2026-02-10 03:56")))

    assert result.status is RunStatus.HALTED
    assert result.exit_code is ExitCode.HALTED
    assert pg.heads(production_db) == ["7702d353e5b8"]
    assert [e["revision"] for e in named(events, "step_applied")] == [
        "20260115_0300",
        "20260127_0100",
        "7702d353e5b8",
    ]
    assert not [e for e in named(events, "step_started") if e["revision"] == EXAMPLE_HEAD]
    [deferred] = named(events, "step_deferred")
    assert deferred["revision"] == EXAMPLE_HEAD
    assert result.message == (
        "Stopped: step 20260131_0000 was not started: it is expected to take 5min (playbook estimate), and the "
        "window closes at Tue 2026-02-10 04:00 EST, 4min from now; the rest can run in the next window, from "
        "Tue 2026-02-17 02:00 EST. The database is at 7702d353e5b8, the last completed step."
    )
    assert result.next_step.startswith("run runner apply --playbook ")
    assert result.next_step.endswith(
        " again when the window next opens (Tue 2026-02-17 02:00 EST); it resumes here."
    )


def test_the_halted_run_resumes_in_the_next_window(write_playbook, run_playbook, production_db):
    """The same playbook picks up part-way along its path the following Tuesday."""
    path = write_playbook(WINDOWED)
    run_playbook(path, production_db, clock=FakeClock(at("2026-02-10 03:56")))

    result, events = run_playbook(path, production_db, clock=FakeClock(at("2026-02-17 02:05")))

    assert result.status is RunStatus.DONE
    assert pg.heads(production_db) == [EXAMPLE_HEAD]
    assert [e["revision"] for e in named(events, "step_applied")] == [EXAMPLE_HEAD]


def test_an_overridden_window_runs_and_the_reason_is_audited(write_playbook, run_playbook, production_db):
    """--override-window --reason: the run goes ahead outside hours; who and why are in the audit log."""
    path = write_playbook(WINDOWED)
    override = WindowOverride(
        "INC-4711: BlueShift import blocked, approved by the on-call lead", "ops@bastion"
    )

    result, events = run_playbook(
        path, production_db, clock=FakeClock(at("2026-02-09 12:00")), override=override
    )

    assert result.status is RunStatus.DONE
    [overridden] = named(events, "window_overridden")
    assert overridden["reason"] == "INC-4711: BlueShift import blocked, approved by the on-call lead"
    assert overridden["operator"] == "ops@bastion"
    assert overridden["open"] is False
    assert not named(events, "step_deferred")


def test_a_database_off_the_playbook_path_is_refused(write_playbook, run_playbook, new_db, template_at):
    """A database at 20260108_0100 is not where the reviewed playbook starts: exit 4 before any change."""
    database = new_db(template_at("20260108_0100"))
    path = write_playbook(WINDOWED)

    with pytest.raises(Refused, match="not on the path of the playbook"):
        run_playbook(path, database, clock=FakeClock(at("2026-02-10 02:05")))
    assert pg.heads(database) == ["20260108_0100"]
