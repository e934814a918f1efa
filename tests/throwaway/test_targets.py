"""The throwaway interface: which kind is chosen, the version asked for, fresh databases, markers that are safe."""

from __future__ import annotations

import os
from contextlib import closing

import pytest

from runner.database import connections as db
from runner.errors import ConfigError
from runner.throwaway.cluster import installed_majors
from runner.throwaway.container import docker_unavailable_reason
from runner.throwaway.markers import DIRECTORY_ENV, Marker, MarkerBook
from runner.throwaway.processes import Owner
from runner.throwaway.reaper import reap_abandoned
from runner.throwaway.targets import choose_kind, throwaway_target
from tests import pg


@pytest.fixture
def book(tmp_path, monkeypatch) -> MarkerBook:
    directory = tmp_path / "markers"
    monkeypatch.setenv(DIRECTORY_ENV, str(directory))
    return MarkerBook(directory)


def test_auto_takes_the_server_when_a_url_is_given_and_a_local_cluster_otherwise():
    """auto: a server URL means that server; without one, the local binaries installed here."""
    assert choose_kind("auto", server_url="postgresql://x@h/db", major_version=None) == "server"
    assert choose_kind("auto", server_url=None, major_version=None) == "local"


def test_an_unknown_kind_and_a_server_without_url_are_refused():
    """Bad input is one sentence, exit 3."""
    with pytest.raises(ConfigError) as unknown:
        choose_kind("docker", server_url=None, major_version=None)
    assert (
        unknown.value.message == "Unknown throwaway target kind 'docker'; use auto, local, container, server."
    )
    with pytest.raises(ConfigError) as no_url:
        choose_kind("server", server_url=None, major_version=None)
    assert no_url.value.message == (
        "A server throwaway target needs the URL of an admin connection to that server."
    )
    assert int(no_url.value.exit_code) == 3


def test_a_temporary_database_on_a_server_is_dropped_even_with_a_session_open(book):
    """server kind: CREATE DATABASE with a random name; dropped WITH (FORCE) though a session still uses it."""
    with throwaway_target("server", server_url=pg.ADMIN_URL) as target:
        assert target.kind == "server" and target.admin.display == pg.ADMIN_URL and target.note is None
        database = target.new_database("rehearsal")
        assert database.database.startswith("rehearsal_") and len(database.database) == len("rehearsal_") + 10
        marker = Marker.from_json(next(book.directory.iterdir()).read_text())
        assert marker.databases == (database.database,) and marker.server == pg.ADMIN_URL
        lingering = db.connect(database)
    try:
        with closing(pg.admin()) as conn:
            assert (
                conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database.database]).fetchone()
                is None
            )
        assert list(book.directory.iterdir()) == []
    finally:
        lingering.close()


def test_a_major_version_that_can_t_be_had_is_said_in_the_note(book):
    """A server running another major version: the target says so, in a sentence the caller prints."""
    with throwaway_target("server", server_url=pg.ADMIN_URL, major_version=99) as target:
        assert target.note == (
            f"PostgreSQL 99 was asked for, but {pg.ADMIN_URL} runs PostgreSQL {target.major}; the rehearsal uses it "
            "as it is."
        )


def test_a_local_cluster_of_the_asked_version_or_a_note_naming_the_one_it_runs(book):
    """local kind: the installed major asked for runs with no note; one not installed is named, with what runs."""
    newest, bindir = list(installed_majors().items())[-1]
    with throwaway_target("local", major_version=newest) as exact:
        assert exact.major == newest and exact.note is None
        assert exact.describe() == f"a throwaway local cluster (PostgreSQL {newest})"
    with throwaway_target("local", major_version=99) as other:
        assert other.note == (
            "PostgreSQL 99 was asked for, but no server binaries for it are installed (/usr/lib/postgresql/99/bin); "
            f"the throwaway cluster runs PostgreSQL {newest} from {bindir}."
        )


def test_a_container_without_a_docker_engine_is_refused_with_the_reason(book):
    """--target container where no Docker engine answers: exit 3, naming why."""
    reason = docker_unavailable_reason()
    if reason is None:
        pytest.skip("a Docker engine answers here; the refusal can't be shown")
    with pytest.raises(ConfigError) as refused, throwaway_target("container"):
        pass
    assert refused.value.message == f"A throwaway container was asked for, but {reason}."


def test_a_container_target_runs_postgresql_and_is_removed(book):
    """container kind: a real PostgreSQL container, with its id in the marker while it runs."""
    reason = docker_unavailable_reason()
    if reason is not None:
        pytest.skip(f"container throwaway targets need a Docker engine: {reason}")
    with throwaway_target("container", major_version=16) as target:
        assert target.kind == "container" and target.major == 16
        marker = Marker.from_json(next(book.directory.iterdir()).read_text())
        assert marker.container_id
    assert list(book.directory.iterdir()) == []


def test_a_marker_whose_pid_now_belongs_to_another_process_is_abandoned(book):
    """Owner identity is pid plus start time: a live pid with another start time is a stranger."""
    assert Owner.me().alive()
    assert not Owner(os.getpid(), "1").alive()
    book.write(Marker("server", os.getpid(), "1", "2026-01-01T00:00:00+00:00", server=pg.ADMIN_URL))
    book.write(Marker.new("server", server=pg.ADMIN_URL))  # this process's own, alive

    reaped = reap_abandoned(book)

    assert [(r.done, r.detail) for r in reaped] == [(True, "no database had been made")]
    assert len(list(book.directory.iterdir())) == 1


def test_a_marker_that_can_t_be_reaped_now_is_kept_for_later(book):
    """A server that does not answer: reported, not raised, and the marker stays for the next start."""
    url = "postgresql://nobody@127.0.0.1:1/postgres"
    book.write(
        Marker("server", 999_999_999, None, "2026-01-01T00:00:00+00:00", server=url, databases=("gone_1",))
    )

    (reaped,) = reap_abandoned(book)

    assert not reaped.done
    assert reaped.describe().startswith(
        f"could not reap the temporary database(s) gone_1 on {url} left by process 999999999 (Unreachable: "
    )
    assert [p.name.endswith(".json") for p in book.directory.iterdir()] == [True]


def test_a_marker_directory_others_may_write_to_is_refused(tmp_path):
    """A shared, writable marker directory could be used to make the reaper remove someone else's files."""
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    with pytest.raises(ConfigError) as refused:
        MarkerBook(shared).write(Marker.new("server", server=pg.ADMIN_URL))
    assert refused.value.message.startswith(
        f"The throwaway marker directory {shared} is not a directory of this user's"
    )
