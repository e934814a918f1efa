"""Stopping on request: Ctrl-C, SIGTERM (systemd, Kubernetes, CI runners) and SIGHUP (a closed terminal).

All three mean the same thing. Outside a run they end the command at once, as
Ctrl-C always did (nothing has been changed yet). During a run the signal
becomes a *stop request*: the handler only records it and wakes whoever
registered for it (the lock watcher, which cancels the statement in flight from
its own thread), and the run halts at the next step boundary with the step in
flight rolled back. No exception is thrown into the middle of Alembic,
SQLAlchemy or the audit log, so the run always ends at a revision it has read
back.

psycopg2 blocks inside libpq while a statement runs; with its ``wait_select``
callback the wait happens in Python, so the handler runs at once and a
KeyboardInterrupt raised by an application's own handler still cancels the query.
"""

from __future__ import annotations

import importlib.util
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """A stop signal outside a run: the command ends before changing anything."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


class StopRequest:
    """Whether (and by which signal) the operator asked the run in progress to stop."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal_name: str | None = None
        self._listeners: list[Callable[[], None]] = []

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def request(self, signal_name: str) -> None:
        if self._event.is_set():
            return
        self.signal_name = signal_name
        self._event.set()
        for listener in list(self._listeners):
            listener()

    def on_request(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def sleep(self, seconds: float) -> None:
        """A sleep (lock-retry backoff) that ends early when a stop is requested."""
        self._event.wait(max(0.0, seconds))

    def describe(self) -> str:
        name = self.signal_name or "a stop request"
        return "Ctrl-C (SIGINT)" if name == "SIGINT" else name


_active: StopRequest | None = None


def _handle(signum: int, _frame: Any) -> None:
    name = signal.Signals(signum).name
    if _active is not None:
        _active.request(name)
        return
    raise Interrupted(name)


def install_handlers() -> dict[int, Any]:
    """Route SIGINT, SIGTERM and SIGHUP here (main thread only); returns the handlers replaced."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous: dict[int, Any] = {}
    for signum in STOP_SIGNALS:
        with suppress(OSError, ValueError):
            previous[signum] = signal.signal(signum, _handle)
    return previous


def stop_handling_active() -> bool:
    """True inside ``graceful_stop`` (a run in progress)."""
    return _active is not None


def pause(seconds: float) -> bool:
    """Sleep; during a run, end early on a stop request. True when the run was asked to stop."""
    active = _active
    if active is None:
        time.sleep(max(0.0, seconds))
        return False
    active.sleep(seconds)
    return active.requested


def stop_requested() -> bool:
    return _active is not None and _active.requested


def handlers_installed() -> bool:
    return all(signal.getsignal(signum) is _handle for signum in STOP_SIGNALS)


@contextmanager
def graceful_stop() -> Iterator[StopRequest]:
    """While a run is in progress, signals become a stop request instead of an exception."""
    global _active
    outer, _active = _active, StopRequest()
    previous = install_handlers()
    try:
        yield _active
    finally:
        for signum, handler in previous.items():
            with suppress(OSError, ValueError, TypeError):
                signal.signal(signum, handler)
        _active = outer


@contextmanager
def interruptible_waits() -> Iterator[None]:
    if importlib.util.find_spec("psycopg2") is None:
        yield
        return
    import psycopg2.extensions
    import psycopg2.extras

    previous = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(psycopg2.extras.wait_select)
    try:
        yield
    finally:
        psycopg2.extensions.set_wait_callback(previous)
