"""Console streams that survive their reader going away, and the command line as the operator typed it.

``runner apply | head -2`` closes the pipe after two lines, and a closed
terminal (SIGHUP) turns every write into EIO. Neither may stop or crash a run:
the audit log is the record. A lost stream is pointed at /dev/null (so the
interpreter's last flush is quiet) and remembered, so the run can log that the
console went away.
"""

from __future__ import annotations

import os
import shlex
import sys
from typing import Any

from rich.console import Console

from runner.redact import redact


class GuardedStream:
    """``sys.stdout`` or ``sys.stderr`` (looked up at each write), minus the crash when its reader is gone."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lost = False

    @property
    def _stream(self) -> Any:
        return getattr(sys, self.name)

    def write(self, text: str) -> int:
        if not self.lost:
            try:
                return int(self._stream.write(text))
            except OSError:  # BrokenPipeError, or EIO from a terminal that was closed
                self._lose()
        return len(text)

    def flush(self) -> None:
        if not self.lost:
            try:
                self._stream.flush()
            except OSError:
                self._lose()

    def isatty(self) -> bool:
        try:
            return bool(self._stream.isatty())
        except (OSError, ValueError):
            return False

    def fileno(self) -> int:
        return int(self._stream.fileno())

    @property
    def encoding(self) -> str:
        return str(getattr(self._stream, "encoding", None) or "utf-8")

    def _lose(self) -> None:
        self.lost = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass


def console_lost(console: Console) -> bool:
    return isinstance(console.file, GuardedStream) and console.file.lost


def command_line(argv: list[str] | None = None) -> str:
    """The command as the operator gave it (every option), for "Next:" hints; secrets masked."""
    args = sys.argv[1:] if argv is None else argv
    return "runner " + shlex.join(str(redact(arg)) for arg in args)
