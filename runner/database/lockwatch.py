"""Watching a step that waits for a lock, and the queue that forms behind it.

An ALTER waiting for ACCESS EXCLUSIVE blocks every later query on that table,
even plain SELECTs, until it gets the lock or its lock_timeout ends the wait.
From its own connection, the watcher polls the step's session once the step
has been in flight for one polling interval (a step that is over sooner never
costs a query) and remembers how long it waited, who blocked it and how many
sessions queued up behind it; the step's audit events carry what it saw, and
every few seconds of waiting it reports progress so the operator is not left
staring at a silent terminal.

It is also the hand that stops a step: a signal handler may not do I/O, so on
a stop request the watcher cancels the statement in flight from its own thread
(the driver's cancel request when env.py's driver offers one, else
``pg_cancel_backend``), again and again until the step has ended; and when more
sessions queue behind a waiting step than its ``queue_limit`` allows, it
cancels the step the same way so the application's queries go through (the
step is then retried as after a lock timeout).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from runner import tuning
from runner.redact import redact

WAIT_SQL = """
SELECT a.wait_event_type = 'Lock',
       pg_blocking_pids(a.pid),
       (SELECT count(*) FROM pg_stat_activity w
         WHERE w.pid <> a.pid AND a.pid = ANY(pg_blocking_pids(w.pid)))
  FROM pg_stat_activity a
 WHERE a.pid = %s
"""

BLOCKING_SESSIONS_SQL = """
SELECT pid, state, left(query, 200),
       round(extract(epoch FROM clock_timestamp() - xact_start)::numeric, 1)::float8
  FROM pg_stat_activity WHERE pid = ANY(%s) ORDER BY xact_start NULLS LAST, pid
"""

CANCEL_EVERY_S = 0.1


@dataclass
class LockWait:
    """What one step attempt looked like from outside while it ran."""

    waited_ms: int = 0
    blocked_by: list[int] = field(default_factory=list)
    queued_behind_max: int = 0
    gave_way: tuple[int, int] | None = None  # (sessions queued, the limit) when the step was made to give way
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


@dataclass(frozen=True)
class WaitProgress:
    """A step still waiting for its lock, as the operator should hear about it."""

    pid: int
    waited_ms: int
    queued_behind: int
    blockers: list[dict[str, Any]]


ProgressListener = Callable[[WaitProgress], None]
Canceller = Callable[[], None]


class LockWatcher:
    """A background thread with its own connection; idle unless a step is in flight."""

    def __init__(
        self,
        conn: psycopg.Connection,
        interval_s: float = 0.05,
        *,
        on_progress: ProgressListener | None = None,
        progress_every_s: float | None = None,
    ) -> None:
        self._conn = conn
        self._interval_s = interval_s
        self._on_progress = on_progress
        self._progress_every_s = (
            tuning.number(tuning.LOCK_WAIT_REPORT_S) if progress_every_s is None else progress_every_s
        )
        self._guard = threading.Lock()
        self._pid: int | None = None
        self._cancel: Canceller | None = None
        self._queue_limit: int | None = None
        self._wait = LockWait()
        self._last_progress = 0.0
        self._since = 0.0  # when the step in flight started; it is first looked at one interval later
        self._cancelling = False
        self._last_cancel = 0.0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="runner-lock-watcher", daemon=True)

    def start(self) -> LockWatcher:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)
        self._conn.close()

    def watch(self, pid: int, cancel: Canceller | None = None, queue_limit: int | None = None) -> None:
        """Watch the step running on backend ``pid``; past ``queue_limit`` queued sessions, cancel it."""
        with self._guard:
            self._pid, self._cancel, self._wait = pid, cancel, LockWait()
            self._queue_limit = queue_limit
            self._last_progress = self._since = time.monotonic()

    def gave_way(self) -> tuple[int, int] | None:
        """(sessions queued, limit) if the step in flight was cancelled for its queue; None otherwise."""
        with self._guard:
            return self._wait.gave_way

    def done(self) -> LockWait:
        with self._guard:
            self._pid, self._cancel = None, None
            return self._wait

    def cancel_in_flight(self) -> None:
        """From now on, cancel whatever step is in flight (called on a stop request)."""
        self._cancelling = True
        self._wake.set()

    # -- the thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        watching = True
        while not self._stop.is_set():
            self._wake.wait(self._interval_s)
            self._wake.clear()
            with self._guard:
                pid, cancel, wait, since = self._pid, self._cancel, self._wait, self._since
            if pid is None:
                continue
            if watching and time.monotonic() - since >= self._interval_s:
                try:
                    self._observe(pid, wait)
                except psycopg.Error:
                    watching = False  # the watcher is an observer: losing it must never stop a run
            if self._cancelling or wait.gave_way is not None:
                self._cancel_step(pid, cancel)

    def _observe(self, pid: int, wait: LockWait) -> None:
        row = self._conn.execute(WAIT_SQL, [pid]).fetchone()
        if not row or not row[0]:
            return
        now = time.monotonic()
        with self._guard:
            if wait is not self._wait:
                return  # the step moved on while we were asking
            if wait._first_seen is None:
                wait._first_seen = now
            wait.waited_ms = int((now - wait._first_seen) * 1000)
            wait.blocked_by = sorted(set(wait.blocked_by) | set(row[1] or []))
            wait.queued_behind_max = max(wait.queued_behind_max, int(row[2]))
            limit = self._queue_limit
            if limit is not None and int(row[2]) > limit and wait.gave_way is None:
                wait.gave_way = (int(row[2]), limit)  # the thread cancels it from now on, until the step ends
            report = self._on_progress is not None and now - self._last_progress >= self._progress_every_s
            if report:
                self._last_progress = now
        if report and self._on_progress is not None:
            blockers = [
                {"pid": b[0], "state": b[1], "query": redact(b[2] or ""), "transaction_age_s": b[3]}
                for b in self._conn.execute(BLOCKING_SESSIONS_SQL, [list(row[1] or [])]).fetchall()
            ]
            self._on_progress(WaitProgress(pid, wait.waited_ms, int(row[2]), blockers))

    def _cancel_step(self, pid: int, cancel: Canceller | None) -> None:
        now = time.monotonic()
        if now - self._last_cancel < CANCEL_EVERY_S:
            return
        self._last_cancel = now
        try:
            if cancel is not None:
                cancel()
            else:
                self._conn.execute("SELECT pg_cancel_backend(%s)", [pid])
        except Exception:  # a cancel is best effort; the step boundary check still stops the run
            pass
