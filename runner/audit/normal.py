"""Audit records as the readers may take them: redacted, every field they look into in its shape.

A log can be damaged or forged and still verify (a chain rebuilt after an
edit). The reports and ``runner resume`` read it through here: a record
without a time takes its neighbour's, and a field of the wrong shape reads as
missing, so no reader fails on what a runner never writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from runner.redact import redact

Event = dict[str, Any]


def normal_events(events: Sequence[Event], run_id: str) -> tuple[Event, ...]:
    """``run_id``'s records, redacted and normalised, in order."""
    return _timed(tuple(_normal(scrubbed(e)) for e in events if str(e.get("run_id")) == run_id))


# The fields every reader of a record may take for granted; a damaged or forged record gets them here.
_ALWAYS = {"ts": "", "event": "", "seq": None, "hash": ""}


# Fields the readers look into, with the shape a runner writes them in; a record whose field has another
# shape (a damaged or forged log that still verifies) is read as if the field were missing.
_MAPPINGS = ("server", "request", "counts", "session", "upgrade_again", "timeouts", "lock_retry", "versions")
_LISTS = ("final_heads", "prior_heads", "notes", "differences", "blocked_by")
_LISTS_OF_MAPPINGS = ("blockers", "statements", "steps", "sessions", "details")
# Where a record names the same field with another shape: the plan lists its steps as revisions.
_LISTS_OF_TEXT = {("plan_made", "steps")}


def _normal(event: Event) -> Event:
    """``event`` with the fields every record has, as text, and the fields readers look into in their shape."""
    fixed = {**_ALWAYS, **event}
    for name in ("ts", "event", "hash"):
        fixed[name] = str(fixed[name]) if fixed[name] is not None else ""
    for name in _MAPPINGS:
        if name in fixed and not isinstance(fixed[name], dict):
            del fixed[name]
    for name in (*_LISTS, *_LISTS_OF_MAPPINGS):
        if name in fixed and not isinstance(fixed[name], list):
            del fixed[name]
    for name in _LISTS_OF_MAPPINGS:
        if name in fixed:
            shape = str if (fixed["event"], name) in _LISTS_OF_TEXT else dict
            fixed[name] = [item for item in fixed[name] if isinstance(item, shape)]
    return fixed


def _timed(events: tuple[Event, ...]) -> tuple[Event, ...]:
    """A record whose time can't be read takes the time before it (or after it, for the first ones)."""
    good = [e["ts"] for e in events if readable_time(e["ts"])]
    last = good[0] if good else ""  # no time at all: shown as none, and no timeline is drawn
    timed = []
    for event in events:
        if readable_time(event["ts"]):
            last = event["ts"]
        else:
            event = {**event, "ts": last}
        timed.append(event)
    return tuple(timed)


def readable_time(value: str) -> bool:
    try:
        return timestamp(value).tzinfo is not None
    except ValueError:
        return False


def scrubbed(value: Any) -> Any:
    """``value`` with the redactor applied to every string in it."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: scrubbed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrubbed(v) for v in value]
    return value


def timestamp(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
