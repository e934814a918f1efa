"""Marker files: what a throwaway target must clean up, and whose it is, for a later run to reap.

Cleanup in ``finally`` covers an exception, Ctrl-C and SIGTERM; it can't cover
SIGKILL, the OOM killer or a host that lost power. So before a throwaway target
exists, a marker file says who owns it (pid and start time) and what to clean:
a cluster's directory and postmaster pid, a container's id, or a server and the
temporary databases made on it. The owner removes its marker once it has
cleaned up; a later start finds the markers whose owner is gone and reaps them.

Markers live in one directory per OS user (``$RUNNER_THROWAWAY_DIR``, default
``migration-runner-UID`` in the system's temporary directory), mode 0700, each
file 0600 and written whole (temporary file, then rename). A server's URL is
stored without its password: reaping a temporary database on a server that
needs one uses the password of a URL the reaping run was given for that server.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runner.errors import ConfigError
from runner.throwaway.processes import Owner

DIRECTORY_ENV = "RUNNER_THROWAWAY_DIR"
SUFFIX = ".json"
CLAIMED = ".reaping-"  # a marker being reaped is renamed NAME.json.reaping-PID


@dataclass(frozen=True)
class Marker:
    """What one throwaway target left to clean up; ``kind`` is local, container or server."""

    kind: str
    owner_pid: int
    owner_started: str | None
    created: str
    root: str | None = None  # local: the cluster's directory (data directory, socket, log)
    postmaster_pid: int | None = None  # local: once the server has started
    os_user: int | None = None  # local: the uid the cluster runs as, when the runner is root
    bindir: str | None = None  # local: the server binaries it was started with
    container_id: str | None = None  # container
    server: str | None = None  # server: the admin URL, password removed
    databases: tuple[str, ...] = field(default=())  # server: the temporary databases made there

    @classmethod
    def new(cls, kind: str, **fields: Any) -> Marker:
        owner = Owner.me()
        created = datetime.now(UTC).isoformat(timespec="seconds")
        return cls(kind, owner.pid, owner.started, created, **fields)

    @property
    def owner(self) -> Owner:
        return Owner(self.owner_pid, self.owner_started)

    def describe(self) -> str:
        if self.kind == "local":
            return f"throwaway cluster {self.root}"
        if self.kind == "container":
            return f"throwaway container {(self.container_id or '?')[:12]}"
        return f"temporary database(s) {', '.join(self.databases) or '(none yet)'} on {self.server}"

    def as_json(self) -> str:
        return json.dumps({**asdict(self), "databases": list(self.databases)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Marker:
        data = json.loads(text)
        data["databases"] = tuple(data.get("databases") or ())
        known = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in data.items() if key in known})


class MarkerBook:
    """The directory of markers: write, rewrite and remove one's own; list and claim the abandoned."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def default(cls) -> MarkerBook:
        base = os.environ.get(DIRECTORY_ENV) or str(
            Path(tempfile.gettempdir()) / f"migration-runner-{os.geteuid()}"
        )
        return cls(Path(base))

    def ensure(self) -> None:
        """Create the directory (0700), or refuse one that another user owns or others may write to."""
        with contextlib.suppress(FileExistsError):
            self.directory.mkdir(mode=0o700, parents=True)
        info = os.lstat(self.directory)
        if (
            not stat.S_ISDIR(info.st_mode)
            or info.st_uid != os.geteuid()
            or stat.S_IMODE(info.st_mode) & 0o022
        ):
            raise ConfigError(
                f"The throwaway marker directory {self.directory} is not a directory of this user's that only it "
                f"may write to; remove it, or set {DIRECTORY_ENV} to a directory of your own."
            )

    def write(self, marker: Marker, path: Path | None = None) -> Path:
        """Write ``marker`` whole (to ``path``, or to a new file); returns its path."""
        self.ensure()
        path = path or self.directory / f"{marker.kind}-{marker.owner_pid}-{secrets.token_hex(4)}{SUFFIX}"
        scratch = path.with_name(f".{path.name}.{secrets.token_hex(3)}.tmp")
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(marker.as_json())
        os.replace(scratch, path)
        return path

    def update(self, path: Path, marker: Marker, **changes: Any) -> Marker:
        changed = replace(marker, **changes)
        self.write(changed, path)
        return changed

    @staticmethod
    def remove(path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    def abandoned(self) -> Iterator[tuple[Path, Marker]]:
        """Each marker whose owner has ended (or whose reaper died), claimed for this process."""
        if not self.directory.is_dir():
            return
        for path in sorted(self.directory.iterdir()):
            claimed = path.name.rpartition(CLAIMED)
            if claimed[1]:
                if not _pid_alive(claimed[2]):
                    yield from self._claim(path, path.with_name(claimed[0]), check_owner=False)
            elif path.name.endswith(SUFFIX) and not path.name.startswith("."):
                yield from self._claim(path, path, check_owner=True)

    def _claim(self, path: Path, original: Path, *, check_owner: bool) -> Iterator[tuple[Path, Marker]]:
        try:
            marker = Marker.from_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError):
            return  # being written right now, or not a marker: left alone
        if check_owner and marker.owner.alive():
            return
        mine = original.with_name(f"{original.name}{CLAIMED}{os.getpid()}")
        try:
            os.rename(path, mine)
        except FileNotFoundError:
            return  # another run claimed it first
        yield mine, marker

    def release(self, claimed: Path, marker: Marker) -> None:
        """Give back a claimed marker that could not be reaped now (its server did not answer)."""
        original = claimed.with_name(claimed.name.rpartition(CLAIMED)[0])
        self.write(marker, original)
        self.remove(claimed)


def _pid_alive(text: str) -> bool:
    return text.isdigit() and Owner(int(text)).alive()
