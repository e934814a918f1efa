"""The accepted range of every guard and retry setting, in one table.

PostgreSQL takes at most 2147483647 ms (about 24.8 days) for lock_timeout,
statement_timeout and idle_in_transaction_session_timeout, and says so only once
the runner has connected and set them. The ranges here are tighter, say what a
guarded migration can sensibly use, and are checked before anything connects:
on the command line (``--lock-timeout``), in a playbook (``guards.lock_timeout``)
and when the values are built (``Guards``, ``LockRetryPolicy``).
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.durations import format_ms

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS


@dataclass(frozen=True)
class Range:
    """Inclusive bounds of one setting: milliseconds for a duration, else a count."""

    low: int
    high: int
    duration: bool = True
    server_timeout: bool = False  # a PostgreSQL setting, where 0 means no limit at all

    def shown(self, value: float) -> str:
        if not self.duration:
            return str(value)
        text = format_ms(value)
        if value >= 2 * DAY_MS and value % DAY_MS == 0:
            text += f" ({int(value) // DAY_MS} days)"
        return text

    def describe(self) -> str:
        return f"{self.shown(self.low)} to {self.shown(self.high)}"

    def problem(self, value: float) -> str | None:
        """Why ``value`` is refused, as a clause after the value; None when it is accepted."""
        if self.low <= value <= self.high:
            return None
        zero = (
            " (0 means no limit at all, which the runner never uses)"
            if self.server_timeout and value <= 0
            else ""
        )
        return f"is outside the accepted range, {self.describe()}{zero}"


LOCK_TIMEOUT = Range(1, HOUR_MS, server_timeout=True)  # a concurrent index build's profile waits minutes
STATEMENT_TIMEOUT = Range(1, 24 * DAY_MS, server_timeout=True)  # within PostgreSQL's 2147483647 ms
IDLE_IN_TRANSACTION_TIMEOUT = Range(1, 24 * DAY_MS, server_timeout=True)
# tries of a step, the first included (--lock-attempts, retry.attempts)
LOCK_ATTEMPTS = Range(1, 100, duration=False)
# sessions queued behind a step waiting for its lock before it gives way (--queue-limit, retry.queue_limit)
QUEUE_LIMIT = Range(1, 100_000, duration=False)
BLOCKER_WAIT = Range(0, HOUR_MS)  # before a step: wait for the sessions in its way
RETRY_FIRST_WAIT = Range(1, 10 * MINUTE_MS)
RETRY_MAX_WAIT = Range(1, HOUR_MS)
RETRY_BUDGET = Range(1, DAY_MS)

GUARDS = {
    "lock_timeout": LOCK_TIMEOUT,
    "statement_timeout": STATEMENT_TIMEOUT,
    "idle_in_transaction_session_timeout": IDLE_IN_TRANSACTION_TIMEOUT,
}
