"""A throwaway local PostgreSQL cluster: ``initdb`` and ``pg_ctl`` in a temporary directory.

The cluster listens only on a unix socket in its own directory, with durability
switched off (it is thrown away). ``initdb`` refuses to run as root, so when the
runner is root the cluster runs as an unprivileged user. A marker file is
written before anything is made and removed after everything is gone, so a run
killed in between is cleaned up by the next one (``reaper``).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from runner.errors import ConfigError, RunnerError
from runner.throwaway.markers import Marker, MarkerBook
from runner.throwaway.processes import command_line, end_process, exists

SUPERUSER = "runner"
START_TIMEOUT_S = 60
DEBIAN_LAYOUT = Path("/usr/lib/postgresql")
_FAST_SETTINGS = {
    "listen_addresses": "''",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "60",
    "shared_buffers": "64MB",
}


class ThrowawayError(RunnerError):
    """A throwaway PostgreSQL could not be started."""


def installed_majors(layout: Path = DEBIAN_LAYOUT) -> dict[int, Path]:
    """PostgreSQL server binaries by major version, in Debian's layout (``/usr/lib/postgresql/N/bin``)."""
    found = {}
    for bindir in layout.glob("*/bin"):
        if bindir.parent.name.isdigit() and (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            found[int(bindir.parent.name)] = bindir
    return dict(sorted(found.items()))


def bindir_major(bindir: Path) -> int | None:
    """The major version of the binaries in ``bindir`` (from ``pg_ctl --version``)."""
    out = subprocess.run([str(bindir / "pg_ctl"), "--version"], capture_output=True, text=True, check=False)
    found = re.search(r"(\d+)(?:\.\d+)?", out.stdout)
    return int(found.group(1)) if out.returncode == 0 and found else None


def find_bindir(major: int | None = None) -> Path:
    """Server binaries: $RUNNER_PG_BINDIR, ``/usr/lib/postgresql/MAJOR/bin``, pg_config, the newest in Debian's layout, or PATH."""
    if major is not None and major in installed_majors():
        return installed_majors()[major]
    candidates: list[Path] = []
    if os.environ.get("RUNNER_PG_BINDIR"):
        candidates.append(Path(os.environ["RUNNER_PG_BINDIR"]))
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    candidates.extend(reversed(installed_majors().values()))
    if shutil.which("initdb"):
        candidates.append(Path(str(shutil.which("initdb"))).parent)
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    raise ConfigError(
        "No PostgreSQL server binaries (initdb, pg_ctl) were found for a throwaway cluster; install the "
        "PostgreSQL server package or set RUNNER_PG_BINDIR to its bin directory."
    )


@dataclass(frozen=True)
class OsUser:
    name: str
    uid: int
    gid: int


def cluster_user() -> OsUser | None:
    """None when we may run initdb ourselves; otherwise the unprivileged user to run it as."""
    if os.geteuid() != 0:
        return None
    for name in filter(None, [os.environ.get("RUNNER_PG_OS_USER"), "postgres", "nobody"]):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return OsUser(entry.pw_name, entry.pw_uid, entry.pw_gid)
    raise ConfigError("Running as root and no unprivileged user (postgres, nobody) exists to run initdb as.")


class LocalCluster:
    """One throwaway cluster; ``url`` is ready after ``start()``, and ``stop()`` removes every trace.

    ``settings`` are extra server settings (``{"max_connections": "3"}``), over the fast defaults.
    """

    def __init__(
        self,
        bindir: Path | None = None,
        settings: Mapping[str, str] | None = None,
        *,
        markers: MarkerBook | None = None,
    ) -> None:
        self.bindir = bindir or find_bindir()
        self.settings = {**_FAST_SETTINGS, **(settings or {})}
        self.user = cluster_user()
        self.markers = markers or MarkerBook.default()
        self.root = Path(tempfile.mkdtemp(prefix="runner-pg-"))
        self.data = self.root / "data"
        self.port = 5432  # unix socket only, in a private directory: no clash possible
        self.url = f"postgresql://{SUPERUSER}@/postgres?host={self.root}&port={self.port}"
        self.marker = Marker.new(
            "local",
            root=str(self.root),
            os_user=self.user.uid if self.user else None,
            bindir=str(self.bindir),
        )
        try:
            self.marker_path: Path | None = self.markers.write(self.marker)
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    def _run(self, *args: str) -> None:
        kwargs: dict[str, object] = {"capture_output": True, "text": True, "check": False}
        if self.user is not None:
            kwargs.update(user=self.user.uid, group=self.user.gid, cwd=str(self.root))
        result = subprocess.run([str(self.bindir / args[0]), *args[1:]], **kwargs)  # type: ignore[call-overload]
        if result.returncode != 0:
            log = self.root / "server.log"
            detail = (result.stderr or result.stdout).strip()
            if log.exists():
                detail += " " + log.read_text(errors="replace")[-800:]
            raise ThrowawayError(
                f"{args[0]} failed for the throwaway cluster in {self.root}: {detail.strip()}"
            )

    def start(self) -> str:
        if self.user is not None:
            os.chown(self.root, self.user.uid, self.user.gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )
        self.pg_ctl("start")
        return self.url

    def pg_ctl(self, action: str, mode: str = "fast") -> None:
        """``pg_ctl start``, ``restart`` or ``stop`` (``mode`` for the last two), waiting until done."""
        options = " ".join(f"-c {k}={v}" for k, v in self.settings.items())
        options += f" -c unix_socket_directories={self.root} -c port={self.port}"
        mode_args = [] if action == "start" else ["-m", mode]
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            str(START_TIMEOUT_S),
            *mode_args,
            *([] if action == "stop" else ["-o", options]),
            action,
        )
        pid = postmaster_pid(self.root)
        if action != "stop" and pid and self.marker_path is not None:
            self.marker = self.markers.update(self.marker_path, self.marker, postmaster_pid=pid)

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with suppress(ThrowawayError):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        remove_cluster(self.marker)
        if self.marker_path is not None:
            self.markers.remove(self.marker_path)
            self.marker_path = None


def postmaster_pid(root: Path) -> int | None:
    """The pid in ``data/postmaster.pid`` (its first line), while the server runs."""
    try:
        first = (root / "data" / "postmaster.pid").read_text().split("\n", 1)[0].strip()
    except OSError:
        return None
    return int(first) if first.isdigit() else None


def remove_cluster(marker: Marker) -> str:
    """Stop a cluster's postmaster (immediate shutdown) if it still runs, and remove its directory.

    Only a process that the cluster's own ``postmaster.pid`` names, and whose command line names its
    data directory, is signalled: never a stranger that was given the same pid later.
    """
    root = Path(str(marker.root))
    if not root.name.startswith("runner-pg-"):
        return f"{root} is not a throwaway cluster's directory; left alone"
    said = []
    pid = postmaster_pid(root) or marker.postmaster_pid
    line = command_line(pid) if pid else None
    if pid and exists(pid) and postmaster_pid(root) == pid and (line is None or str(root) in line):
        said.append(f"postmaster {pid} stopped" if end_process(pid) else f"postmaster {pid} would not stop")
    if root.exists():
        shutil.rmtree(root, ignore_errors=True)
        said.append(f"{root} removed" if not root.exists() else f"{root} could not be removed")
    return "; ".join(said) or "nothing was left"
