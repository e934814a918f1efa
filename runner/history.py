"""A history table in the target database: one row per run and per step.

A step's ``applied`` row is inserted from inside that step's own transaction,
so the table can never say a step was applied when its transaction rolled back;
a step that failed gets its row from the runner's own connection. The run's row
is written from the runner's connection before the first step, so a run that
died leaves a row marked ``running`` (the audit log says which step was in flight).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
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

INSERT_APPLIED = text(
    f"INSERT INTO {TABLE} (run_id, kind, revision, direction, prior_revision, started_at, finished_at,"
    " outcome, attempts, operator)"
    " VALUES (:run_id, 'step', :revision, :direction, :prior, now(), clock_timestamp(), 'applied', :attempts,"
    " :operator)"
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

    def step_failed(
        self,
        revision: str,
        direction: str,
        prior: Sequence[str],
        started_at: datetime,
        outcome: str,
        attempts: int,
        detail: str,
    ) -> None:
        self.conn.execute(
            f"INSERT INTO {TABLE} (run_id, operator, kind, revision, direction, prior_revision, started_at,"
            " finished_at, outcome, attempts, detail)"
            " VALUES (%s, %s, 'step', %s, %s, %s, %s, clock_timestamp(), %s, %s, %s)",
            [
                self.run_id,
                self.operator,
                revision,
                direction,
                _joined(prior),
                started_at,
                outcome,
                attempts,
                detail,
            ],
        )

    def applied_in_step(
        self, connection: Any, revision: str, direction: str, prior: Sequence[str], attempts: int
    ) -> None:
        """Run on env.py's connection inside the step's transaction: atomic with the version row.

        ``now()`` is the start of that transaction, i.e. when the step began.
        """
        connection.execute(
            INSERT_APPLIED,
            {
                "run_id": self.run_id,
                "revision": revision,
                "direction": direction,
                "prior": _joined(prior),
                "attempts": attempts,
                "operator": self.operator,
            },
        )


def rows_for_run(conn: psycopg.Connection, run_id: str) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(f"SELECT * FROM {TABLE} WHERE run_id = %s ORDER BY id", [run_id]).fetchall()
