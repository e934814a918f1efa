"""Drift where the operator meets it: runner status --env for every environment, and a playbook's preflight."""

from __future__ import annotations

import json

from tests import pg
from tests.cli import run_cli
from tests.conftest import EXAMPLE_HEAD, PRODUCTION_REVISION

PLAYBOOK = """\
version: 1
project: {{alembic_config: {ini}, from_revision: "20260115_0200", target_revision: "20260131_0000"}}
target: {{name: credmate-staging, environment: rehearsal, url_env: STAGING_URL}}
audit: {{log: {audit}}}
preflight: {{no_relevant_drift: true}}
"""


def test_status_env_reports_every_environment_and_an_unreachable_one(example_ini, new_db, template_at):
    """The seed: production 4 behind, local 1 behind, staging out of reach; exit 0 and one JSON document."""
    production = new_db(template_at(PRODUCTION_REVISION))
    local = new_db(template_at("7702d353e5b8"))
    env = {
        "PROD_URL": pg.url_for(production),
        "LOCAL_URL": pg.url_for(local),
        "STAGING_URL": "postgresql://nobody@127.0.0.1:1/nowhere",
    }
    args = ("status", "-c", str(example_ini), "--env", "production=PROD_URL", "--env", "staging=STAGING_URL")
    proc = run_cli(*args, "--env", "local=LOCAL_URL", "--json", env=env)

    assert proc.returncode == 0, proc.stderr
    found = {e["name"]: e for e in json.loads(proc.stdout)["environments"]}
    assert (found["production"]["behind"], found["local"]["behind"]) == (4, 1)
    assert found["production"]["current"] == [PRODUCTION_REVISION]
    assert [p["revision"] for p in found["local"]["pending"]] == [EXAMPLE_HEAD]
    assert found["staging"]["reachable"] is False
    text = run_cli(*args, env=env)
    assert text.returncode == 0 and "production" in text.stdout and "staging" in text.stdout


def test_an_env_given_as_a_url_is_refused(example_ini):
    """--env takes a variable's name, never a URL (with its password) on the command line."""
    proc = run_cli("status", "-c", str(example_ini), "--env", "prod=postgresql://u:secret@db/app")
    assert proc.returncode == 3
    assert "is not NAME=VARIABLE" in proc.stderr and "secret" not in proc.stderr


def test_a_playbook_requiring_no_relevant_drift_refuses_a_target_it_would_derail(
    example_ini, production_db, tmp_path
):
    """A column BlueShift adds already exists: refused before any step (exit 4); without it the run goes on."""
    with pg.connect(production_db) as conn:
        conn.execute("ALTER TABLE providers ADD COLUMN home_address varchar(200)")
    playbook = tmp_path / "check.yaml"
    playbook.write_text(PLAYBOOK.format(ini=example_ini, audit=tmp_path / "audit.jsonl"))
    env = {"STAGING_URL": pg.url_for(production_db)}

    refused = run_cli("apply", "--playbook", str(playbook), env=env)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert "has drift that matters to this plan" in refused.stderr and "home_address" in refused.stderr
    assert pg.heads(production_db) == [PRODUCTION_REVISION]

    with pg.connect(production_db) as conn:
        conn.execute("ALTER TABLE providers DROP COLUMN home_address")
    done = run_cli("apply", "--playbook", str(playbook), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert pg.heads(production_db) == [EXAMPLE_HEAD]
    events = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [e["event"] for e in events].count("drift_checked") == 1
