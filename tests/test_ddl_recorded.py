"""Every DDL statement the server ran for a run is in that run's audit log, the runner's own included."""

from __future__ import annotations

import re
import textwrap

import pytest

from tests.cli import ROOT, run_cli
from tests.faults import Cluster, events

EXAMPLE_INI = ROOT / "examples" / "credentialmate" / "alembic.ini"
PLAYBOOK = """\
version: 1
project:
  alembic_config: {ini}
  from_revision: "7702d353e5b8"
  target_revision: "20260131_0000"
target:
  name: ddl-check
  environment: rehearsal
  url_env: DDL_DATABASE_URL
audit:
  log: {audit}
on_failure: rollback
steps:
  "20260131_0000":
    checks:
      - table: a_table_that_is_not_there
"""


@pytest.fixture
def logging_cluster():
    server = Cluster({"log_statement": "ddl", "log_line_prefix": "%d:"})
    yield server
    server.close()


def _normalised(sql: str) -> str:
    return " ".join(sql.replace(";", " ").split())


def _server_ddl(log: str, database: str) -> list[str]:
    """Statements the server logged for ``database`` (a statement may span several lines)."""
    found: list[str] = []
    for entry in re.split(r"\n(?=\S)", log):
        match = re.match(rf"{database}:LOG:\s+statement: (.*)", entry, re.S)
        if match:
            found.append(_normalised(match[1]))
    return found


def test_the_server_log_and_the_audit_log_agree_on_every_ddl_statement(logging_cluster, tmp_path):
    """base → 7702 with apply, → head with a playbook whose check fails (rolled back), → head again."""
    url = logging_cluster.create_database("app")
    env = {"DATABASE_URL": url, "DDL_DATABASE_URL": url}
    audit = tmp_path / "audit.jsonl"
    first = run_cli(
        "apply", "-c", str(EXAMPLE_INI), "--yes", "--to", "7702d353e5b8", "--audit-log", str(audit), env=env
    )
    assert first.returncode == 0, first.stderr
    playbook = tmp_path / "check.yaml"
    playbook.write_text(PLAYBOOK.format(ini=EXAMPLE_INI, audit=audit))
    rolled = run_cli("apply", "--playbook", str(playbook), env=env)
    assert rolled.returncode == 5, rolled.stdout + rolled.stderr
    last = run_cli("apply", "-c", str(EXAMPLE_INI), "--yes", "--audit-log", str(audit), env=env)
    assert last.returncode == 0, last.stderr

    recorded = {
        _normalised(statement["sql"])
        for event in events(audit)
        for statement in event.get("statements") or []
    }
    logged = _server_ddl(logging_cluster.log_text(), "app")
    assert len(logged) > 20
    assert any("CREATE TABLE alembic_version" in s for s in logged)
    assert any("runner_history" in s for s in logged)
    missing = [s for s in logged if s not in recorded]
    assert missing == [], textwrap.shorten(" | ".join(missing), 2000)
