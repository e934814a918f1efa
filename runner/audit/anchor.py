"""Cross-check a log against what the target database recorded about the runs written to it.

A hash chain alone can be rewritten from the first edited line onwards, and
lines cut from the end of a log leave a shorter chain that is still intact. So
each run also stores in ``runner_history`` its final hash, the hash of its log's
first line (which chain it belongs to) and the log's path. A run whose last
line hashes otherwise was rewritten; a run the database says was written to
this log but which has no line in it was cut out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg

from runner.audit.reader import read_lines, records
from runner.database.history import TABLE


@dataclass(frozen=True)
class RunEnd:
    run_id: str
    line: int
    hash: str


def run_ends(path: str | Path) -> tuple[str | None, dict[str, RunEnd]]:
    """The log's first hash, and the last line (and its hash) of every run in it."""
    first: str | None = None
    ends: dict[str, RunEnd] = {}
    for number, record in records(read_lines(path)):
        if record is not None and "hash" in record:
            first = first or str(record["hash"])
            ends[str(record.get("run_id"))] = RunEnd(str(record.get("run_id")), number, str(record["hash"]))
    return first, ends


def anchor_problems(conn: psycopg.Connection, path: str | Path) -> tuple[int, list[str]]:
    """(runs checked against the database, problems found)."""
    first, ends = run_ends(path)
    exists = conn.execute("SELECT to_regclass(%s)", [TABLE]).fetchone()
    if exists is None or exists[0] is None:
        return 0, []
    rows = conn.execute(
        f"SELECT run_id, audit_hash FROM {TABLE} WHERE kind = 'run' AND audit_hash IS NOT NULL AND run_id = ANY(%s)",
        [list(ends)],
    ).fetchall()
    problems = [
        f"run {run_id} ends at line {ends[run_id].line} with hash {ends[run_id].hash[:16]}..., but {TABLE} "
        f"recorded {recorded[:16]}... for it: the log was rewritten or cut short after that run."
        for run_id, recorded in rows
        if ends[run_id].hash != recorded
    ]
    missing = _missing_runs(conn, first, str(Path(path).resolve()), list(ends))
    problems += [
        f"run {run_id} ({outcome}, started {started:%Y-%m-%d %H:%M:%S %Z}) is recorded in {TABLE} as written to "
        "this log, but the log has no line of it: it was cut out of the log after that run."
        for run_id, outcome, started in missing
    ]
    return len(rows) + len(missing), problems


def _missing_runs(
    conn: psycopg.Connection, first: str | None, path: str, present: list[str]
) -> list[tuple[str, str, datetime]]:
    columns = conn.execute(
        "SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname IN ('audit_chain', 'audit_log')",
        [TABLE],
    ).fetchone()
    if not columns or columns[0] < 2:
        return []  # a table from an older runner: it did not record which log a run went to
    return conn.execute(
        f"SELECT run_id, outcome, started_at FROM {TABLE} WHERE kind = 'run' AND NOT (run_id = ANY(%s))"
        " AND (audit_chain = %s OR audit_log = %s) ORDER BY started_at",
        [present, first, path],
    ).fetchall()
