"""Watching a step that waits for a lock, and the queue that forms behind it.

An ALTER waiting for ACCESS EXCLUSIVE blocks every later query on that table,
even plain SELECTs, until it gets the lock or its lock_timeout ends the wait.
From its own connection, the watcher polls the step's session while the step
is in flight and remembers how long it waited, who blocked it and how many
sessions queued up behind it; the step's audit events carry what it saw.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg

WAIT_SQL = """
SELECT a.wait_event_type = 'Lock',
       pg_blocking_pids(a.pid),
       (SELECT count(*) FROM pg_stat_activity w
         WHERE w.pid <> a.pid AND a.pid = ANY(pg_blocking_pids(w.pid)))
  FROM pg_stat_activity a
 WHERE a.pid = %s
"""


@dataclass
class LockWait:
    """What one step attempt looked like from outside while it ran."""

    waited_ms: int = 0
    blocked_by: list[int] = field(default_factory=list)
    queued_behind_max: int = 0
    _first_seen: float | None = None

    def as_fields(self) -> dict[str, Any]:
        return {
            "lock_waited_ms": self.waited_ms,
            "blocked_by": self.blocked_by,
            "queued_behind_max": self.queued_behind_max,
        }

    @property
    def seen(self) -> bool:
        return self._first_seen is not None


class LockWatcher:
    """A background thread with its own connection; idle unless a step is in flight."""

    def __init__(self, conn: psycopg.Connection, interval_s: float = 0.05) -> None:
        self._conn = conn
        self._interval_s = interval_s
        self._guard = threading.Lock()
        self._pid: int | None = None
        self._wait = LockWait()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="runner-lock-watcher", daemon=True)

    def start(self) -> LockWatcher:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._conn.close()

    def watch(self, pid: int) -> None:
        with self._guard:
            self._pid, self._wait = pid, LockWait()

    def done(self) -> LockWait:
        with self._guard:
            self._pid = None
            return self._wait

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            with self._guard:
                pid, wait = self._pid, self._wait
            if pid is None:
                continue
            try:
                row = self._conn.execute(WAIT_SQL, [pid]).fetchone()
            except psycopg.Error:
                return  # the watcher is an observer: losing it must never stop a run
            if not row or not row[0]:
                continue
            now = time.monotonic()
            with self._guard:
                if wait is not self._wait:
                    continue  # the step moved on while we were asking
                if wait._first_seen is None:
                    wait._first_seen = now
                wait.waited_ms = int((now - wait._first_seen) * 1000)
                wait.blocked_by = sorted(set(wait.blocked_by) | set(row[1] or []))
                wait.queued_behind_max = max(wait.queued_behind_max, int(row[2]))
