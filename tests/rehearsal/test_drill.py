"""The rollback drill: each downgrade compared with the schema before its upgrade, then upgraded again."""

from __future__ import annotations

import json
from contextlib import closing

import pytest

from runner.database import connections as db
from runner.planning.migrate import migrate
from runner.planning.project import AlembicProject
from runner.rehearsal.baselines import BaselineRecorder
from runner.rehearsal.drill import DrillRefused, drill
from runner.rehearsal.drill_result import StepStatus, UpgradeStatus
from runner.rehearsal.starting import migrate_to
from runner.throwaway.markers import DIRECTORY_ENV
from runner.throwaway.targets import throwaway_target
from tests import pg
from tests.conftest import EXAMPLE_HEAD, EXAMPLE_INI, EXAMPLE_PENDING, PRODUCTION_REVISION
from tests.projects.generate import write_project

FORGETFUL = [
    (
        "a1",
        """
        op.execute("CREATE TYPE mood AS ENUM ('calm', 'busy')")
        op.execute("CREATE TABLE widgets (id int PRIMARY KEY, name text, mood mood)")
        """,
        'op.execute("DROP TABLE widgets"); op.execute("DROP TYPE mood")',
    ),
    (
        "a2",
        """
        op.add_column("widgets", sa.Column("note", sa.Text()))
        op.add_column("widgets", sa.Column("color", sa.Text()))
        op.create_index("ix_widgets_name", "widgets", ["name"])
        """,
        'op.drop_column("widgets", "color")',  # forgets the note column and the index
    ),
    (
        "a3",
        """
        op.execute("ALTER TYPE mood ADD VALUE 'frantic'")
        op.create_check_constraint("ck_widgets_id", "widgets", "id > 0")
        """,
        'op.drop_constraint("ck_widgets_id", "widgets")',  # the enum value can't go, and is not marked one-way
    ),
]


@pytest.fixture(autouse=True)
def own_markers(tmp_path, monkeypatch):
    monkeypatch.setenv(DIRECTORY_ENV, str(tmp_path / "markers"))


@pytest.fixture
def fresh():
    with throwaway_target("server", server_url=pg.ADMIN_URL) as target:
        yield target.new_database("drill")


def upgrade_recording(project, target, revisions):
    """Upgrade one step at a time, the schema recorded before each, as a rehearsal's run does."""
    recorder = BaselineRecorder(target)
    for revision in revisions:
        recorder.before(revision)
        migrate(project, target, [revision], purpose="the test can't upgrade")
    return recorder.baselines


def heads(target):
    with closing(db.connect(target)) as conn:
        return db.read_heads(conn, db.VersionTable())


def test_a_downgrade_that_forgets_a_column_and_an_index_is_caught_naming_both(fresh, tmp_path):
    """Each mismatch names what was left behind (column, index, enum value), and the upgrade again fails."""
    project = AlembicProject.load(write_project(tmp_path / "forgetful", FORGETFUL))
    migrate_to(project, fresh, "a1")
    baselines = upgrade_recording(project, fresh, ["a2", "a3"])

    result = drill(project, fresh, ["a2", "a3"], baselines)

    newest, older = result.steps
    assert (newest.revision, newest.status) == ("a3", StepStatus.MISMATCH)
    assert newest.sentences == (
        "enum public.mood: value 'frantic' is there after the downgrade but was not before the upgrade",
    )
    assert (older.revision, older.status) == ("a2", StepStatus.MISMATCH)
    assert older.sentences == (
        "column public.widgets.note is there after the downgrade but was not before the upgrade",
        "index public.ix_widgets_name is there after the downgrade but was not before the upgrade",
    )
    assert older.describe() == (
        "a2: the downgrade did not restore the schema: column public.widgets.note is there after the downgrade "
        "but was not before the upgrade; index public.ix_widgets_name is there after the downgrade but was not "
        "before the upgrade"
    )
    assert result.upgrade_again.status is UpgradeStatus.FAILED
    assert result.upgrade_again.error.startswith("a2: ProgrammingError: ")
    assert 'column "note" of relation "widgets" already exists' in result.upgrade_again.error
    assert not result.clean and result.start == ("a1",) and result.not_reached == ()
    event = json.loads(json.dumps(result.as_event()))
    assert event["steps"][1]["details"][0]["kind"] == "column" and event["clean"] is False


def test_the_example_chain_drills_cleanly_up_to_its_one_way_enum_step(fresh):
    """20260131_0000 and 7702d353e5b8 revert exactly; the enum step stops the drill; upgraded again, same schema."""
    project = AlembicProject.load(EXAMPLE_INI)
    migrate_to(project, fresh, PRODUCTION_REVISION)
    baselines = upgrade_recording(project, fresh, EXAMPLE_PENDING)

    result = drill(project, fresh, EXAMPLE_PENDING, baselines)

    assert [(s.revision, s.status) for s in result.steps] == [
        ("20260131_0000", StepStatus.REVERTED),
        ("7702d353e5b8", StepStatus.REVERTED),
        ("20260127_0100", StepStatus.ONE_WAY),
    ]
    assert result.steps[2].describe() == (
        "20260127_0100: one-way (its downgrade() does nothing); not downgraded, the drill stops before it"
    )
    assert result.stopped_before == "20260127_0100" and result.not_reached == ("20260115_0300",)
    assert result.upgrade_again.status is UpgradeStatus.SAME
    assert result.upgrade_again.revisions == ("7702d353e5b8", "20260131_0000")
    assert result.clean and result.start == (PRODUCTION_REVISION,)
    assert heads(fresh) == (EXAMPLE_HEAD,)


def test_a_downgrade_that_raises_ends_the_drill_and_a_marked_step_is_not_attempted(fresh, tmp_path):
    """A failing downgrade stops the drill (nothing upgraded again); a step the caller marks one-way is skipped."""
    project = AlembicProject.load(
        write_project(
            tmp_path / "broken",
            [
                ("b1", 'op.execute("CREATE TABLE t (id int)")', 'op.execute("DROP TABLE t")'),
                ("b2", 'op.execute("CREATE TABLE u (id int)")', 'raise RuntimeError("downgrade broken")'),
                ("b3", 'op.execute("CREATE TABLE v (id int)")', 'op.execute("DROP TABLE v")'),
            ],
        )
    )
    baselines = upgrade_recording(project, fresh, ["b1", "b2", "b3"])

    marked = drill(
        project, fresh, ["b1", "b2", "b3"], baselines, marked_one_way={"b3": "an enum value added"}
    )
    assert [(s.revision, s.status, s.reason) for s in marked.steps] == [
        ("b3", StepStatus.ONE_WAY, "an enum value added")
    ]
    assert marked.not_reached == ("b2", "b1") and marked.upgrade_again.status is UpgradeStatus.SKIPPED

    failed = drill(project, fresh, ["b1", "b2", "b3"], baselines)
    assert [(s.revision, s.status) for s in failed.steps] == [
        ("b3", StepStatus.REVERTED),
        ("b2", StepStatus.FAILED),
    ]
    assert failed.steps[1].describe() == "b2: the downgrade failed: RuntimeError: downgrade broken"
    assert failed.not_reached == ("b1",)
    assert failed.upgrade_again.describe() == (
        "not upgraded again: a downgrade failed, so the database's state is unknown"
    )
    assert heads(fresh) == ("b2",)


def test_the_drill_refuses_a_database_elsewhere_or_a_step_without_a_baseline(fresh, tmp_path):
    """Nothing is downgraded when the database is not where the steps end, or a schema was not recorded."""
    project = AlembicProject.load(write_project(tmp_path / "p", FORGETFUL))
    baselines = upgrade_recording(project, fresh, ["a1"])
    with pytest.raises(DrillRefused) as elsewhere:
        drill(project, fresh, ["a1", "a2"], baselines)
    assert elsewhere.value.message == (
        f"The rollback drill starts where the steps end, at a2, but {fresh.display} is at a1; nothing was "
        "downgraded."
    )
    migrate(project, fresh, ["a2"], purpose="the test can't upgrade")
    with pytest.raises(DrillRefused) as unrecorded:
        drill(project, fresh, ["a1", "a2"], baselines)
    assert unrecorded.value.message.startswith(
        "No schema was recorded before the upgrade of a2, so a downgrade"
    )
    assert heads(fresh) == ("a2",)
