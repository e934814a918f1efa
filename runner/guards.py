"""The limits a step runs under, how its lock waits are retried, and which settings apply to each step.

``Guards`` (server-side timeouts) and ``LockRetryPolicy`` are checked against
their accepted ranges (``runner.limits``) the moment they are built, so a value
that got this far is one the runner will set and read back. Lint, playbooks,
requests and the run all import them from here.

Which settings a step runs under is decided by ``GuardPolicy.for_step`` alone,
in one order, lowest first, the same for the command line, a playbook, a
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
from typing import TYPE_CHECKING

from runner import limits
from runner.durations import format_ms
from runner.errors import ConfigError

if TYPE_CHECKING:  # tenacity is imported when a retry is built: lint and plan only read the settings
    from tenacity.stop import stop_base
    from tenacity.wait import wait_base


@dataclass(frozen=True)
class Guards:
    """Server-side limits for one step, each within its range in ``limits`` (0, 'wait forever', never)."""

    lock_timeout_ms: int = 2_000
    statement_timeout_ms: int = 60_000
    idle_in_transaction_timeout_ms: int = 60_000

    def __post_init__(self) -> None:
        for name, value in self.settings_ms().items():
            problem = limits.GUARDS[name].problem(value)
            if problem is not None:
                raise ConfigError(f"{name} {format_ms(value)} {problem}.")

    def settings_ms(self) -> dict[str, int]:
        return {
            "lock_timeout": self.lock_timeout_ms,
            "statement_timeout": self.statement_timeout_ms,
            "idle_in_transaction_session_timeout": self.idle_in_transaction_timeout_ms,
        }

    def pgoptions(self) -> str:
        """The same limits for PGOPTIONS: a second layer for connections env.py opens."""
        return " ".join(f"-c {name}={ms}ms" for name, ms in self.settings_ms().items())

    def describe(self) -> str:
        return ", ".join(f"{name} {format_ms(ms)}" for name, ms in self.settings_ms().items())


@dataclass(frozen=True)
class LockRetryPolicy:
    """How often and how long a step waiting on locks is tried again, and when it gives way early.

    ``attempts`` counts every try of the step, the first included; 1 means no retry.
    ``queue_limit``: while the step waits for its lock, every later query on that table
    queues behind it; once more than this many sessions wait, the step gives way
    (cancelled, rolled back) and is retried as after a lock timeout. None: it waits
    out its lock_timeout.
    """

    attempts: int = 5
    first_wait_s: float = 1.0
    max_wait_s: float = 30.0
    total_s: float = 300.0
    queue_limit: int | None = None

    def __post_init__(self) -> None:
        problem = limits.LOCK_ATTEMPTS.problem(self.attempts)
        if problem is not None:
            raise ConfigError(f"Lock retry attempts {self.attempts} {problem}.")
        for name, seconds, accepted in (
            ("first wait", self.first_wait_s, limits.RETRY_FIRST_WAIT),
            ("longest wait", self.max_wait_s, limits.RETRY_MAX_WAIT),
            ("budget", self.total_s, limits.RETRY_BUDGET),
        ):
            problem = accepted.problem(round(seconds * 1000))
            if problem is not None:
                raise ConfigError(f"Lock retry {name} {format_ms(round(seconds * 1000))} {problem}.")
        if self.queue_limit is not None:
            problem = limits.QUEUE_LIMIT.problem(self.queue_limit)
            if problem is not None:
                raise ConfigError(f"Queue limit {self.queue_limit} {problem}.")

    def stop(self) -> stop_base:
        from tenacity import stop_after_attempt, stop_after_delay

        return stop_after_attempt(self.attempts) | stop_after_delay(self.total_s)

    def wait(self) -> wait_base:
        """Full-jitter exponential backoff: waiters from several runs don't retry in step."""
        from tenacity import wait_random_exponential

        return wait_random_exponential(multiplier=self.first_wait_s, max=self.max_wait_s)


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
