"""Who holds the locks a step waited for (named in every lock-timeout event), and who is in a step's way before it starts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import psycopg

from runner.redact import redact


@dataclass(frozen=True)
class Blocker:
    pid: int
    user: str | None
    application_name: str | None
    state: str | None
    query: str | None
    transaction_age_s: float | None
    mode: str
    relation: str

    def as_fields(self) -> dict[str, Any]:
        return redact(asdict(self))

    def describe(self) -> str:
        age = f"{self.transaction_age_s:.1f}s" if self.transaction_age_s is not None else "no"
        return (
            f"pid {self.pid} ({self.state or 'unknown state'}, {age} transaction, holds {self.mode} on "
            f"{self.relation}): {redact(self.query or '')[:120]}"
        )


BLOCKERS_SQL = """
SELECT a.pid, a.usename, a.application_name, a.state, left(a.query, 500),
       round(extract(epoch FROM clock_timestamp() - a.xact_start)::numeric, 3)::float8,
       l.mode, l.relation::regclass::text
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.granted AND l.locktype = 'relation'
   AND l.pid <> pg_backend_pid() AND NOT (l.pid = ANY(%s))
   AND l.relation IN (SELECT to_regclass(n) FROM unnest(%s::text[]) AS n)
 ORDER BY a.xact_start NULLS LAST, a.pid
"""


def find_blockers(
    conn: psycopg.Connection, relations: Sequence[str], exclude: Iterable[int] = ()
) -> list[Blocker]:
    if not relations:
        return []
    rows = conn.execute(BLOCKERS_SQL, [list(exclude), list(relations)]).fetchall()
    return [Blocker(*row) for row in rows]


def relations_in(statement: str | None) -> list[str]:
    """Tables a statement names, from PostgreSQL's own parser; [] when it can't be parsed."""
    if not statement:
        return []
    try:
        from pglast.parser import parse_sql_json

        tree = json.loads(parse_sql_json(statement))
    except Exception:  # pglast raises ParseError; anything else means "don't know"
        return []
    found: list[str] = []
    _collect(tree, found)
    return list(dict.fromkeys(found))


def _collect(node: Any, found: list[str]) -> None:
    if isinstance(node, dict):
        if "relname" in node:
            parts = [node.get("schemaname"), node["relname"]]
            found.append(".".join(_quote(str(part)) for part in parts if part))
        for value in node.values():
            _collect(value, found)
    elif isinstance(node, list):
        for value in node:
            _collect(value, found)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@dataclass(frozen=True)
class InTheWay:
    """A session a step would wait behind: a long or idle transaction on its tables, or autovacuum on them."""

    pid: int
    application_name: str | None
    user: str | None
    state: str | None
    query: str | None
    transaction_age_s: float | None
    relation: str  # as the caller named it
    mode: str  # the lock it holds there, as pg_locks names it
    autovacuum: bool
    wraparound: bool  # an anti-wraparound autovacuum: it does not give way, and is never ended

    def as_fields(self) -> dict[str, Any]:
        return redact(asdict(self))

    def describe(self) -> str:
        who = (
            "autovacuum" + (" (to prevent wraparound)" if self.wraparound else "")
            if self.autovacuum
            else (f"{self.application_name or 'no application_name'}, {self.state or 'unknown state'}")
        )
        age = f", {self.transaction_age_s:.1f}s transaction" if self.transaction_age_s is not None else ""
        return f"pid {self.pid} ({who}{age}) holds {self.mode} on {self.relation}"


IN_THE_WAY_SQL = """
SELECT a.pid, a.application_name, a.usename, a.state, left(a.query, 500),
       round(extract(epoch FROM clock_timestamp() - a.xact_start)::numeric, 3)::float8,
       w.name, l.mode,
       a.backend_type = 'autovacuum worker',
       a.backend_type = 'autovacuum worker' AND a.query LIKE '%%to prevent wraparound%%'
  FROM unnest(%s::text[]) AS w(name)
  JOIN pg_locks l ON l.relation = to_regclass(w.name)
  JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.granted AND l.locktype = 'relation' AND l.pid <> pg_backend_pid()
   AND (a.backend_type = 'autovacuum worker'
        OR a.state IN ('idle in transaction', 'idle in transaction (aborted)')
        OR clock_timestamp() - a.xact_start > make_interval(secs => %s))
 ORDER BY a.xact_start NULLS LAST, a.pid
"""


def in_the_way(conn: psycopg.Connection, relations: Sequence[str], *, long_s: float) -> list[InTheWay]:
    """Every lock on ``relations`` held by a session a step's lock would wait behind for a while."""
    if not relations:
        return []
    rows = conn.execute(IN_THE_WAY_SQL, [list(relations), long_s]).fetchall()
    return [InTheWay(*row) for row in rows]
