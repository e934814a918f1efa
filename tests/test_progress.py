"""Every console line comes from an audit event, and the events a run writes all read well."""

from __future__ import annotations

from runner.audit import Event
from runner.audit.describe import describe


def test_lock_timeout_line_names_the_blocker_and_the_queue():
    event = Event(
        {
            "event": "lock_timeout_hit",
            "revision": "20260131_0000",
            "lock_timeout": "2s",
            "blockers": [
                {
                    "pid": 42,
                    "state": "idle in transaction",
                    "mode": "AccessShareLock",
                    "relation": "providers",
                    "transaction_age_s": 12.5,
                    "query": "SELECT count(*) FROM providers",
                }
            ],
            "queued_behind_max": 3,
        }
    )
    assert describe(event.fields) == (
        "  lock_timeout (2s) hit on 20260131_0000; blocked by pid 42 (idle in transaction, 12.5s transaction, "
        "AccessShareLock on providers): `SELECT count(*) FROM providers`; 3 session(s) were queued behind it"
    )


def test_every_event_of_a_real_run_renders_without_error(example_ini, production_db, run_apply):
    _, events = run_apply(example_ini, production_db)
    lines = [describe(e) for e in events]
    assert "prior revision recorded: 20260115_0200" in lines
    assert "  applied 20260131_0000 in" in " ".join(filter(None, lines))
    assert describe({"event": "statement_capture_is_not_an_event"}) is None
