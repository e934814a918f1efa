"""Cross-check a log against the hashes the target database recorded.

A hash chain alone can be rewritten from the first edited line onwards. Each
run also stores its final hash in ``runner_history``; a log whose runs end on
other hashes was rewritten or cut short after the fact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import psycopg

from runner.history import TABLE


@dataclass(frozen=True)
class RunEnd:
    run_id: str
    line: int
    hash: str


def run_ends(path: str | Path) -> dict[str, RunEnd]:
    """The last line (and its hash) of every run in the log."""
    ends: dict[str, RunEnd] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            record = json.loads(line)
            ends[str(record["run_id"])] = RunEnd(str(record["run_id"]), number, str(record["hash"]))
    return ends


def anchor_problems(conn: psycopg.Connection, path: str | Path) -> tuple[int, list[str]]:
    """(runs checked against the database, problems found)."""
    ends = run_ends(path)
    exists = conn.execute("SELECT to_regclass(%s)", [TABLE]).fetchone()
    if not ends or exists is None or exists[0] is None:
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
    return len(rows), problems
