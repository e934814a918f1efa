"""Check an audit log's chain and name the first line that was edited, removed or moved."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.audit.chain import GENESIS, chain_hash
from runner.audit.reader import read_lines


@dataclass(frozen=True)
class VerifyResult:
    path: str
    lines: int
    ok: bool
    bad_line: int | None = None
    problem: str | None = None
    last_hash: str | None = None

    def describe(self) -> str:
        if self.ok:
            return f"{self.path}: {self.lines} lines, chain intact, last hash {self.last_hash}."
        return f"{self.path} line {self.bad_line}: {self.problem}"


_INCOMPLETE = "not a complete audit record: the line was edited or truncated."


def verify_file(path: str | Path) -> VerifyResult:
    """The chain of the log at ``path``; InvalidInput when it can't be read as an audit log at all."""
    return verify_lines(str(path), read_lines(path))


def verify_lines(path: str, lines: list[str]) -> VerifyResult:
    prev = GENESIS
    last_seq: dict[str, int] = {}
    count = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        count += 1
        problem, record = _check_line(line, number, prev, last_seq)
        if problem is not None:
            return VerifyResult(path, count, False, number, problem)
        if isinstance(record.get("seq"), int):
            last_seq[str(record.get("run_id"))] = record["seq"]
        prev = record["hash"]
    return VerifyResult(path, count, True, last_hash=prev)


def _check_line(
    line: str, number: int, prev: str, last_seq: dict[str, int]
) -> tuple[str | None, dict[str, Any]]:
    try:
        record = json.loads(line)
        claimed = record["hash"]
    except (ValueError, KeyError, TypeError, RecursionError):  # RecursionError: JSON nested thousands deep
        return _INCOMPLETE, {}
    written_prev = record.get("prev", "")
    if not isinstance(written_prev, str):
        return _INCOMPLETE, {}
    try:
        matches = chain_hash(written_prev, record) == claimed
    except UnicodeEncodeError:  # a lone surrogate (\ud800), which the runner never writes
        matches = False
    if not matches:
        return "edited: its content does not match its hash.", record
    if record.get("prev") != prev:
        if number == 1:
            return "does not start a chain: lines were removed from the start of the log.", record
        return (
            f"does not follow line {number - 1}: that line was edited and re-hashed, or a line was "
            "removed, inserted or reordered between them.",
            record,
        )
    run_id, seq = str(record.get("run_id")), record.get("seq")
    if isinstance(seq, int) and run_id in last_seq and seq != last_seq[run_id] + 1:
        return f"run {run_id} jumps from seq {last_seq[run_id]} to {seq}: events are missing.", record
    return None, record
