"""Room on disk for the audit trail: whole writes, a reserve, and a headroom check.

A full disk must never cost the record of what was done. Every line is written
whole or not at all (a short write is cut back off, so the file still ends on a
complete line); a reserve file beside the log holds space that is given back the
moment a write meets ENOSPC, so the run can still write why it stopped; and
before a run starts, and before each step, the free space (and the process's
file-size limit) must leave room for at least the reserve.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
from pathlib import Path

from runner import tuning

_OUT_OF_SPACE = (errno.ENOSPC, errno.EDQUOT)


class WriteFailed(OSError):
    """A line could not be written whole; the file was cut back to its last complete line."""


def reserve_bytes() -> int:
    """How much room the trail keeps for itself (``RUNNER_AUDIT_RESERVE_BYTES``, default 1 MiB)."""
    return int(tuning.number(tuning.AUDIT_RESERVE_BYTES))


def headroom(fd: int) -> int:
    """Bytes the log can still grow by: free space on its file system, and the file-size limit."""
    stats = os.fstatvfs(fd)
    room = stats.f_bavail * stats.f_frsize
    soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft != resource.RLIM_INFINITY:
        room = min(room, max(0, soft - os.fstat(fd).st_size))
    return room


class Reserve:
    """Space held in a file beside the log, released when the disk fills up."""

    def __init__(self, log_path: Path, size: int) -> None:
        self.path = log_path.with_name(f".{log_path.name}.reserve")
        self.size = size
        self.held = False

    def hold(self) -> None:
        if self.size <= 0:
            return
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        except OSError:
            return  # no reserve: the headroom check still refuses a run on a full disk
        try:
            os.posix_fallocate(fd, 0, self.size)
            self.held = True
        except OSError:
            self.held = False
        finally:
            os.close(fd)
        if not self.held:
            self.release()

    def release(self) -> bool:
        """Give the space back; True if there was some to give."""
        had = self.held
        self.held = False
        with contextlib.suppress(OSError):
            self.path.unlink()
        return had


def write_line(fd: int, data: bytes, reserve: Reserve | None, *, sync: bool = True) -> bool:
    """Append ``data`` whole and fsync it (unless ``sync`` is False: the caller fsyncs it later), or raise
    WriteFailed with the file as it was.

    True when the disk was full and the reserve had to be given back for it.
    """
    try:
        _append(fd, data, sync)
        return False
    except OSError as exc:
        if out_of_space(exc) and reserve is not None and reserve.release():
            try:
                _append(fd, data, sync)
                return True
            except OSError as again:
                exc = again
        raise WriteFailed(exc.errno, exc.strerror or str(exc)) from None


def out_of_space(exc: OSError) -> bool:
    return exc.errno in _OUT_OF_SPACE


def cut_back(fd: int, size: int) -> None:
    """Drop what was appended past ``size`` (a line whose fsync failed): the file ends on a whole line."""
    with contextlib.suppress(OSError):
        os.ftruncate(fd, size)


def _append(fd: int, data: bytes, sync: bool = True) -> None:
    size = os.fstat(fd).st_size
    try:
        written = 0
        while written < len(data):
            count = os.write(fd, data[written:])
            if count <= 0:
                raise OSError(errno.EIO, "the write made no progress")
            written += count
        if sync:
            os.fsync(fd)
    except OSError:
        cut_back(fd, size)  # never leave half a line: the chain must stay readable
        raise
