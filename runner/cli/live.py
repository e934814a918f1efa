"""A live line at the bottom of a terminal while a step runs: which step, how long, its waits and tries.

Only on a terminal: a pipe or a CI log gets the plain event lines alone
(``progress.console_listener``), which say the same things as they happen.
Like every console line, it is drawn from the audit events; the clock it shows
ticks between them.
"""

from __future__ import annotations

import atexit
import time
from collections.abc import Callable

from rich.console import Console
from rich.live import Live
from rich.text import Text

from runner.audit import Event

_ENDS = {"run_finished", "run_halted", "run_refused"}


class StepInFlight:
    """What the live line shows, updated by each audit event."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.revision: str | None = None
        self.direction = "upgrade"
        self.started = 0.0
        self.attempt = 1
        self.waited_ms = 0
        self.queued = 0
        self.blocker: str | None = None
        self.waiting_for: str | None = None  # a retry's backoff, or sessions in the step's way

    def update(self, event: Event) -> None:
        fields = event.fields
        name = event.name
        if name == "step_started":
            self.revision, self.direction = str(fields.get("revision")), str(fields.get("direction"))
            self.started, self.attempt = self.clock(), int(fields.get("attempt") or 1)
            self.waited_ms, self.queued, self.blocker, self.waiting_for = 0, 0, None, None
        elif name == "lock_waiting":
            self.waited_ms, self.queued = (
                int(fields.get("waited_ms") or 0),
                int(fields.get("queued_behind") or 0),
            )
            blockers = fields.get("blockers") or []
            self.blocker = f"pid {blockers[0].get('pid')}" if blockers else None
        elif name == "retry_scheduled":
            self.waiting_for = f"retry in {fields.get('wait_s')}s (attempt {fields.get('attempt')})"
        elif name in ("step_applied", "step_reverted", "step_failed"):
            self.revision = None if name != "step_failed" else self.revision
        elif name == "blockers_found" and fields.get("wait_ms"):
            self.revision, self.waiting_for = str(fields.get("revision")), "waiting for sessions in its way"
            self.started = self.clock()

    def __rich__(self) -> Text:
        if self.revision is None:
            return Text("")
        verb = "applying" if self.direction == "upgrade" else "reverting"
        line = f"  {verb} {self.revision}: {self.clock() - self.started:.1f}s"
        if self.attempt > 1:
            line += f", attempt {self.attempt}"
        if self.waited_ms:
            line += f", waiting for a lock {self.waited_ms / 1000:.1f}s"
            line += f" behind {self.blocker}" if self.blocker else ""
            line += f", {self.queued} queued behind it" if self.queued else ""
        if self.waiting_for:
            line += f" ({self.waiting_for})"
        return Text(line, style="bold")


def live_listener(console: Console) -> Callable[[Event], None]:
    """A listener that keeps the live line current; it stops drawing when the run ends."""
    status = StepInFlight()
    live = Live(
        status,
        console=console,
        refresh_per_second=4,
        transient=True,
        redirect_stdout=False,  # the console writes to sys.stdout itself: a proxy there would loop
        redirect_stderr=False,
    )
    live.start()
    atexit.register(live.stop)

    def follow(event: Event) -> None:
        status.update(event)
        if event.name in _ENDS:
            live.stop()

    return follow
