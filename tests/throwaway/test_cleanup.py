"""Throwaway targets are always cleaned up: after an exception, after SIGTERM, and (by the next start) after SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from runner.throwaway.markers import DIRECTORY_ENV, MarkerBook
from runner.throwaway.processes import exists
from runner.throwaway.targets import throwaway_target
from tests import pg
from tests.cli import ROOT


@pytest.fixture
def book(tmp_path, monkeypatch) -> MarkerBook:
    """A marker directory of this test's own (also for the processes it starts)."""
    directory = tmp_path / "markers"
    monkeypatch.setenv(DIRECTORY_ENV, str(directory))
    return MarkerBook(directory)


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (a postmaster's backends and workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rfind(")") + 2 :].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def database_exists(name: str) -> bool:
    with pg.admin() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def hold(*kinds: str) -> tuple[subprocess.Popen[str], list[dict]]:
    """Start tests/throwaway/holder.py holding ``kinds``; returns it and what it holds, once all are ready."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.throwaway.holder", *kinds],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    line = proc.stdout.readline()  # type: ignore[union-attr]
    assert line, proc.stderr.read()  # type: ignore[union-attr]
    return proc, json.loads(line)


def test_a_local_cluster_is_gone_after_an_exception(book):
    """An exception inside the block: the postmaster is stopped, the directory and the marker removed."""
    with pytest.raises(RuntimeError, match="the rehearsal failed"), throwaway_target("local") as target:
        root = Path(target.admin.url.query["host"])
        postmaster = int((root / "data" / "postmaster.pid").read_text().split()[0])
        (marker,) = book.directory.iterdir()
        assert json.loads(marker.read_text())["postmaster_pid"] == postmaster
        raise RuntimeError("the rehearsal failed")
    assert not exists(postmaster)
    assert not root.exists()
    assert list(book.directory.iterdir()) == []


def test_sigterm_cleans_up_a_cluster_and_a_temporary_database(book):
    """SIGTERM to a process holding a local cluster and a database on a server: both gone when it exits."""
    proc, held = hold("local", f"server={pg.ADMIN_URL}")
    local, server = held
    backends = children(local["postmaster"])
    assert exists(local["postmaster"]) and database_exists(server["database"])

    proc.send_signal(signal.SIGTERM)

    assert proc.wait(timeout=30) == 1
    assert "stopped by SIGTERM" in proc.stderr.read()  # type: ignore[union-attr]
    assert not exists(local["postmaster"])
    assert not [pid for pid in backends if exists(pid)]
    assert not Path(local["root"]).exists()
    assert not database_exists(server["database"])
    assert list(book.directory.iterdir()) == []


def test_after_sigkill_the_next_start_reaps_what_was_left(book):
    """SIGKILL leaves the cluster running and the database there; the next start stops, removes and drops them."""
    proc, held = hold("local", f"server={pg.ADMIN_URL}")
    local, server = held
    backends = children(local["postmaster"])
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert (
        exists(local["postmaster"]) and Path(local["root"]).exists() and database_exists(server["database"])
    )

    with throwaway_target("server", server_url=pg.ADMIN_URL) as target:
        reaped = {r.what: r for r in target.reaped}

    cluster = reaped[f"throwaway cluster {local['root']}"]
    assert cluster.done and cluster.owner_pid == proc.pid
    assert cluster.detail == f"postmaster {local['postmaster']} stopped; {local['root']} removed"
    database = reaped[f"temporary database(s) {server['database']} on {pg.ADMIN_URL}"]
    assert database.done and database.detail == f"dropped {server['database']}"
    assert not exists(local["postmaster"])
    assert not [pid for pid in backends if exists(pid)]
    assert not Path(local["root"]).exists()
    assert not database_exists(server["database"])
    assert list(book.directory.iterdir()) == []


def test_a_live_owner_s_target_is_never_reaped(book):
    """Two targets at once in one process: starting the second leaves the first alone."""
    with throwaway_target("server", server_url=pg.ADMIN_URL) as first:
        made = first.new_database("first")
        with throwaway_target("server", server_url=pg.ADMIN_URL) as second:
            assert second.reaped == ()
            assert database_exists(made.database)
    assert not database_exists(made.database)
