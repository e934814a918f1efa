"""One sweep for secrets: every command an operator runs, every place the runner writes, none of them.

A throwaway cluster logs every statement (``log_statement = all``). The database
URL carries a password made of the characters URLs treat specially
(``:@/#?&%``), PGPASSWORD holds another, and AWS keys and a session token are
in the environment. Then status, plan, lint, apply (done, halted, rolled back),
resume, rehearse, drift, audit verify and report (Markdown and HTML) and restore
run, as text and as --json; and stdout, stderr, the audit logs, the reports,
every runner_history row and the server's own log are searched for each secret.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from runner.throwaway.markers import DIRECTORY_ENV
from tests.cli import ROOT
from tests.conftest import EXAMPLE_INI, PRODUCTION_REVISION
from tests.faults import Cluster, alembic_upgrade, connect

DB_PASSWORD = "Sw33p:@/#?&%-pw"
PG_PASSWORD = "Sw33p-pgpassword-value"
AWS_KEY_ID = "AKIASWEEPEXAMPLE7Q2Z"
AWS_SECRET = "Sw33pAwsSecretKey/K7MDENG+bPxRfiCYEXAMPLE"
AWS_TOKEN = "Sw33pSessionToken//////////wEaDEXAMPLE=="
SECRETS = (DB_PASSWORD, quote(DB_PASSWORD, safe=""), PG_PASSWORD, AWS_KEY_ID, AWS_SECRET, AWS_TOKEN)
ROLE = "sweeper"

ROLLBACK_PLAYBOOK = """\
version: 1
project:
  alembic_config: {ini}
  from_revision: "20260115_0200"
target:
  name: sweep
  environment: rehearsal
  url_env: SWEEP_URL
audit:
  log: {log}
acknowledgements:
  - code: LK107
    revision: "20260127_0100"
    reason: the value is only added; nothing reads it before this run ends
on_failure: rollback
rollback_to: "7702d353e5b8"
checks:
  after_all:
    - sql: SELECT count(*) FROM payment_methods
      scalar: 1
"""


@pytest.fixture(scope="module")
def cluster():
    """A cluster whose log keeps every statement, with a login role whose password is a secret."""
    server = Cluster()
    with closing(connect(server.admin_url)) as conn:
        conn.execute(f"CREATE ROLE {ROLE} LOGIN SUPERUSER PASSWORD '{DB_PASSWORD}'")  # before logging starts
        conn.execute("ALTER SYSTEM SET log_statement = 'all'")
        conn.execute("SELECT pg_reload_conf()")
    yield server
    server.close()


def _url(cluster: Cluster, database: str) -> str:
    socket = cluster.admin_url.split("host=")[1].split("&")[0]
    return f"postgresql://{ROLE}:{quote(DB_PASSWORD, safe='')}@/{database}?host={socket}&port=5432"


def _database(cluster: Cluster, name: str, at: str | None = PRODUCTION_REVISION) -> str:
    cluster.create_database(name)
    url = _url(cluster, name)
    if at is not None:
        alembic_upgrade(EXAMPLE_INI, url, at)
    return url


class Sweep:
    """Runs the CLI with the secrets in its environment and keeps every output."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.outputs: list[tuple[str, str]] = []

    def run(
        self, *args: str, expect: int | tuple[int, ...] = 0, **env: str
    ) -> subprocess.CompletedProcess[str]:
        merged = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            "PGPASSWORD": PG_PASSWORD,
            "AWS_ACCESS_KEY_ID": AWS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
            "AWS_SESSION_TOKEN": AWS_TOKEN,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            DIRECTORY_ENV: str(self.tmp / "markers"),
            **env,
        }
        done = subprocess.run(
            [sys.executable, "-m", "runner", *args], cwd=ROOT, env=merged, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
        wanted = expect if isinstance(expect, tuple) else (expect,)
        assert done.returncode in wanted, (
            f"runner {' '.join(args)}: {done.returncode}\n{done.stdout}{done.stderr}"
        )
        self.outputs += [(f"{args[0]} stdout", done.stdout), (f"{args[0]} stderr", done.stderr)]
        return done


def _history(url: str) -> str:
    with closing(psycopg.connect(url.replace(f":{quote(DB_PASSWORD, safe='')}", ""))) as conn:
        if conn.execute("SELECT to_regclass('runner_history')").fetchone()[0] is None:  # type: ignore[index]
            return ""
        return "\n".join(str(row) for row in conn.execute("SELECT * FROM runner_history").fetchall())


def test_no_secret_reaches_any_output_log_report_row_or_the_server_log(cluster, tmp_path):
    sweep = Sweep(tmp_path)
    ini = str(EXAMPLE_INI)
    done_url = _database(cluster, "sweep_done")
    halted_url = _database(cluster, "sweep_halted")
    rollback_url = _database(cluster, "sweep_rollback")
    main_log, halt_log = tmp_path / "main.jsonl", tmp_path / "halt.jsonl"
    rollback_log, rehearsal_log = tmp_path / "rollback.jsonl", tmp_path / "rehearsal.jsonl"

    for command in ("status", "plan", "lint"):
        sweep.run(command, "-c", ini, DATABASE_URL=done_url)
        sweep.run(command, "-c", ini, "--json", DATABASE_URL=done_url)
    sweep.run("apply", "-c", ini, "--yes", "--json", "--audit-log", str(main_log), DATABASE_URL=done_url)

    holder = psycopg.connect(halted_url.replace(f":{quote(DB_PASSWORD, safe='')}", ""))
    holder.execute("SELECT count(*) FROM providers").fetchone()
    sweep.run(
        "apply", "-c", ini, "--yes", "--lock-timeout", "50ms", "--lock-attempts", "1",
        "--audit-log", str(halt_log), expect=1, DATABASE_URL=halted_url,
    )  # fmt: skip
    holder.close()
    sweep.run("status", "-c", ini, DATABASE_URL=halted_url)
    sweep.run("resume", "--audit-log", str(halt_log), "--yes", "--json", DATABASE_URL=halted_url)

    playbook = tmp_path / "rollback.yaml"
    playbook.write_text(ROLLBACK_PLAYBOOK.format(ini=ini, log=rollback_log))
    sweep.run("apply", "--playbook", str(playbook), "--yes", expect=5, SWEEP_URL=rollback_url)

    production = str(ROOT / "playbooks" / "credentialmate-production.yaml")
    sweep.run(
        "rehearse", "--playbook", production, "--target", "server", "--server-url", "env:SWEEP_ADMIN",
        "--audit-log", str(rehearsal_log), "--json", SWEEP_ADMIN=_url(cluster, "postgres"),
    )  # fmt: skip
    sweep.run("drift", "env:A", "env:B", expect=(0, 8), A=done_url, B=halted_url)

    for log in (main_log, halt_log, rollback_log, rehearsal_log):
        sweep.run("audit", "verify", str(log))
        sweep.run("audit", "report", str(log), "-o", str(log.with_suffix(".md")))
        sweep.run("audit", "report", str(log), "--html", "-o", str(log.with_suffix(".html")))
    sweep.run("restore", "--audit-log", str(rehearsal_log), expect=(0, 6))  # AWS is out of reach here

    written = [
        (path.name, path.read_text())
        for path in tmp_path.glob("*.*")
        if path.suffix in (".jsonl", ".md", ".html")
    ]
    rows = [
        (f"runner_history of {url.split('/')[-1]}", _history(url))
        for url in (done_url, halted_url, rollback_url)
    ]
    places = [*sweep.outputs, *written, *rows, ("the server's log", cluster.log_text())]
    assert len(written) >= 12 and "SELECT" in cluster.log_text()  # the log did keep the statements
    leaks = [(where, secret) for where, text in places for secret in SECRETS if secret in text]
    assert leaks == []
