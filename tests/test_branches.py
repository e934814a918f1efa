"""A history with two branches and a merge: the pending chain in Alembic's order, one step each."""

from __future__ import annotations

from contextlib import closing

from alembic.config import Config
from alembic.script import ScriptDirectory

from runner.project import AlembicProject
from runner.run import RunStatus
from tests import pg
from tests.conftest import PROJECTS, events_named

INI = PROJECTS / "branches" / "alembic.ini"


def alembic_order(current: tuple[str, ...]) -> list[str]:
    script = ScriptDirectory.from_config(Config(str(INI)))
    return [step.revision.revision for step in script._upgrade_revs("heads", current)]


def recorded_steps(database: str) -> list[tuple[str, int]]:
    with closing(pg.connect(database)) as conn:
        return conn.execute("SELECT revision, txid FROM steps ORDER BY n").fetchall()


def test_pending_chain_matches_alembics_own_order():
    project = AlembicProject.load(INI)
    assert [r.revision for r in project.pending(())] == alembic_order(())
    assert [r.revision for r in project.pending(("b1",))] == alembic_order(("b1",)) == ["b2", "m", "c"]
    merge = project.revision("m")
    assert merge.down_revisions == ("b1", "b2")
    assert merge.down_revision == "b1,b2"


def test_branches_and_merge_are_applied_one_revision_per_transaction(new_db, run_apply):
    database = new_db()
    result, events = run_apply(INI, database)

    assert result.status is RunStatus.DONE
    order = alembic_order(())
    assert [s.revision for s in result.applied] == order
    steps = recorded_steps(database)
    assert [s[0] for s in steps] == order
    assert len({s[1] for s in steps}) == len(order), "two revisions shared a transaction"
    heads_after = [e["heads"] for e in events_named(events, "step_applied")]
    assert heads_after[-1] == ["c"]
    assert ["b1", "b2"] in heads_after, "the two branches were never both heads before the merge"
    assert pg.heads(database) == ["c"]


def test_a_database_on_one_branch_gets_the_other_then_the_merge(new_db, run_apply):
    database = new_db()
    pg.alembic_upgrade(str(INI), database, "b1")

    result, _ = run_apply(INI, database)

    assert [s.revision for s in result.applied] == ["b2", "m", "c"]
    assert pg.heads(database) == ["c"]


def test_a_target_on_one_branch_applies_only_that_branch(new_db, run_apply):
    database = new_db()
    pg.alembic_upgrade(str(INI), database, "a")

    result, _ = run_apply(INI, database, to="b2")

    assert [s.revision for s in result.applied] == ["b2"]
    assert pg.heads(database) == ["b2"]
