"""Append-only audit log: one JSON object per line, fsynced, hash-chained, redacted.

Events go through a structlog processor chain: stamp (ts, run_id, seq) →
redact → chain (prev, hash) → render. Redaction runs before hashing, so what is
hashed is exactly what is on disk. A line joins the chain only once it is
safely written: a write that fails (a full disk, a file-size limit) leaves the
file ending on its last complete line, records why in ``write_error``, and the
run stops before its next statement (the executor asks). Listeners (the
console, tests) see each event after it is written. Events may come from the
lock watcher's thread too, so emitting is serialised.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import stat
import threading
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from runner.audit import disk
from runner.audit.chain import GENESIS, chain_ends, chain_hash
from runner.audit.overlapped_sync import Syncer, Unsynced
from runner.errors import ConfigError, Refused
from runner.redact import redact

Clock = Callable[[], datetime]
Listener = Callable[["Event"], None]
FILE_MODE = 0o600
RESERVED_FIELDS = frozenset({"ts", "run_id", "seq", "prev", "hash"})  # the log's own; an event can't set them


@dataclass(frozen=True)
class Event:
    """One audit line, as a dict of its fields."""

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
    """The structlog 'logger' at the end of the chain: hands the rendered line back to the log."""

    def __init__(self, write: Callable[[str, dict[str, Any]], None]) -> None:
        self._write = write

    def msg(self, line: str, record: dict[str, Any]) -> None:
        self._write(line, record)

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
        self._guard = threading.RLock()
        self.chain_id: str | None = None  # the hash of the log file's first line: which chain this is
        self.write_error: str | None = None  # why the first failed write failed; None while all is well
        self.unwritten = 0  # events that could not be written after that
        self.reserve_used = False  # the disk filled up and the reserve was given back to keep writing
        self._reserve: disk.Reserve | None = None
        self._syncer = Syncer()
        self._unsynced: Unsynced | None = None  # the last line, while its fsync runs on the helper thread
        self._overlap = False  # the line being written now gets its fsync on the helper thread
        if self.path is not None:
            self._open(Path(self.path))
        self._logger = structlog.wrap_logger(
            _LineSink(self._commit),
            processors=[self._stamp, _redact, self._chain, _render],
            cache_logger_on_first_use=False,
        )

    # -- writing -----------------------------------------------------------------------------
    def emit(self, event: str, **fields: Any) -> Event:
        """Write one event. Never raises for a failed write: see ``write_error``."""
        with self._guard:
            self.settle()  # a line still being synced stays the last one until it is known to be on disk
            self._logger.info(event, **fields)
            written = self._last_emitted
            for listener in list(self.listeners):
                listener(written)
            return written

    def emit_overlapped(self, event: str, **fields: Any) -> Event:
        """Write one event now and fsync it on a helper thread; ``settle`` before relying on it."""
        with self._guard:
            self._overlap = True
            try:
                return self.emit(event, **fields)
            finally:
                self._overlap = False

    def settle(self) -> None:
        """Wait for the fsync of an overlapped line; one that failed is cut off and fails like a write."""
        with self._guard:
            pending = self._unsynced
            if pending is None:
                return
            try:
                pending.done.result()
                failure = None
            except OSError as exc:
                failure = exc
            self._unsynced = None
            if failure is not None:
                self._sync_failed(pending, failure)

    @property
    def last_hash(self) -> str:
        """The hash of the last line actually on disk (what the database anchors)."""
        self.settle()
        return self._prev

    @property
    def healthy(self) -> bool:
        return self.write_error is None

    def room_problem(self) -> str | None:
        """Why there is not room for the next events, or None (always None in memory)."""
        if self._fd is None:
            return None
        wanted = disk.reserve_bytes()
        try:
            room = disk.headroom(self._fd)
        except OSError as exc:
            return f"the room left for the audit log {self.path} can't be read ({exc.strerror})"
        if room < wanted:
            filled = " (the disk filled up during the run: the reserve kept for the log was used)"
            return (
                f"the audit log {self.path} can grow by only {room:,} bytes (free space, or the process's "
                f"file-size limit), less than the {wanted:,} bytes the runner keeps in reserve"
                f"{filled if self.reserve_used else ''}"
            )
        return None

    def close(self) -> None:
        self.settle()
        self._syncer.close()
        if self._fd is not None:
            if self._reserve is not None:
                self._reserve.release()
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- processors --------------------------------------------------------------------------
    def _stamp(self, _logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
        name = event_dict.pop("event")
        clash = RESERVED_FIELDS & set(event_dict)
        if clash:
            raise ValueError(f"audit event {name!r} can't carry the log's own fields {sorted(clash)}")
        ts = self.clock().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {"ts": ts, "run_id": self.run_id, "seq": self._seq + 1, "event": name, **event_dict}

    def _chain(self, _logger: Any, _method: str, record: MutableMapping[str, Any]) -> dict[str, Any]:
        record = {**record, "prev": self._prev}
        record["hash"] = chain_hash(self._prev, record)
        return record

    def _commit(self, line: str, record: dict[str, Any]) -> None:
        """Write the line; only a line that is on disk moves the chain (and seq) forward."""
        self._last_emitted = Event(record)
        if self._fd is not None:
            data = (line + "\n").encode("utf-8")
            overlap = self._overlap
            try:
                size_before = os.fstat(self._fd).st_size if overlap else 0
                if disk.write_line(self._fd, data, self._reserve, sync=not overlap):
                    self.reserve_used = True
            except OSError as exc:  # WriteFailed: the file still ends on its last whole line
                self._failed(exc)
                return
            if overlap:
                done = self._syncer.start(self._fd)
                self._unsynced = Unsynced(done, size_before, data, self._seq, self._prev, self.chain_id)
        self._seq = record["seq"]
        self._prev = record["hash"]
        self.chain_id = self.chain_id or record["hash"]
        self.events.append(self._last_emitted)

    def _failed(self, exc: OSError) -> None:
        if self.write_error is None:
            self.write_error = f"{exc.strerror} (errno {errno.errorcode.get(exc.errno or 0, exc.errno)})"
        else:
            self.unwritten += 1

    def _sync_failed(self, line: Unsynced, exc: OSError) -> None:
        """The line's fsync failed: cut it off (a full disk gets the reserve, as a write does) or forget it."""
        assert self._fd is not None
        disk.cut_back(self._fd, line.size_before)
        if disk.out_of_space(exc) and self._reserve is not None and self._reserve.release():
            try:
                disk.write_line(self._fd, line.data, None)
                self.reserve_used = True
                return
            except disk.WriteFailed as again:
                exc = again
        self._seq, self._prev, self.chain_id = line.seq, line.prev, line.chain_id
        self.events.pop()
        self._failed(exc)

    # -- file handling -----------------------------------------------------------------------
    def _open(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ConfigError(
                    f"The audit log {path} is a symbolic link; refusing a symbolic link, since the trail must "
                    "be the file named. Give --audit-log the real path."
                ) from None
            raise ConfigError(
                f"The audit log {path} can't be opened for appending: {exc.strerror}."
            ) from None
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
        try:
            self._prev, self.chain_id = chain_ends(fd, path)
        except Refused:
            self.close()
            raise
        self._reserve = disk.Reserve(path, disk.reserve_bytes())
        self._reserve.hold()


def _redact(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
    return redact(dict(event_dict))


def _render(
    _logger: Any, _method: str, record: MutableMapping[str, Any]
) -> tuple[tuple[str], dict[str, Any]]:
    return (json.dumps(record, ensure_ascii=False, default=str),), {"record": dict(record)}
