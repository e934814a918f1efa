"""Live progress on the console, drawn from the audit events as they are written.

Every line here is derived from an event that is already in the audit log, so
the console never says anything the log doesn't. Each line starts with the
event's time (UTC). A console that goes away (``runner apply | head``, a closed
terminal) never stops the run: the audit log is the record, and it says when the
console was lost.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console

from runner.audit import Event
from runner.audit.describe import describe
from runner.cli.output import console_lost


def console_listener(
    console: Console, on_lost: Callable[[], object] | None = None
) -> Callable[[Event], None]:
    reported: list[bool] = []

    def show(event: Event) -> None:
        line = describe(event.fields) if event.name not in ENDS_SHOWN_BY_THE_COMMAND else None
        if line:
            console.print(f"{_clock(event)} {line}", markup=False)
        if on_lost is not None and not reported and console_lost(console):
            reported.append(True)
            on_lost()

    return show


# The command prints these itself, as its result or its error.
ENDS_SHOWN_BY_THE_COMMAND = {"run_refused"}


def _clock(event: Event) -> str:
    ts = str(event.get("ts") or "")
    return f"{ts[11:19]}Z" if len(ts) >= 19 else "         "
