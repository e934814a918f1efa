"""Writing a file that holds what the audit log holds (a report): mode 0600, never through a link.

A report repeats every statement a run executed, so it gets the log's own
protection: created 0600 (an existing file open to others is tightened), a
symbolic link or anything but a regular file is refused, and the log itself
is never overwritten by its own report.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from runner.errors import ConfigError

FILE_MODE = 0o600


def write_private(path: Path, text: str, *, option: str, log: Path | None = None) -> None:
    """Replace ``path``'s content with ``text``; ConfigError (exit 3) naming ``option`` when it can't."""
    if log is not None and _same_file(path, log):
        raise ConfigError(f"{option} {path} is the audit log itself; give the report a file of its own.")
    try:
        # O_NONBLOCK: a FIFO without a reader fails at once (ENXIO) instead of hanging the command
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
        fd = os.open(path, flags, FILE_MODE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ConfigError(
                f"{option} {path} is a symbolic link; refusing to follow it, since the report holds the same "
                "statements as the audit log. Give a regular file's path."
            ) from None
        if exc.errno in (errno.ENXIO, errno.EISDIR):
            raise _not_regular(option, path) from None
        raise ConfigError(f"{option} {path} can't be written: {exc.strerror}.") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(option, path)
        if stat.S_IMODE(mode) & 0o077:
            os.fchmod(fd, FILE_MODE)  # an existing file readable by others is tightened, not trusted
        os.ftruncate(fd, 0)
        with os.fdopen(os.dup(fd), "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
    except OSError as exc:
        raise ConfigError(f"{option} {path} can't be written: {exc.strerror}.") from None
    finally:
        os.close(fd)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _not_regular(option: str, path: Path) -> ConfigError:
    return ConfigError(
        f"{option} {path} is not a regular file; the report is written only to a file, with mode 0600."
    )
