"""How long each step took in a rehearsal, read from its audit log: one reader for lint and the window.

Every ``step_applied`` event carries the revision and its ``duration_ms``. A log
may hold several rehearsals; the longest time measured for a revision is the one
used, because a rehearsal database is rarely as large or as busy as production
(lint scales its estimates by it, the maintenance window multiplies it by the
playbook's safety factor).
"""

from __future__ import annotations

from pathlib import Path

from runner.audit.reader import records
from runner.errors import InvalidInput


class TimingsError(InvalidInput):
    """The rehearsal log can't be read."""


def step_durations(path: Path, *, missing_ok: bool = False) -> dict[str, int]:
    """The longest measured duration (ms) of each revision applied in the log."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return {}
        raise TimingsError(f"the rehearsal log {path} does not exist yet") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TimingsError(f"the rehearsal log {path} can't be read ({exc})") from None
    longest: dict[str, int] = {}
    for number, event in records(text.split("\n")):  # not splitlines: U+2028 may be in a record
        if event is None:
            raise TimingsError(f"line {number} of the rehearsal log {path} is not a JSON audit event")
        if event.get("event") != "step_applied":
            continue
        revision, duration = event.get("revision"), event.get("duration_ms")
        if isinstance(revision, str) and isinstance(duration, int | float) and duration >= 0:
            longest[revision] = max(longest.get(revision, 0), int(duration))
    return longest
