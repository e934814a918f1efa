"""A step waiting for its lock gives way when the application's queries pile up behind it, then tries again."""

from __future__ import annotations

import threading
import time

from tests import pg
from tests.faults import connect, events, heads, spawn, wait_for, waiting_on


def test_a_step_gives_way_to_twenty_queued_sessions_and_is_retried(
    example_ini, filled_production_db, reader_holding_providers, tmp_path
):
    """20 application sessions queue behind the BlueShift ALTER: it is cancelled long before its 10s
    lock_timeout, retried until the blocker is gone, and no application query waits long."""
    url = pg.url_for(filled_production_db)
    audit = tmp_path / "audit.jsonl"
    stop = threading.Event()
    worst: list[float] = []

    def application() -> None:
        conn = connect(url)
        longest = 0.0
        try:
            while not stop.is_set():
                started = time.monotonic()
                conn.execute("SELECT count(*) FROM providers").fetchone()
                longest = max(longest, time.monotonic() - started)
                time.sleep(0.005)
        finally:
            worst.append(longest)
            conn.close()

    proc = spawn(
        "apply",
        "-c",
        str(example_ini),
        "--yes",
        "--lock-timeout",
        "10s",
        "--queue-limit",
        "5",
        "--lock-attempts",
        "100",
        "--retry-wait",
        "50ms",
        "--retry-max-wait",
        "200ms",
        "--audit-log",
        str(audit),
        env={"DATABASE_URL": url},
    )
    wait_for(lambda: waiting_on(url, "providers"), what="the BlueShift step to wait for its lock")
    sessions = [threading.Thread(target=application) for _ in range(20)]
    for session in sessions:
        session.start()
    wait_for(
        lambda: [e for e in events(audit) if e["event"] == "queue_limit_hit"], what="the step to give way"
    )
    time.sleep(1.0)  # the step keeps trying, and keeps giving way, while the report job holds its lock
    reader_holding_providers.close()
    out, err = proc.communicate(timeout=60)
    stop.set()
    for session in sessions:
        session.join(timeout=10)

    assert proc.returncode == 0, out + err
    assert heads(url) == ["20260131_0000"]
    log = events(audit)
    gave_way = [e for e in log if e["event"] == "queue_limit_hit"]
    assert gave_way and all(e["queued_behind_max"] > 5 for e in gave_way)
    assert not [e for e in log if e["event"] == "lock_timeout_hit"]  # never waited out its 10s
    failed = [e for e in log if e["event"] == "step_failed"]
    assert {e["kind"] for e in failed} == {"queue_limit"}
    assert len(worst) == 20 and max(worst) < 2.0, worst  # against a 10s lock_timeout without the limit
