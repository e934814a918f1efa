"""Retry only what is safe to retry: a lock wait that gave up (SQLSTATE 55P03).

The step's transaction rolled back, so trying it again is harmless. Statement
timeouts and every other error halt the run. Each attempt still runs under its
lock_timeout: there is never a final attempt that waits without one.
"""

from __future__ import annotations

from dataclasses import dataclass

from tenacity import stop_after_attempt, stop_after_delay, wait_random_exponential
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from runner import limits
from runner.durations import format_ms
from runner.errors import ConfigError

LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"  # statement_timeout (or a cancel request)
OBJECT_NOT_IN_PREREQUISITE_STATE = "55P04"  # e.g. an enum value used in the transaction that added it
ACTIVE_SQL_TRANSACTION = "25001"  # e.g. CREATE INDEX CONCURRENTLY inside a transaction


def sqlstate(exc: BaseException | None) -> str | None:
    """The SQLSTATE behind an SQLAlchemy or driver error, whichever driver raised it."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        for attribute in ("sqlstate", "pgcode"):  # psycopg 3 / asyncpg, psycopg2
            code = getattr(exc, attribute, None)
            if isinstance(code, str) and len(code) == 5:
                return code
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return None


def is_lock_timeout(exc: BaseException) -> bool:
    return sqlstate(exc) == LOCK_NOT_AVAILABLE


@dataclass(frozen=True)
class LockRetryPolicy:
    """How often and how long a step waiting on locks is tried again.

    ``attempts`` counts every try of the step, the first included; 1 means no retry.
    """

    attempts: int = 5
    first_wait_s: float = 1.0
    max_wait_s: float = 30.0
    total_s: float = 300.0

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

    def stop(self) -> stop_base:
        return stop_after_attempt(self.attempts) | stop_after_delay(self.total_s)

    def wait(self) -> wait_base:
        """Full-jitter exponential backoff: waiters from several runs don't retry in step."""
        return wait_random_exponential(multiplier=self.first_wait_s, max=self.max_wait_s)
