"""A history table in the target database: one row per run and per step.

A step's ``applied`` row is inserted from inside that step's own transaction,
so the table can never say a step was applied when its transaction rolled back;
that same insert only succeeds while the runner's session still holds the run
lock, so a step can't commit without it. A step that failed gets its row from
the runner's own connection. The run's row is written once the run is allowed
to start (never by a run that was refused), says which step is in flight, and
is finished with the outcome and the audit log's last hash: a run that died
leaves a row marked ``running`` that names the step it was in.

The runner's own DDL here (creating the table, adding a column an older runner
did not have) runs only when needed, and every statement is returned so the
caller can put it in the audit log.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from sqlalchemy import text

from runner.database.runlock import HELD_BY_SQL, HELD_HERE_SQL


@dataclass(frozen=True)
class SnapshotRef:
    """The snapshot a run is anchored on, as the run records it."""

    identifier: str
    arn: str | None = None


TABLE = "runner_history"

CREATE_SQL = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    id                bigserial PRIMARY KEY,
    run_id            text        NOT NULL,
    kind              text        NOT NULL CHECK (kind IN ('run', 'step')),
    revision          text,
    direction         text,
    prior_revision    text,
    started_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at       timestamptz,
    outcome           text        NOT NULL,
    attempts          integer     NOT NULL DEFAULT 1,
    operator          text        NOT NULL,
    detail            text,
    audit_hash        text,
    audit_chain       text,
    current_step      text,
    current_direction text,
    step_started_at   timestamptz,
    audit_log         text,
    command           text,
    snapshot_id       text,
    snapshot_arn      text
)"""

# Columns later runners added: an older table gets them, one audited ALTER each.
ADDED_COLUMNS = {
    "audit_chain": "text",
    "current_step": "text",
    "current_direction": "text",
    "step_started_at": "timestamptz",
    "audit_log": "text",
    "command": "text",
    "snapshot_id": "text",
    "snapshot_arn": "text",
}

INSERT_APPLIED = text(
    f"INSERT INTO {TABLE} (run_id, kind, revision, direction, prior_revision, started_at, finished_at,"
    " outcome, attempts, operator)"
    " SELECT :run_id, 'step', :revision, :direction, :prior, now(), clock_timestamp(), 'applied', :attempts,"
    f" :operator WHERE {HELD_BY_SQL}"
)


def _joined(revisions: Sequence[str]) -> str:
    return ",".join(revisions)


def table_exists(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT to_regclass(%s)", [TABLE]).fetchone()
    return row is not None and row[0] is not None


def ensure_table(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Create or upgrade the table if it needs it; the DDL run, as the audit log records statements."""
    if not table_exists(conn):
        return [_timed(conn, CREATE_SQL)]
    have = {
        row[0]
        for row in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
            [TABLE],
        )
    }
    return [
        _timed(conn, f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS {name} {kind}")
        for name, kind in ADDED_COLUMNS.items()
        if name not in have
    ]


def _timed(conn: psycopg.Connection, statement: str) -> dict[str, Any]:
    started = time.monotonic()
    conn.execute(statement)
    return {"sql": statement, "ms": round((time.monotonic() - started) * 1000, 2)}


class History:
    """Writes this run's rows through the runner's own autocommit connection."""

    def __init__(self, conn: psycopg.Connection, run_id: str, operator: str) -> None:
        self.conn = conn
        self.run_id = run_id
        self.operator = operator
        self._run_row: int | None = None

    @property
    def started(self) -> bool:
        return self._run_row is not None

    def _insert(self, **values: Any) -> int:
        columns = ["run_id", "operator", *values]
        row = self.conn.execute(
            f"INSERT INTO {TABLE} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) RETURNING id",
            [self.run_id, self.operator, *values.values()],
        ).fetchone()
        assert row is not None
        return int(row[0])

    def start_run(
        self,
        target: Sequence[str],
        prior: Sequence[str],
        *,
        audit_chain: str | None,
        audit_log: str | None,
        command: str,
        snapshot: SnapshotRef | None = None,
    ) -> None:
        self._run_row = self._insert(
            kind="run",
            revision=_joined(target),
            prior_revision=_joined(prior),
            outcome="running",
            audit_chain=audit_chain,
            audit_log=audit_log,
            command=command,
            snapshot_id=snapshot.identifier if snapshot else None,
            snapshot_arn=snapshot.arn if snapshot else None,
        )

    def step_in_flight(self, revision: str, direction: str) -> bool:
        """Say on the run's row which step starts now (what a crash leaves behind for status), if this
        session still holds the run lock: False (and the row untouched) when it does not.

        One statement, so the check before every step costs one round trip.
        """
        if self._run_row is None:
            return False
        cursor = self.conn.execute(
            f"UPDATE {TABLE} SET current_step = %s, current_direction = %s, step_started_at = clock_timestamp()"
            f" WHERE id = %s AND {HELD_HERE_SQL}",
            [revision, direction, self._run_row],
        )
        return cursor.rowcount == 1

    def finish_run(
        self, conn: psycopg.Connection, outcome: str, detail: str | None, audit_hash: str | None
    ) -> None:
        """On ``conn``: the lock's session, or a new one when that session is gone."""
        if self._run_row is not None:
            conn.execute(
                f"UPDATE {TABLE} SET outcome = %s, detail = %s, audit_hash = %s, finished_at = clock_timestamp() "
                "WHERE id = %s",
                [outcome, detail, audit_hash, self._run_row],
            )

    def step_failed(
        self,
        conn: psycopg.Connection,
        revision: str,
        direction: str,
        prior: Sequence[str],
        started_at: datetime,
        outcome: str,
        attempts: int,
        detail: str,
    ) -> None:
        conn.execute(
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
        self,
        connection: Any,
        revision: str,
        direction: str,
        prior: Sequence[str],
        attempts: int,
        runner_pid: int,
    ) -> bool:
        """On env.py's connection inside the step's transaction: atomic with the version row.

        False (and nothing inserted) when the runner's session no longer holds
        the run lock; the caller then rolls the step back. ``now()`` is the
        start of that transaction, i.e. when the step began.
        """
        result = connection.execute(
            INSERT_APPLIED,
            {
                "run_id": self.run_id,
                "revision": revision,
                "direction": direction,
                "prior": _joined(prior),
                "attempts": attempts,
                "operator": self.operator,
                "runner_pid": runner_pid,
            },
        )
        return bool(result.rowcount == 1)


def rows_for_run(conn: psycopg.Connection, run_id: str) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(f"SELECT * FROM {TABLE} WHERE run_id = %s ORDER BY id", [run_id]).fetchall()
