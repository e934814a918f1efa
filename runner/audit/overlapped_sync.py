"""A line's fsync on a helper thread, so the wait for the disk overlaps the step's own statements.

``step_started`` must be durable before its step can commit, not before its first
statement; ``step_applied`` before the next step starts. Their lines are written
at once (a full disk or a file-size limit is met there, as for any line), and
only the fsync runs here; the log waits for it (``AuditLog.settle``) before it
writes anything else, before the step's commit and before its hash is anchored.
An fsync that fails is reported to that wait, which cuts the line back off.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

fsync = os.fsync  # looked up at each call: a test makes it fail on the helper thread


@dataclass
class Unsynced:
    """The one line written but not yet known to be on disk, and the log's state from before it."""

    done: Future[None]
    size_before: int
    data: bytes
    seq: int
    prev: str
    chain_id: str | None


class Syncer:
    """One helper thread, started on first use, that fsyncs the log's file."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None

    def start(self, fd: int) -> Future[None]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="runner-audit-fsync")
        return self._pool.submit(_fsync, fd)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def _fsync(fd: int) -> None:
    fsync(fd)
