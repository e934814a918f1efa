"""The example chain, applied one revision per transaction, in order, recorded."""

from __future__ import annotations

from contextlib import closing

from runner.database.history import rows_for_run
from runner.guards import GuardPolicy, Guards, LockRetryPolicy
from runner.run.decision import Action, Decision, halt
from runner.run.hooks import StandardHooks
from runner.run.result import RunStatus
from tests import pg
from tests.conftest import EXAMPLE_HEAD, EXAMPLE_PENDING, PRODUCTION_REVISION, events_named


def test_example_chain_applies_each_pending_revision_in_order(example_ini, production_db, run_apply):
    """From production's revision, the four pending steps run in the seed's order and end at the head."""
    result, events = run_apply(example_ini, production_db)

    assert result.status is RunStatus.DONE
    assert [s.revision for s in result.applied] == EXAMPLE_PENDING
    assert [e["revision"] for e in events_named(events, "step_started")] == EXAMPLE_PENDING
    assert [e["revision"] for e in events_named(events, "step_applied")] == EXAMPLE_PENDING
    assert pg.heads(production_db) == [EXAMPLE_HEAD]
    assert result.prior_heads == (PRODUCTION_REVISION,)


def test_prior_revision_and_every_step_are_recorded_in_the_history_table(
    example_ini, production_db, run_apply
):
    """One run row with the prior revision, one step row per revision, all applied by the operator."""
    result, events = run_apply(example_ini, production_db)

    with closing(pg.connect(production_db)) as conn:
        rows = rows_for_run(conn, result.run_id)
    run_row = next(r for r in rows if r["kind"] == "run")
    steps = [r for r in rows if r["kind"] == "step"]
    assert run_row["prior_revision"] == PRODUCTION_REVISION
    assert run_row["outcome"] == "done"
    assert run_row["audit_hash"] == events[-1]["hash"]
    assert [(r["revision"], r["direction"], r["outcome"]) for r in steps] == [
        (rev, "upgrade", "applied") for rev in EXAMPLE_PENDING
    ]
    assert all(r["operator"] == "test-operator" and r["finished_at"] >= r["started_at"] for r in steps)
    assert events_named(events, "revision_recorded")[0]["prior_heads"] == [PRODUCTION_REVISION]


class StopAfter(StandardHooks):
    def __init__(self, revision: str) -> None:
        super().__init__(GuardPolicy.of(Guards(), LockRetryPolicy(attempts=1)))
        self.revision = revision

    def after_step(self, revision, progress, run) -> Decision | None:
        return (
            halt(f"stop requested after {revision.revision}") if revision.revision == self.revision else None
        )


def test_each_step_commits_on_its_own(example_ini, production_db, run_apply):
    """Stopping after the second step leaves exactly two steps committed: one transaction per revision."""
    result, events = run_apply(example_ini, production_db, hooks=StopAfter("20260127_0100"))

    assert result.status is RunStatus.HALTED
    assert pg.heads(production_db) == ["20260127_0100"]
    with closing(pg.connect(production_db)) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        values = [
            r[0] for r in conn.execute("SELECT unnest(enum_range(NULL::coordinator_action_type))::text")
        ]
    assert "provider_credentials" in tables and "coordinator_notification_preferences" not in tables
    assert "stage_changed" in values
    assert events_named(events, "run_halted")[0]["final_heads"] == ["20260127_0100"]


def test_nothing_pending_is_a_successful_no_op(example_ini, new_db, template_at, run_apply):
    """A database already at the head needs nothing and gets nothing."""
    database = new_db(template_at(EXAMPLE_HEAD))
    result, events = run_apply(example_ini, database)

    assert result.status is RunStatus.NOTHING_TO_DO
    assert result.exit_code == 0
    assert not events_named(events, "step_started")


def test_migrating_an_empty_database_from_base(example_ini, new_db, run_apply):
    """A fresh database goes from base to the head, creating the version table on the way."""
    database = new_db()
    result, _ = run_apply(example_ini, database)

    assert result.status is RunStatus.DONE
    assert len(result.applied) == 7
    assert pg.heads(database) == [EXAMPLE_HEAD]


def test_target_revision_stops_the_chain_there(example_ini, production_db, run_apply):
    """--to a middle revision applies up to it and no further."""
    result, _ = run_apply(example_ini, production_db, to="7702d353e5b8")

    assert [s.revision for s in result.applied] == EXAMPLE_PENDING[:3]
    assert pg.heads(production_db) == ["7702d353e5b8"]


class RollBackOnFailure(StandardHooks):
    def __init__(self) -> None:
        super().__init__(GuardPolicy.of(Guards(), LockRetryPolicy(attempts=1)))

    def on_failure(self, failure, progress, run) -> Decision:
        return Decision(Action.ROLLBACK, f"rollback after {failure.revision}")


def test_a_rollback_that_fails_halts_at_the_revision_it_reached(new_db, run_apply):
    """Both failures are reported; each step's transaction rolled back, so the database is still at b1."""
    from tests.conftest import PROJECTS

    database = new_db()
    result, events = run_apply(
        PROJECTS / "broken_rollback" / "alembic.ini", database, hooks=RollBackOnFailure()
    )

    assert result.status is RunStatus.HALTED
    assert result.message == (
        "Step b2 failed: RuntimeError: upgrade broken. The rollback then failed at b1: RuntimeError: "
        "downgrade broken. The database is at b1."
    )
    assert pg.heads(database) == ["b1"]
    with closing(pg.connect(database)) as conn:
        assert conn.execute("SELECT to_regclass('t'), to_regclass('u')").fetchone() == ("t", None)
    assert [e["event"] for e in events_named(events, "rollback_started")] == ["rollback_started"]


class LoseTheRunnersConnection(StandardHooks):
    """After the last step, the runner's own session is killed (a failover, an admin's pg_terminate_backend)."""

    def __init__(self) -> None:
        super().__init__(GuardPolicy.of(Guards(), LockRetryPolicy(attempts=1)))

    def after_step(self, revision, progress, run) -> Decision | None:
        if revision.revision == "20260131_0000":
            with closing(pg.admin()) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", [run.conn.info.backend_pid])
        return None


def test_a_run_whose_own_session_dies_after_the_last_step_reads_back_on_a_new_one(
    example_ini, production_db, run_apply
):
    """Every step committed under the lock; the revision is read back and the run finished on a new session."""
    result, events = run_apply(example_ini, production_db, hooks=LoseTheRunnersConnection())

    assert result.status is RunStatus.DONE
    assert result.final_heads == (EXAMPLE_HEAD,)
    assert not events_named(events, "state_unreadable")
    assert pg.heads(production_db) == [EXAMPLE_HEAD]
    with closing(pg.connect(production_db)) as conn:
        run_row = next(r for r in rows_for_run(conn, result.run_id) if r["kind"] == "run")
    assert run_row["outcome"] == "done"
    assert run_row["audit_hash"] == events[-1]["hash"]
