"""Runs that died without finishing: found in runner_history, shown by status, closed by the next run.

A run's row says ``running`` until it ends; while a run is alive it holds the
run lock (and its session's application_name carries its run id), so a
``running`` row of any other run is one that died: killed, or its host gone.
The row names the step that was in flight, and whether that step committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from runner.database.history import ADDED_COLUMNS, TABLE, table_exists


@dataclass(frozen=True)
class UnfinishedRun:
    """A run whose row still says ``running`` while no session holds the run lock for it."""

    run_id: str
    operator: str
    started_at: datetime
    step: str | None
    direction: str | None
    step_started_at: datetime | None
    step_committed: bool
    audit_log: str | None
    command: str | None

    def describe(self) -> str:
        started = f"{self.started_at:%Y-%m-%d %H:%M:%S %Z}".strip()
        if self.step is None:
            where = "before its first step"
        elif self.step_committed:
            where = f"after {self.step} ({self.direction}) committed, before its next step"
        else:
            when = f" (started {self.step_started_at:%H:%M:%S})" if self.step_started_at else ""
            where = f"during {self.step} ({self.direction}){when}"
        return f"Run {self.run_id} by {self.operator}, started {started}, did not finish: it stopped {where}."

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "operator": self.operator,
            "started_at": self.started_at.isoformat(),
            "step": self.step,
            "direction": self.direction,
            "step_started_at": self.step_started_at.isoformat() if self.step_started_at else None,
            "step_committed": self.step_committed,
            "audit_log": self.audit_log,
            "command": self.command,
            "description": self.describe(),
            "next_step": self.next_step(),
        }

    def next_step(self) -> str:
        if self.audit_log:
            return (
                f"runner resume --audit-log {self.audit_log} continues it from where the database is (runner "
                f"audit report {self.audit_log} --run {self.run_id} says what it did)."
            )
        again = f"`{self.command}`" if self.command else "the same apply"
        return f"run {again} again to continue from the current revision."


UNFINISHED_SQL = f"""
SELECT r.run_id, r.operator, r.started_at, r.current_step, r.current_direction, r.step_started_at,
       EXISTS (SELECT 1 FROM {TABLE} s
                WHERE s.run_id = r.run_id AND s.kind = 'step' AND s.outcome = 'applied'
                  AND s.revision = r.current_step AND s.finished_at >= r.step_started_at),
       r.audit_log, r.command
  FROM {TABLE} r
 WHERE r.kind = 'run' AND r.outcome = 'running' AND NOT (r.run_id = ANY(%s))
 ORDER BY r.started_at
"""


def unfinished_runs(conn: psycopg.Connection, alive: Sequence[str] = ()) -> list[UnfinishedRun]:
    """Runs marked ``running`` other than ``alive`` (the run holding the lock, if any)."""
    if not table_exists(conn):
        return []
    have_columns = conn.execute(
        "SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = ANY(%s)",
        [TABLE, list(ADDED_COLUMNS)],
    ).fetchone()
    if not have_columns or have_columns[0] < len(ADDED_COLUMNS):
        return []  # a table from an older runner: it did not record steps in flight
    return [UnfinishedRun(*row) for row in conn.execute(UNFINISHED_SQL, [list(alive)]).fetchall()]


def close_abandoned(
    conn: psycopg.Connection, runs: Sequence[UnfinishedRun], closed_by: str, *, resumed: str | None = None
) -> None:
    """Mark ``runs`` abandoned (or ``resumed``, the one run ``closed_by`` continues): none of them is alive."""
    for run in runs:
        outcome, how = ("resumed", "Resumed") if run.run_id == resumed else ("abandoned", "Closed")
        conn.execute(
            f"UPDATE {TABLE} SET outcome = %s, finished_at = clock_timestamp(), detail = %s "
            "WHERE kind = 'run' AND run_id = %s AND outcome = 'running'",
            [outcome, f"{run.describe()} {how} by run {closed_by}.", run.run_id],
        )
