"""How long each step is expected to take, for the maintenance window.

The best source is a rehearsal's audit log (``runner.audit.timings``, the same
reader lint uses): the longest time measured for a revision, times the
playbook's safety factor, because a rehearsal database is rarely as large or as
busy as production. A step the rehearsal did not time gets the playbook's own estimate
for it, or the playbook's default; an explicit estimate never lowers a
measured one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from runner.audit.timings import TimingsError, step_durations
from runner.durations import format_ms
from runner.playbook.book import Playbook


@dataclass(frozen=True)
class Estimate:
    ms: int
    source: str  # where the number comes from, in words
    rehearsed_ms: int | None = None  # what the rehearsal measured, when it timed the step

    def describe(self) -> str:
        return f"{format_ms(self.ms)} ({self.source})"

    def short(self) -> str:
        """For a table cell: the number, one word for where it comes from, and the rehearsed time."""
        word = self.source.split()[0]
        rehearsed = f", rehearsed {format_ms(self.rehearsed_ms)}" if self.rehearsed_ms is not None else ""
        return f"{format_ms(self.ms)} ({word}{rehearsed if word != 'rehearsal' else ''})"


class Estimator:
    def __init__(self, playbook: Playbook, measured: Mapping[str, int] | None = None) -> None:
        self.playbook = playbook
        if measured is None:
            log = playbook.timings.rehearsal_log
            measured = step_durations(log, missing_ok=True) if log is not None else {}
        self.measured = dict(measured)

    def estimate(self, revision: str) -> Estimate:
        timings = self.playbook.timings
        given = self.playbook.rules_for(revision).estimate_ms
        if revision in self.measured:
            factor = timings.safety_factor
            scaled = max(1, math.ceil(self.measured[revision] * factor))
            source = f"rehearsal {format_ms(self.measured[revision])} x {factor:g}"
            measured = self.measured[revision]
            if given is not None and given > scaled:
                return Estimate(given, f"playbook estimate, above the {source}", measured)
            return Estimate(scaled, source, measured)
        if given is not None:
            return Estimate(given, "playbook estimate")
        return Estimate(timings.default_estimate_ms, "default estimate, not rehearsed")


__all__ = ["Estimate", "Estimator", "TimingsError"]
