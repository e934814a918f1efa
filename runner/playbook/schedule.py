"""The window applied to a plan: may the run start, may this step start, what to tell the operator.

``window`` knows when the window is open; this module adds the steps' expected
durations and the operator's override, and words the answers. The hooks ask
it before the run and before each step; ``runner plan`` asks it for the same
picture ahead of time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from runner.durations import format_ms
from runner.errors import Refused
from runner.planning.revisions import Revision
from runner.playbook.timings import Estimate, Estimator
from runner.playbook.window import Clock, Window, span, utc_now


@dataclass(frozen=True)
class WindowOverride:
    """The operator's ``--override-window --reason``: the window is not enforced for this run."""

    reason: str
    operator: str


@dataclass(frozen=True)
class Deferral:
    """A step the window leaves no room for: the run halts before it."""

    revision: str
    reason: str  # a clause, for the executor's "Stopped: ..." message
    estimate: Estimate
    closes: str | None


class Schedule:
    def __init__(
        self,
        window: Window | None,
        estimator: Estimator,
        *,
        clock: Clock = utc_now,
        override: WindowOverride | None = None,
    ) -> None:
        self.window = window
        self.estimator = estimator
        self.clock = clock
        self.override = override

    @property
    def enforced(self) -> bool:
        return self.window is not None and self.override is None

    def total_ms(self, plan: Sequence[Revision]) -> int:
        return sum(self.estimator.estimate(r.revision).ms for r in plan)

    def refusal(self, plan: Sequence[Revision], now: datetime | None = None) -> Refused | None:
        """Why the run can't start now (closed, or the first step doesn't fit); None when it can."""
        window = self.window
        if window is None or self.override is not None or not plan:
            return None
        now = now or self.clock()
        opening = window.current(now)
        if opening is None:
            return Refused(
                f"{window.closed_message(now)}. Nothing was changed.",
                next_step='run the same command inside the window, or add --override-window --reason "..." '
                "if this run can't wait (the reason goes into the audit log).",
            )
        first = plan[0].revision
        estimate = self.estimator.estimate(first)
        if window.fits(opening, now, estimate.ms):
            return None
        return Refused(
            f"The first step {first} is expected to take {estimate.describe()}, which does not fit in the "
            f"{span(opening.remaining_ms(now))} left before the window closes at {window.local(opening.closes)}"
            f"{_margin(window.finish_margin_ms)}. Nothing was changed.",
            next_step="run the same command at the start of the next window.",
        )

    def deferral(self, revision: str) -> Deferral | None:
        """A halt before ``revision`` when the window has closed or the step would overrun its end."""
        window = self.window
        if window is None or self.override is not None:
            return None
        now = self.clock()
        opening = window.current(now)
        estimate = self.estimator.estimate(revision)
        if opening is not None and window.fits(opening, now, estimate.ms):
            return None
        following = window.next_opening(now)
        later = (
            f"; the rest can run in the next window, from {window.local(following.opens)}"
            if following
            else ""
        )
        if opening is None:
            reason = f"the maintenance window ({window.describe()}) closed before step {revision}{later}"
            return Deferral(revision, reason, estimate, None)
        reason = (
            f"step {revision} was not started: it is expected to take {estimate.describe()}, and the window "
            f"closes at {window.local(opening.closes)}, {span(opening.remaining_ms(now))} from now"
            f"{_margin(window.finish_margin_ms)}{later}"
        )
        return Deferral(revision, reason, estimate, window.local(opening.closes))

    def status(self, plan: Sequence[Revision], now: datetime | None = None) -> str:
        """One line for the plan: the window, whether it is open, and whether the plan fits."""
        window = self.window
        total = format_ms(self.total_ms(plan)) if plan else "0s"
        if window is None:
            return f"no maintenance window; the steps are estimated at {total} in all"
        now = now or self.clock()
        opening = window.current(now)
        overridden = " (overridden for this run)" if self.override is not None else ""
        if opening is None:
            return f"{window.closed_message(now)}{overridden}; the steps are estimated at {total} in all"
        left = opening.remaining_ms(now)
        fits = "fit" if self.total_ms(plan) + window.finish_margin_ms <= left else "do NOT all fit"
        return (
            f"{window.describe()} is open until {window.local(opening.closes)} ({span(left)} left){overridden}; "
            f"the steps are estimated at {total} in all and {fits}"
        )


def _margin(ms: int) -> str:
    return f" (less the {format_ms(ms)} finish margin)" if ms else ""
