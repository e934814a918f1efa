"""Where every environment stands against the code: revision, steps behind, how old the gap is.

Each environment is named by the environment variable that holds its URL, never
by a URL on the command line. They are read in parallel, each on a connection of
its own with short lock and statement timeouts, and one that can't be read (the
variable unset, the server down, a revision this checkout does not know) is
reported as such while the others still report.

The gap's age comes from the revisions' ``Create Date`` lines: from the
environment's current revision to the code head (the seed's "16 days, Jan 15 →
Jan 31"), and since when the oldest pending revision has been waiting.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from runner.database import connections as db
from runner.errors import ConfigError, RunnerError, UnknownRevision, Unreachable
from runner.planning.project import AlembicProject
from runner.redact import redact
from runner.target import DatabaseTarget

READ_TIMEOUT_MS = 5_000
_CREATE_DATE = re.compile(r"^Create Date:\s*(\S.*?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class PendingRevision:
    revision: str
    message: str
    created: datetime | None


@dataclass(frozen=True)
class EnvironmentStatus:
    name: str
    variable: str
    target: str | None = None  # the URL, password masked
    current: tuple[str, ...] = ()
    pending: tuple[PendingRevision, ...] = ()
    current_created: datetime | None = None  # the oldest current revision's create date
    problem: str | None = None  # unreachable, invalid or unknown revision
    error: str | None = None  # the sentence that says why

    @property
    def reachable(self) -> bool:
        return self.problem is None

    @property
    def behind(self) -> int | None:
        return len(self.pending) if self.reachable else None


@dataclass(frozen=True)
class EnvironmentsStatus:
    heads: tuple[str, ...]
    head_created: datetime | None
    environments: tuple[EnvironmentStatus, ...]
    now: datetime

    def gap_days(self, env: EnvironmentStatus) -> float | None:
        """Days from the environment's revision to the code head, by their create dates."""
        if not env.pending or env.current_created is None or self.head_created is None:
            return 0.0 if env.reachable and not env.pending else None
        return _days(_aware(self.head_created) - _aware(env.current_created))

    def waiting_days(self, env: EnvironmentStatus) -> float | None:
        """Days the oldest pending revision has existed (by its create date) without reaching it."""
        created = env.pending[0].created if env.pending else None
        return _days(self.now - _aware(created)) if created else None

    @property
    def all_reachable(self) -> bool:
        return all(env.reachable for env in self.environments)

    def as_json(self) -> dict[str, Any]:
        return {
            "heads": list(self.heads),
            "head_created": _iso(self.head_created),
            "environments": [
                {
                    "name": env.name,
                    "variable": env.variable,
                    "target": env.target,
                    "reachable": env.reachable,
                    "problem": env.problem,
                    "error": env.error,
                    "current": list(env.current),
                    "behind": env.behind,
                    "gap_days": self.gap_days(env),
                    "waiting_days": self.waiting_days(env),
                    "pending": [
                        {"revision": p.revision, "message": p.message, "created": _iso(p.created)}
                        for p in env.pending
                    ],
                }
                for env in self.environments
            ],
        }


def environments_status(
    project: AlembicProject,
    environments: Mapping[str, str],
    *,
    environ: Mapping[str, str] | None = None,
    version_table: db.VersionTable | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> EnvironmentsStatus:
    """For each ``{name: URL_VARIABLE}``, its revision(s) and the pending chain to the code head(s)."""
    environ = os.environ if environ is None else environ
    table = version_table or db.VersionTable()
    names = list(environments.items())
    with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:  # one dead host must not delay the rest
        read = list(pool.map(lambda item: _read(item[0], item[1], environ, table), names))
    found = [env if not env.reachable else _with_pending(project, env) for env in read]
    heads = project.heads
    head_dates = [d for d in (created_at(project, h) for h in heads) if d is not None]
    return EnvironmentsStatus(heads, max(head_dates, key=_aware) if head_dates else None, tuple(found), now())


def _read(name: str, variable: str, environ: Mapping[str, str], table: db.VersionTable) -> EnvironmentStatus:
    raw = environ.get(variable)
    if not raw:
        return EnvironmentStatus(
            name, variable, problem="invalid", error=f"the environment variable {variable} is not set"
        )
    try:
        target = DatabaseTarget.parse(raw, source=f"${variable}")
    except ConfigError as exc:
        return EnvironmentStatus(name, variable, problem="invalid", error=exc.message)
    try:
        current = _read_current(target, table)
    except RunnerError as exc:
        return EnvironmentStatus(name, variable, target.display, problem="unreachable", error=exc.message)
    return EnvironmentStatus(name, variable, target.display, current)


def _with_pending(project: AlembicProject, env: EnvironmentStatus) -> EnvironmentStatus:
    try:
        pending = project.pending(env.current, "heads")
    except UnknownRevision as exc:
        return replace(env, problem="unknown revision", error=exc.message)
    dates = [d for d in (created_at(project, rev) for rev in env.current) if d is not None]
    return replace(
        env,
        pending=tuple(
            PendingRevision(r.revision, r.message, created_at(project, r.revision)) for r in pending
        ),
        current_created=min(dates, key=_aware) if dates else None,
    )


def _read_current(target: DatabaseTarget, table: db.VersionTable) -> tuple[str, ...]:
    with closing(db.connect(target, "migration-runner status")) as conn:
        try:
            conn.execute(f"SET lock_timeout = '{READ_TIMEOUT_MS}ms'")
            conn.execute(f"SET statement_timeout = '{READ_TIMEOUT_MS}ms'")
            return db.read_heads(conn, table)
        except Exception as exc:  # psycopg errors: a lock held on the version table, a lost server
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise Unreachable(
                f"the version table {table} of {target.display} could not be read: {redact(first)}"
            ) from None


def created_at(project: AlembicProject, revision: str) -> datetime | None:
    """The revision's ``Create Date`` line, as Alembic's template writes it; None when absent."""
    try:
        text = Path(project.revision(revision).path).read_text(encoding="utf-8", errors="replace")
    except (OSError, RunnerError):
        return None
    found = _CREATE_DATE.search(text[:4000])
    if found is None:
        return None
    try:
        return datetime.fromisoformat(found[1])
    except ValueError:
        return None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _days(delta: timedelta) -> float:
    return round(delta.total_seconds() / 86400, 1)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
