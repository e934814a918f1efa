"""Is a process still there, and is it still the same process: what reaping a dead owner's leftovers needs.

A pid alone is not an identity: once a process has ended, the kernel may give
its number to another. Where ``/proc`` exists, a process is also known by its
start time (field 22 of ``/proc/PID/stat``, in clock ticks since boot), so a
marker whose owner died is not kept alive by a stranger that got the same pid.
A zombie (ended, not yet waited for) counts as gone.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name; None without /proc or without the process."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()  # the name may hold spaces and parentheses


def start_ticks(pid: int) -> str | None:
    fields = _stat_fields(pid)
    return fields[19] if fields and len(fields) > 19 else None


def exists(pid: int) -> bool:
    """The process is running (not a zombie); a process of another user counts as running."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    fields = _stat_fields(pid)
    return not (fields and fields[0] in ("Z", "X"))


def command_line(pid: int) -> str | None:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None


@dataclass(frozen=True)
class Owner:
    """A process, as a marker names it: its pid and (where /proc tells) when it started."""

    pid: int
    started: str | None = None

    @classmethod
    def me(cls) -> Owner:
        return cls(os.getpid(), start_ticks(os.getpid()))

    def alive(self) -> bool:
        if not exists(self.pid):
            return False
        return self.started is None or start_ticks(self.pid) in (None, self.started)


def end_process(
    pid: int,
    *,
    first: signal.Signals = signal.SIGQUIT,
    patience_s: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Send ``first`` (SIGQUIT: PostgreSQL's immediate shutdown), then SIGKILL if it outlives ``patience_s``.

    True once the process is gone; it need not be our child, so it is polled rather than waited for.
    """
    for signum, wait_s in ((first, patience_s), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if not exists(pid):
                return True
            sleep(0.02)
    return not exists(pid)
