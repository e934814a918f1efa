"""A history table in the target database: one row per run and per step.

Rows are started from the runner's own connection, and a step's row is marked
``applied`` from inside that step's own transaction, so the table can never say
a step was applied when its transaction rolled back. A row left ``running``
means the runner died during that step; the version table says where it stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row
from sqlalchemy import text

TABLE = "runner_history"

CREATE_SQL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id             bigserial PRIMARY KEY,
    run_id         text        NOT NULL,
    kind           text        NOT NULL CHECK (kind IN ('run', 'step')),
    revision       text,
    direction      text,
    prior_revision text,
    started_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at    timestamptz,
    outcome        text        NOT NULL,
    attempts       integer     NOT NULL DEFAULT 1,
    operator       text        NOT NULL,
    detail         text,
    audit_hash     text
)
"""

MARK_APPLIED = text(
    f"UPDATE {TABLE} SET outcome = 'applied', finished_at = clock_timestamp(), attempts = :attempts "
    "WHERE id = :id"
)


def _joined(revisions: Sequence[str]) -> str:
    return ",".join(revisions)


class History:
    """Writes this run's rows through the runner's own autocommit connection."""

    def __init__(self, conn: psycopg.Connection, run_id: str, operator: str) -> None:
        self.conn = conn
        self.run_id = run_id
        self.operator = operator
        self._run_row: int | None = None

    def ensure_table(self) -> None:
        self.conn.execute(CREATE_SQL)

    def _insert(self, **values: Any) -> int:
        columns = ["run_id", "operator", *values]
        row = self.conn.execute(
            f"INSERT INTO {TABLE} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) RETURNING id",
            [self.run_id, self.operator, *values.values()],
        ).fetchone()
        assert row is not None
        return int(row[0])

    def start_run(self, target: Sequence[str], prior: Sequence[str]) -> None:
        self._run_row = self._insert(
            kind="run", revision=_joined(target), prior_revision=_joined(prior), outcome="running"
        )

    def finish_run(self, outcome: str, detail: str | None, audit_hash: str | None) -> None:
        if self._run_row is not None:
            self.conn.execute(
                f"UPDATE {TABLE} SET outcome = %s, detail = %s, audit_hash = %s, finished_at = clock_timestamp() "
                "WHERE id = %s",
                [outcome, detail, audit_hash, self._run_row],
            )

    def start_step(self, revision: str, direction: str, prior: Sequence[str]) -> int:
        return self._insert(
            kind="step",
            revision=revision,
            direction=direction,
            prior_revision=_joined(prior),
            outcome="running",
        )

    def retry_step(self, row: int) -> None:
        self.conn.execute(f"UPDATE {TABLE} SET attempts = attempts + 1 WHERE id = %s", [row])

    def finish_step(self, row: int, outcome: str, detail: str | None = None) -> None:
        self.conn.execute(
            f"UPDATE {TABLE} SET outcome = %s, detail = %s, finished_at = clock_timestamp() WHERE id = %s",
            [outcome, detail, row],
        )


def mark_applied_in_step(connection: Any, row: int, attempts: int) -> None:
    """Run on env.py's connection inside the step's transaction: atomic with the version row."""
    connection.execute(MARK_APPLIED, {"id": row, "attempts": attempts})


def rows_for_run(conn: psycopg.Connection, run_id: str) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(f"SELECT * FROM {TABLE} WHERE run_id = %s ORDER BY id", [run_id]).fetchall()
