"""One interface to a throwaway PostgreSQL: a local cluster, a container, or temporary databases on a server.

``throwaway_target(kind, server_url=..., major_version=...)`` yields a
``Target``: an admin URL, a way to make a fresh database, and a ``note`` the
caller should print when the target is not quite what was asked (a major
version with no binaries installed here, or a server that runs another one).
``auto`` takes a server when a URL is given, else a local cluster (of the asked
major version where its binaries exist), else a container where a Docker engine
answers.

Always cleaned up: on success, on an exception, on Ctrl-C, and on SIGTERM or
SIGHUP (when nothing else handles them, the runner's own stop handlers are
installed for the block, so these signals end it like Ctrl-C; inside a run they
stay a stop request, and the run ends first). Cleanup itself is not cut short
by a second signal. After SIGKILL, the marker file lets the next start reap it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from runner.database import connections as db
from runner.errors import ConfigError
from runner.run import interrupts
from runner.target import DatabaseTarget
from runner.throwaway import server as servers
from runner.throwaway.cluster import LocalCluster, bindir_major, find_bindir, installed_majors
from runner.throwaway.container import container_postgres, docker_unavailable_reason
from runner.throwaway.markers import MarkerBook
from runner.throwaway.reaper import Reaped, reap_abandoned

KINDS = ("auto", "local", "container", "server")
LOCAL, CONTAINER, SERVER = "local", "container", "server"
_SHIELDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass(frozen=True)
class Target:
    """A throwaway PostgreSQL ready for use; ``new_database()`` makes a fresh, empty database on it."""

    kind: str  # local, container or server
    admin: DatabaseTarget  # a superuser of the throwaway server, or the server URL the caller gave
    server_version_num: int
    create: Callable[[str], DatabaseTarget] = field(repr=False, compare=False)
    note: str | None = None  # say this to the operator: the target is not quite what was asked for
    reaped: tuple[Reaped, ...] = ()  # what killed runs had left, cleaned up as this one started

    @property
    def major(self) -> int:
        return self.server_version_num // 10000

    @property
    def admin_url(self) -> str:
        return self.admin.url.render_as_string(hide_password=False)

    def new_database(self, prefix: str = "rehearsal") -> DatabaseTarget:
        """A fresh, empty database named ``PREFIX_`` and ten random hex digits."""
        return self.create(prefix)

    def describe(self) -> str:
        what = {LOCAL: "a throwaway local cluster", CONTAINER: "a throwaway container"}.get(
            self.kind, f"temporary databases on {self.admin.display}"
        )
        return f"{what} (PostgreSQL {self.major})"


def choose_kind(kind: str, *, server_url: object, major_version: int | None) -> str:
    """The concrete kind ``auto`` stands for here (or ``kind`` itself, checked)."""
    if kind not in KINDS:
        raise ConfigError(f"Unknown throwaway target kind {kind!r}; use {', '.join(KINDS)}.")
    if kind == SERVER and server_url is None:
        raise ConfigError("A server throwaway target needs the URL of an admin connection to that server.")
    if kind != "auto":
        return kind
    if server_url is not None:
        return SERVER
    majors = installed_majors()
    if major_version is not None and major_version not in majors and docker_unavailable_reason() is None:
        return CONTAINER
    try:
        find_bindir()
    except ConfigError as no_binaries:
        reason = docker_unavailable_reason()
        if reason is None:
            return CONTAINER
        raise ConfigError(f"{no_binaries.message} A container is no way out either: {reason}.") from None
    return LOCAL


@contextmanager
def throwaway_target(
    kind: str = "auto",
    *,
    server_url: str | DatabaseTarget | None = None,
    major_version: int | None = None,
    markers: MarkerBook | None = None,
) -> Iterator[Target]:
    """Yield a throwaway target; everything it made is gone when the block ends, however it ends."""
    book = markers or MarkerBook.default()
    server = (
        DatabaseTarget.parse(server_url, source="the server URL")
        if isinstance(server_url, str)
        else server_url
    )
    chosen = choose_kind(kind, server_url=server, major_version=major_version)
    reaped = reap_abandoned(book, servers=[server] if server is not None else [])
    with _signals_end_the_block():
        if chosen == LOCAL:
            source = _local(book, major_version)
        elif chosen == CONTAINER:
            source = _container(book, major_version)
        else:
            assert server is not None
            source = _server(server, book)
        with source as (admin, create, note):
            version = _server_version(admin)
            asked = major_version is not None and version // 10000 != major_version
            if asked and note is None:
                note = (
                    f"PostgreSQL {major_version} was asked for, but {admin.display} runs PostgreSQL "
                    f"{version // 10000}; the rehearsal uses it as it is."
                )
            yield Target(chosen, admin, version, create, note, reaped)


@contextmanager
def _local(book: MarkerBook, major: int | None) -> Iterator[tuple[DatabaseTarget, Any, str | None]]:
    bindir = find_bindir(major)
    note = None
    if major is not None and bindir_major(bindir) != major:
        note = (
            f"PostgreSQL {major} was asked for, but no server binaries for it are installed "
            f"(/usr/lib/postgresql/{major}/bin); the throwaway cluster runs PostgreSQL {bindir_major(bindir)} "
            f"from {bindir}."
        )
    cluster = LocalCluster(bindir, markers=book)
    try:
        admin = DatabaseTarget.parse(cluster.start(), source="the throwaway cluster")
        yield admin, lambda prefix: _create_database(admin, prefix), note
    finally:
        _shielded(cluster.stop)


@contextmanager
def _container(book: MarkerBook, major: int | None) -> Iterator[tuple[DatabaseTarget, Any, str | None]]:
    with container_postgres(book, major) as url:
        admin = DatabaseTarget.parse(url, source="the throwaway container")
        yield admin, lambda prefix: _create_database(admin, prefix), None


@contextmanager
def _server(server: DatabaseTarget, book: MarkerBook) -> Iterator[tuple[DatabaseTarget, Any, str | None]]:
    made = servers.TemporaryDatabases(server, book)
    failed: BaseException | None = None
    try:
        yield server, made.create, None
    except BaseException as exc:
        failed = exc
        raise
    finally:
        try:
            _shielded(made.drop_all)
        except Exception as exc:  # the server went away: the marker stays, a later run drops them
            if failed is None:
                raise
            failed.add_note(f"The temporary databases could not be dropped ({exc}); a later run drops them.")


def _create_database(admin: DatabaseTarget, prefix: str) -> DatabaseTarget:
    name = servers.new_name(prefix)
    with closing(db.connect(admin, servers.APPLICATION_NAME)) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return DatabaseTarget(admin.url.set(database=name))


def _server_version(admin: DatabaseTarget) -> int:
    with closing(db.connect(admin, servers.APPLICATION_NAME)) as conn:
        return int(conn.info.server_version)


def _shielded(cleanup: Callable[[], None]) -> None:
    """Run ``cleanup`` with stop signals held back (main thread); they arrive once it is done."""
    if threading.current_thread() is not threading.main_thread():
        cleanup()
        return
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _SHIELDED)
    try:
        cleanup()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


@contextmanager
def _signals_end_the_block() -> Iterator[None]:
    """When SIGTERM has no handler (a library caller), install the runner's: SIGTERM then ends the block like Ctrl-C."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return
    previous = interrupts.install_handlers()
    try:
        yield
    finally:
        for signum, handler in previous.items():
            with suppress(OSError, ValueError, TypeError):
                signal.signal(signum, handler)


ThrowawayTargets = Callable[..., AbstractContextManager[Target]]
