"""Append-only audit log: one JSON object per line, fsynced, hash-chained, redacted.

Events go through a structlog processor chain: stamp (ts, run_id, seq) →
redact → chain (prev, hash) → render. Redaction runs before hashing, so what is
hashed is exactly what is on disk. Listeners (the console, tests) see each
event after it is safely written.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from runner.audit.chain import GENESIS, chain_hash
from runner.errors import ConfigError, Refused
from runner.redact import redact

Clock = Callable[[], datetime]
Listener = Callable[["Event"], None]
FILE_MODE = 0o600
TAIL_BYTES = 1 << 16


@dataclass(frozen=True)
class Event:
    """One written audit line, as a dict of its fields."""

    fields: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.fields["event"])

    def __getitem__(self, key: str) -> Any:
        return self.fields[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)


def utc_now() -> datetime:
    return datetime.now(UTC)


class _LineSink:
    """The structlog 'logger' at the end of the chain: writes and fsyncs one line."""

    def __init__(self, fd: int | None) -> None:
        self.fd = fd

    def msg(self, line: str) -> None:
        if self.fd is None:
            return
        os.write(self.fd, (line + "\n").encode("utf-8"))
        os.fsync(self.fd)

    info = msg


@dataclass
class AuditLog:
    """Writes one run's events; ``path=None`` keeps them in memory only (plan, tests)."""

    path: Path | None
    run_id: str
    clock: Clock = utc_now
    listeners: list[Listener] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._seq = 0
        self._fd: int | None = None
        self._prev = GENESIS
        if self.path is not None:
            self._open(Path(self.path))
        self._logger = structlog.wrap_logger(
            _LineSink(self._fd),
            processors=[self._stamp, _redact, self._chain, _render],
            cache_logger_on_first_use=False,
        )

    # -- writing -----------------------------------------------------------------------------
    def emit(self, event: str, **fields: Any) -> Event:
        self._logger.info(event, **fields)
        written = self.events[-1]
        for listener in list(self.listeners):
            listener(written)
        return written

    @property
    def last_hash(self) -> str:
        return self._prev

    def close(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- processors --------------------------------------------------------------------------
    def _stamp(self, _logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
        self._seq += 1
        name = event_dict.pop("event")
        ts = self.clock().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {"ts": ts, "run_id": self.run_id, "seq": self._seq, "event": name, **event_dict}

    def _chain(self, _logger: Any, _method: str, record: MutableMapping[str, Any]) -> dict[str, Any]:
        record = {**record, "prev": self._prev}
        record["hash"] = chain_hash(self._prev, record)
        self._prev = record["hash"]
        self.events.append(Event(record))
        return record

    # -- file handling -----------------------------------------------------------------------
    def _open(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
        except OSError as exc:
            raise ConfigError(f"The audit log {path} can't be opened for appending: {exc.strerror}.") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise Refused(
                f"The audit log {path} is being written by another run; give this run its own --audit-log."
            ) from None
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise Refused(
                f"The audit log {path} is not a regular file; the audit trail can't be written to a device or "
                "pipe. Give --audit-log a file path."
            )
        if stat.S_IMODE(mode) & 0o077:
            os.fchmod(fd, FILE_MODE)  # an existing log readable by others is tightened, not trusted
        self._fd = fd
        self._prev = _last_hash(fd, path)


def _redact(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
    return redact(dict(event_dict))


def _render(_logger: Any, _method: str, record: MutableMapping[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, default=str)


def _last_hash(fd: int, path: Path) -> str:
    """Continue the chain from the file's last line, refusing to extend a damaged one."""
    size = os.fstat(fd).st_size
    if size == 0:
        return GENESIS
    start = max(0, size - TAIL_BYTES)
    tail = os.pread(fd, size - start, start).decode("utf-8", errors="replace")
    lines = [line for line in tail.splitlines() if line.strip()]
    try:
        last = json.loads(lines[-1])
        return str(last["hash"])
    except (IndexError, ValueError, KeyError, TypeError):
        raise Refused(
            f"The audit log {path} ends with a damaged line, so this run can't extend its chain.",
            next_step=f"runner audit verify {path}; then start a new log with --audit-log.",
        ) from None
