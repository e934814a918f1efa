"""The live line a terminal shows for the step in flight, drawn from the audit events."""

from __future__ import annotations

from runner.audit import Event
from runner.cli.live import StepInFlight


def test_the_live_line_follows_a_step_through_a_lock_wait_and_a_retry():
    now = [100.0]
    line = StepInFlight(clock=lambda: now[0])
    line.update(Event({"event": "step_started", "revision": "r2", "direction": "upgrade", "attempt": 1}))
    now[0] = 103.25
    line.update(
        Event({"event": "lock_waiting", "waited_ms": 3200, "queued_behind": 4, "blockers": [{"pid": 77}]})
    )
    assert line.__rich__().plain == (
        "  applying r2: 3.2s, waiting for a lock 3.2s behind pid 77, 4 queued behind it"
    )
    line.update(Event({"event": "step_failed", "revision": "r2"}))
    line.update(Event({"event": "retry_scheduled", "wait_s": 0.5, "attempt": 2}))
    assert line.__rich__().plain.endswith("(retry in 0.5s (attempt 2))")
    line.update(Event({"event": "step_started", "revision": "r2", "direction": "upgrade", "attempt": 2}))
    assert line.__rich__().plain == "  applying r2: 0.0s, attempt 2"
    line.update(Event({"event": "step_applied", "revision": "r2"}))
    assert line.__rich__().plain == ""
