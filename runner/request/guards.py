"""Which limits and retries each step runs under, and where they came from: decided in one place.

The order, lowest first, is the same for the command line, a playbook, a
rehearsal and a resume:

1. the runner's defaults (``Guards()``, ``LockRetryPolicy()``);
2. the run-wide settings: command-line flags, or the playbook's ``guards:``
   (a playbook run refuses guard flags, so there is never a contest between them);
3. lint's timeout profile, for a step that needs more than the short-lock
   default (a concurrent index build waits minutes for old snapshots, and a
   2 s lock_timeout written for ordinary DDL would fail it every time);
4. the playbook's own settings for that step (``steps.REV.guards`` or
   ``steps.REV.profile``): reviewed for this step, so they win.

``plan`` prints the result for every step, with its source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from runner.durations import format_ms
from runner.guards import Guards
from runner.run.retry import LockRetryPolicy

DEFAULTS = "runner defaults"


@dataclass(frozen=True)
class StepSettings:
    """The limits and the lock-retry policy for one step, and where they came from, in words."""

    guards: Guards
    retry: LockRetryPolicy
    source: str

    def describe(self) -> str:
        g = self.guards
        return (
            f"lock {format_ms(g.lock_timeout_ms)}, statement {format_ms(g.statement_timeout_ms)}, "
            f"{self.retry.attempts} attempt(s) ({self.source})"
        )


@dataclass(frozen=True)
class GuardPolicy:
    """The run-wide settings and the steps that have their own; ``for_step`` is the only resolver."""

    run_wide: StepSettings = field(
        default_factory=lambda: StepSettings(Guards(), LockRetryPolicy(), DEFAULTS)
    )
    steps: Mapping[str, StepSettings] = field(default_factory=dict)

    @classmethod
    def of(cls, guards: Guards, retry: LockRetryPolicy, source: str = DEFAULTS) -> GuardPolicy:
        """One setting for every step (lint may still raise a step's limits)."""
        return cls(StepSettings(guards, retry, source))

    def for_step(self, revision: str, lint_profile: tuple[str, Guards] | None = None) -> StepSettings:
        """What ``revision`` runs under, given lint's profile for it (None: the short-lock default)."""
        own = self.steps.get(revision)
        if own is not None:
            return own
        if lint_profile is not None:
            name, guards = lint_profile
            return StepSettings(guards, self.run_wide.retry, f"lint profile {name}")
        return self.run_wide
