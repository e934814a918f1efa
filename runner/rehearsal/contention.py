"""Lock contention on purpose: a session holding a lock on a table while the rehearsal runs.

Production's tables are read all the time; a rehearsal on an idle throwaway
database would never see a step wait for its lock. ``--hold-lock TABLE=SECONDS``
opens a session (``application_name`` rehearsal-report-job) that reads the table
inside a transaction, so it holds ACCESS SHARE, the lock a long report holds,
and lets go after the given time, counted from the run's first step (env.py and
lint take a while first): the rehearsal shows the lock waits, the retries and
the blocker named, as the production run would.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql

from runner.errors import ConfigError
from runner.target import DatabaseTarget

APPLICATION_NAME = "rehearsal-report-job"


@dataclass(frozen=True)
class HeldLock:
    table: str
    seconds: float

    def describe(self) -> str:
        return (
            f"a session ({APPLICATION_NAME}) holds ACCESS SHARE on {self.table} until {self.seconds:g}s after "
            "the first step starts"
        )


class Countdown:
    """When the held lock's time starts running: ``start()`` (the first step), at the latest the block's end."""

    def __init__(self) -> None:
        self.started = threading.Event()

    def start(self) -> None:
        self.started.set()


@contextmanager
def holding(target: DatabaseTarget, held: HeldLock | None) -> Iterator[Countdown]:
    """Hold ``held`` on ``target`` until its time has run after ``Countdown.start`` (or the block ends)."""
    countdown = Countdown()
    if held is None:
        yield countdown
        return
    conn = psycopg.connect(**target.connect_kwargs(), application_name=APPLICATION_NAME)
    try:
        name = sql.Identifier(*held.table.split("."))
        conn.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(name)).fetchall()
    except psycopg.Error as exc:
        conn.close()
        raise ConfigError(
            f"--hold-lock {held.table}: the table can't be read on the rehearsal's database "
            f"({exc.diag.message_primary or type(exc).__name__})."
        ) from None
    done = threading.Event()

    def release() -> None:
        while not countdown.started.wait(0.05):
            if done.is_set():
                break
        done.wait(held.seconds)
        with closing(conn):
            conn.rollback()

    releaser = threading.Thread(target=release, name="rehearsal-held-lock", daemon=True)
    releaser.start()
    try:
        yield countdown
    finally:
        done.set()
        releaser.join(timeout=10)
