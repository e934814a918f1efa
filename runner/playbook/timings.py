"""How long each step is expected to take, for the maintenance window.

The best source is a rehearsal's audit log: every ``step_applied`` event there
carries the revision and its ``duration_ms``. The longest time measured for a
revision is taken (a log may hold several rehearsals), times the playbook's
safety factor, because a rehearsal database is rarely as large or as busy as
production. A step the rehearsal did not time gets the playbook's own estimate
for it, or the playbook's default; an explicit estimate never lowers a
measured one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from runner.durations import format_ms
from runner.errors import InvalidInput
from runner.playbook.book import Playbook


@dataclass(frozen=True)
class Estimate:
    ms: int
    source: str  # where the number comes from, in words

    def describe(self) -> str:
        return f"{format_ms(self.ms)} ({self.source})"

    def short(self) -> str:
        """For a table cell: the number and one word for where it comes from."""
        return f"{format_ms(self.ms)} ({self.source.split()[0]})"


class TimingsError(InvalidInput):
    """The rehearsal log named by the playbook can't be read."""


def rehearsal_durations(path: Path, *, missing_ok: bool = False) -> dict[str, int]:
    """The longest measured duration of each revision applied in the log."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        if missing_ok:
            return {}
        raise TimingsError(f"the rehearsal log {path} does not exist yet") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TimingsError(f"the rehearsal log {path} can't be read ({exc})") from None
    longest: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            raise TimingsError(
                f"line {number} of the rehearsal log {path} is not a JSON audit event"
            ) from None
        if not isinstance(event, dict) or event.get("event") != "step_applied":
            continue
        revision, duration = event.get("revision"), event.get("duration_ms")
        if isinstance(revision, str) and isinstance(duration, int | float) and duration >= 0:
            longest[revision] = max(longest.get(revision, 0), int(duration))
    return longest


class Estimator:
    def __init__(self, playbook: Playbook, measured: Mapping[str, int] | None = None) -> None:
        self.playbook = playbook
        if measured is None:
            log = playbook.timings.rehearsal_log
            measured = rehearsal_durations(log, missing_ok=True) if log is not None else {}
        self.measured = dict(measured)

    def estimate(self, revision: str) -> Estimate:
        timings = self.playbook.timings
        given = self.playbook.rules_for(revision).estimate_ms
        if revision in self.measured:
            factor = timings.safety_factor
            scaled = max(1, math.ceil(self.measured[revision] * factor))
            source = f"rehearsal {format_ms(self.measured[revision])} x {factor:g}"
            if given is not None and given > scaled:
                return Estimate(given, f"playbook estimate, above the {source}")
            return Estimate(scaled, source)
        if given is not None:
            return Estimate(given, "playbook estimate")
        return Estimate(timings.default_estimate_ms, "default estimate, not rehearsed")
