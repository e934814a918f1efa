"""Throwaway PostgreSQL for rehearsals and the demo: a local cluster, or a container.

A local cluster lives in a temporary directory and listens only on a unix socket
there, with durability switched off (it is thrown away). ``initdb`` refuses to
run as root, so when the runner is root the cluster runs as an unprivileged
user. Where a Docker engine answers, a testcontainers PostgreSQL can be used
instead; without one, the local cluster is the fallback.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from runner.errors import ConfigError, RunnerError

SUPERUSER = "runner"
START_TIMEOUT_S = 60
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


def find_bindir() -> Path:
    """PostgreSQL server binaries: $RUNNER_PG_BINDIR, pg_config, Debian's layout, or PATH."""
    candidates: list[Path] = []
    if os.environ.get("RUNNER_PG_BINDIR"):
        candidates.append(Path(os.environ["RUNNER_PG_BINDIR"]))
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    candidates.extend(debian)
    if shutil.which("initdb"):
        candidates.append(Path(str(shutil.which("initdb"))).parent)
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    raise ConfigError(
        "No PostgreSQL server binaries (initdb, pg_ctl) were found for a throwaway cluster; install the "
        "PostgreSQL server package or set RUNNER_PG_BINDIR to its bin directory."
    )


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (0,)


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
    """One throwaway cluster; ``url`` is ready after ``start()``.

    ``settings`` are extra server settings (``{"max_connections": "3"}``), over the fast defaults.
    """

    def __init__(self, bindir: Path | None = None, settings: Mapping[str, str] | None = None) -> None:
        self.bindir = bindir or find_bindir()
        self.settings = {**_FAST_SETTINGS, **(settings or {})}
        self.user = cluster_user()
        self.root = Path(tempfile.mkdtemp(prefix="runner-pg-"))
        self.data = self.root / "data"
        self.port = 5432  # unix socket only, in a private directory: no clash possible
        self.url = f"postgresql://{SUPERUSER}@/postgres?host={self.root}&port={self.port}"

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

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with suppress(ThrowawayError):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def docker_unavailable_reason() -> str | None:
    """None when a Docker engine answers; otherwise why not (shown when tests skip)."""
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception as exc:  # DockerException, connection refused, no socket, no package
        return f"no Docker engine answers ({type(exc).__name__}: {str(exc)[:160]})"
    return None


@contextmanager
def docker_postgres(image: str = "postgres:15-alpine") -> Iterator[str]:
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer(image, driver=None) as container:
        yield container.get_connection_url()


@contextmanager
def throwaway_postgres(provider: str = "auto") -> Iterator[str]:
    """Yield the URL of a fresh PostgreSQL; ``provider`` is auto, local or docker."""
    if provider not in ("auto", "local", "docker"):
        raise ConfigError(f"Unknown throwaway provider {provider!r}; use auto, local or docker.")
    use_local = provider == "local"
    if provider == "auto":
        try:
            find_bindir()
            use_local = True
        except ConfigError:
            use_local = docker_unavailable_reason() is not None
    if not use_local:
        reason = docker_unavailable_reason()
        if reason:
            raise ConfigError(f"A throwaway container was asked for, but {reason}.")
        with docker_postgres() as url:
            yield url
        return
    cluster = LocalCluster()
    try:
        yield cluster.start()
    finally:
        cluster.stop()
