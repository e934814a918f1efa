"""Which errors a step may be retried after: only a lock wait that gave up (SQLSTATE 55P03).

The step's transaction rolled back, so trying it again is harmless. Statement
timeouts and every other error halt the run. The retry policy itself (how
often, how long) is ``runner.guards.LockRetryPolicy``.
"""

from __future__ import annotations

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
