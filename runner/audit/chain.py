"""How one audit line is tied to the line before it, and where an existing log's chain ends."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from runner.errors import Refused

GENESIS = "0" * 64
TAIL_BYTES = 1 << 16


def canonical(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def chain_hash(prev: str, record: dict[str, Any]) -> str:
    """sha256 over the previous line's hash and this line's fields (all but ``hash``)."""
    body = {key: value for key, value in record.items() if key != "hash"}
    return hashlib.sha256((prev + canonical(body)).encode("utf-8")).hexdigest()


def chain_ends(fd: int, path: Path) -> tuple[str, str | None]:
    """(the hash to continue from, the first line's hash), refusing to extend a damaged log."""
    size = os.fstat(fd).st_size
    if size == 0:
        return GENESIS, None
    start = max(0, size - TAIL_BYTES)
    tail = os.pread(fd, size - start, start).decode("utf-8", errors="replace")
    lines = [line for line in tail.split("\n") if line.strip()]  # not splitlines: U+2028 may be in a record
    head = os.pread(fd, min(size, TAIL_BYTES), 0).decode("utf-8", errors="replace").split("\n", 1)[0]
    try:
        last = str(json.loads(lines[-1])["hash"])
    except (IndexError, ValueError, KeyError, TypeError):
        raise Refused(
            f"The audit log {path} ends with a damaged line, so this run can't extend its chain.",
            next_step=f"runner audit verify {path}; then start a new log with --audit-log.",
        ) from None
    try:
        first: str | None = str(json.loads(head)["hash"])
    except (ValueError, KeyError, TypeError):
        first = None  # a damaged first line: verify names it; the chain can still be extended
    return last, first
