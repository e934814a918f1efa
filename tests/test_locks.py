"""Lock and timeout behaviour, with real concurrent sessions and millisecond timeouts."""

from __future__ import annotations

import threading
import time
from contextlib import closing

from runner.guards import Guards, LockRetryPolicy
from runner.run.result import RunStatus
from tests import pg
from tests.conftest import PROJECTS, events_named

FAST_LOCK = Guards(lock_timeout_ms=50, statement_timeout_ms=10_000, idle_in_transaction_timeout_ms=10_000)


def fast_retries(attempts: int) -> LockRetryPolicy:
    return LockRetryPolicy(attempts=attempts, first_wait_s=0.001, max_wait_s=0.002, total_s=60)


def test_lock_timeouts_are_retried_with_the_blocker_named_until_it_lets_go(
    example_ini, filled_production_db, reader_holding_providers, run_apply
):
    """The BlueShift step waits on the reader; retries name its pid; it commits mid-way and the step lands."""
    blocker_pid = reader_holding_providers.info.backend_pid
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            reader_holding_providers.commit()  # the report job finishes while we back off

    result, events = run_apply(
        example_ini, filled_production_db, guards=FAST_LOCK, retry=fast_retries(5), sleep=sleep
    )

    assert result.status is RunStatus.DONE, result.message
    hits = events_named(events, "lock_timeout_hit")
    assert [h["revision"] for h in hits] == ["20260131_0000", "20260131_0000"]
    assert [h["attempt"] for h in hits] == [1, 2]
    blocker = hits[0]["blockers"][0]
    assert blocker["pid"] == blocker_pid
    assert blocker["application_name"] == "report-job"
    assert blocker["relation"] == "providers"
    assert blocker["mode"] == "AccessShareLock"
    assert blocker["state"] == "idle in transaction"
    assert blocker["query"] == "SELECT count(*) FROM providers"
    assert blocker["transaction_age_s"] >= 0
    assert [r["attempt"] for r in events_named(events, "retry_scheduled")] == [2, 3]
    assert len(sleeps) == 2
    applied = {s.revision: s.attempts for s in result.applied}
    assert applied["20260131_0000"] == 3
    assert pg.heads(filled_production_db) == ["20260131_0000"]


def test_a_lock_never_released_halts_at_the_last_completed_step(
    example_ini, filled_production_db, reader_holding_providers, run_apply
):
    """Bounded retries run out: halt at 7702d353e5b8 with 20260131_0000 unapplied, blocker named."""
    result, events = run_apply(example_ini, filled_production_db, guards=FAST_LOCK, retry=fast_retries(3))

    assert result.status is RunStatus.HALTED
    assert int(result.exit_code) == 1
    assert pg.heads(filled_production_db) == ["7702d353e5b8"]
    assert [s.revision for s in result.applied] == ["20260115_0300", "20260127_0100", "7702d353e5b8"]
    assert len(events_named(events, "lock_timeout_hit")) == 3
    assert result.message.startswith("Step 20260131_0000 failed after 3 attempts: LockNotAvailable:")
    assert "The database is at 7702d353e5b8, the last completed step." in result.message
    assert result.next_step.startswith("wait for (or end) the session holding the lock")
    with closing(pg.connect(filled_production_db)) as conn:
        columns = conn.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'providers' AND column_name = 'home_address'"
        ).fetchone()[0]
    assert columns == 0
    halted = events_named(events, "run_halted")[0]
    assert halted["final_heads"] == ["7702d353e5b8"] and halted["exit_code"] == 1


def test_queries_queued_behind_a_waiting_alter_go_through_within_the_lock_timeout(
    example_ini, filled_production_db, reader_holding_providers, run_apply
):
    """While the ALTER waits for its lock, a third session's SELECT queues behind it; lock_timeout frees it."""
    lock_timeout_ms = 1000
    guards = Guards(lock_timeout_ms=lock_timeout_ms, statement_timeout_ms=30_000)
    outcome: dict[str, object] = {}
    runner_thread = threading.Thread(
        target=lambda: outcome.update(
            zip(
                ("result", "events"), run_apply(example_ini, filled_production_db, guards=guards), strict=True
            )
        )
    )
    runner_thread.start()
    with closing(pg.connect(filled_production_db)) as watcher:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # wait for the event: an ungranted lock request on providers
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_locks WHERE relation = 'providers'::regclass AND NOT granted"
            ).fetchone()[0]
            if waiting:
                break
            time.sleep(0.005)
        assert waiting, "the ALTER never queued for its lock"
        with closing(pg.connect(filled_production_db)) as third:
            started = time.monotonic()
            third.execute("SELECT count(*) FROM providers").fetchone()
            waited_ms = (time.monotonic() - started) * 1000
    runner_thread.join(30)

    assert waited_ms < lock_timeout_ms + 500
    assert outcome["result"].status is RunStatus.HALTED
    hit = events_named(outcome["events"], "lock_timeout_hit")[0]
    assert hit["blocked_by"] == [reader_holding_providers.info.backend_pid]
    assert hit["queued_behind_max"] == 1  # the third session's SELECT, stuck behind the ALTER
    assert 0 < hit["lock_waited_ms"] <= lock_timeout_ms


def test_a_statement_timeout_halts_without_any_retry(new_db, run_apply):
    """statement_timeout cancels the slow statement: halted at once, never retried."""
    database = new_db()
    guards = Guards(lock_timeout_ms=1000, statement_timeout_ms=100)

    result, events = run_apply(
        PROJECTS / "slow" / "alembic.ini", database, guards=guards, retry=fast_retries(5)
    )

    assert result.status is RunStatus.HALTED
    assert result.failure.kind == "statement_timeout"
    assert result.failure.sqlstate == "57014"
    assert result.failure.attempts == 1
    assert not events_named(events, "retry_scheduled")
    assert pg.heads(database) == ["s1"]


def test_every_attempt_runs_under_the_lock_timeout(
    example_ini, filled_production_db, reader_holding_providers, run_apply
):
    """There is never a last attempt that waits without a lock_timeout."""
    _, events = run_apply(example_ini, filled_production_db, guards=FAST_LOCK, retry=fast_retries(4))

    attempts = [e for e in events_named(events, "step_started") if e["revision"] == "20260131_0000"]
    assert len(attempts) == 4
    assert all(e["timeouts"]["lock_timeout"] == "50ms" for e in attempts)
    assert all(h["lock_timeout"] == "50ms" for h in events_named(events, "lock_timeout_hit"))
