"""Reading an audit log back: its lines, its events, or one plain error. The one reader of the format.

``verify``, ``report``, the database cross-check, resume and the rehearsal
timings all start here, so a log that is missing, a
directory, unreadable, empty, or holds a line that is not UTF-8 (binary data
from a damaged disk, or a file that is no audit log at all) gets the same
message naming the file and the line, and exit 3 rather than a traceback.

Lines are split at ``\\n`` only, as they were written: ``str.splitlines`` would
also split a record at U+2028 or U+0085 inside a statement's text, which
``json.dumps(ensure_ascii=False)`` leaves unescaped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from runner.errors import InvalidInput


def read_lines(path: str | Path) -> list[str]:
    """Every line of the log, numbered from 1 by its position in the list."""
    path = Path(path)
    if path.is_dir():
        raise InvalidInput(f"Audit log {path} is a directory, not a log file.")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"Audit log {path} does not exist.") from None
    except OSError as exc:
        raise InvalidInput(f"Audit log {path} can't be read ({exc.strerror}).") from None
    if not raw.strip():
        raise InvalidInput(f"Audit log {path} is empty: it holds no audit records.")
    lines = raw.split(b"\n")
    if lines[-1] == b"":
        lines.pop()  # the newline that ends the last record
    text = []
    for number, line in enumerate(lines, start=1):
        try:
            text.append(line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"Audit log {path} line {number}: is not UTF-8 text (binary data at byte {exc.start + 1} of the "
                f"line), so it is no audit record: the line was damaged or overwritten, or {path} is not an "
                "audit log."
            ) from None
    return text


def records(lines: Sequence[str]) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """Each non-blank line's number and its JSON object; None for a line that is not one."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
            yield number, None
            continue
        yield number, record if isinstance(record, dict) else None


def events_of(lines: Sequence[str]) -> list[dict[str, Any]]:
    """Every readable event (a run id and an event name), in order; a damaged line is skipped (``verify`` names it)."""
    return [
        record
        for _number, record in records(lines)
        if record is not None and "run_id" in record and isinstance(record.get("event"), str)
    ]


def read_events(path: str | Path) -> list[dict[str, Any]]:
    return events_of(read_lines(path))
