"""The real command line against a real database, for fuzz cases: what came out, and whether anything changed.

Each case runs ``python -m runner`` in a subprocess, in the fuzz directory (so a
default audit log lands there), with AWS and HTTP pointed at a closed port on
127.0.0.1: whatever a fuzzed playbook names, nothing leaves the machine. The
database's state is its schema as ``runner drift`` reads it (``runner_history``
included), its version table and the ``runner_history`` table's presence.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.drift.snapshot import take
from tests import pg
from tests.fuzz.budget import DOCUMENTED_EXITS, REFUSED_EXITS

CLOSED_PORT = "http://127.0.0.1:9"  # discard: nothing listens, a connection is refused at once
URL_ENV = "FUZZ_TARGET_URL"
SAFE_ENV = {
    "AWS_ENDPOINT_URL": CLOSED_PORT,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ACCESS_KEY_ID": "AKIAFUZZFUZZFUZZFUZZ",
    "AWS_SECRET_ACCESS_KEY": "fuzz-secret-key-not-real",
    "AWS_REGION": "us-east-1",
    "HTTP_PROXY": CLOSED_PORT,
    "HTTPS_PROXY": CLOSED_PORT,
    "http_proxy": CLOSED_PORT,
    "https_proxy": CLOSED_PORT,
    "RUNNER_OPERATOR": "fuzz",
    "RUNNER_RECONNECT_S": "1",
}
DROPPED_ENV = ("DATABASE_URL", "PGPASSWORD", "NO_PROXY", "no_proxy", "AWS_PROFILE", "AWS_SESSION_TOKEN")


@dataclass(frozen=True)
class Outcome:
    args: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str

    def check(self) -> None:
        """A documented exit code, never 70, and never a traceback."""
        shown = f"runner {' '.join(self.args)!r} exited {self.exit_code}:\n{self.stdout[-2000:]}\n{self.stderr[-3000:]}"
        assert self.exit_code in DOCUMENTED_EXITS, shown
        assert "Traceback" not in self.stdout + self.stderr, shown
        assert "Internal error" not in self.stderr, shown

    @property
    def refused(self) -> bool:
        return self.exit_code in REFUSED_EXITS


def start_cli(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    merged = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    merged.update(SAFE_ENV)
    merged.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "runner", *args],
        cwd=cwd,
        env=merged,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def finish(process: subprocess.Popen[bytes], args: list[str], timeout: float = 120) -> Outcome:
    out, err = process.communicate(timeout=timeout)
    return Outcome(
        tuple(args), process.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    )


def run_cli(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> Outcome:
    return finish(start_cli(args, cwd, env), args)


class FuzzTarget:
    """A test database cloned from a template, put back to the template whenever a case changed it."""

    def __init__(self, template: str) -> None:
        self.template = template
        self.name = pg.create_database(template)
        self.pristine = self.state()

    @property
    def url(self) -> str:
        return pg.url_for(self.name)

    @property
    def env(self) -> dict[str, str]:
        return {URL_ENV: self.url}

    def state(self) -> tuple[Any, ...]:
        """The schema (runner_history included), the version table's rows, and whether runner_history exists."""
        with closing(pg.connect(self.name)) as conn:
            snapshot = take(conn, exclude_tables=())
            history = conn.execute("SELECT to_regclass('runner_history') IS NOT NULL").fetchone()
        return (snapshot, tuple(pg.heads(self.name)), history)

    def settle(self, outcome: Outcome) -> str:
        """After a case: a refused one must have changed nothing; any other is put back. Returns a tally label."""
        now = self.state()
        if outcome.refused:
            assert now == self.pristine, f"a refused run (exit {outcome.exit_code}) changed the database"
            return f"exit {outcome.exit_code}"
        if now != self.pristine:
            self.reset()
        return f"exit {outcome.exit_code}"

    def reset(self) -> None:
        pg.drop_database(self.name)
        self.name = pg.create_database(self.template)

    def drop(self) -> None:
        pg.drop_database(self.name)
