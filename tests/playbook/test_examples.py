"""Every file in playbooks/ validates, and the production example says what the seed's window needs."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from runner.cli import app
from runner.playbook import load_playbook
from runner.playbook.policy import PolicyAction
from tests.conftest import EXAMPLE_PENDING, ROOT

PLAYBOOKS = sorted((ROOT / "playbooks").iterdir())
URL = "postgresql://postgres@127.0.0.1:5432/credentialmate"


@pytest.fixture(autouse=True)
def urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    for name in ("REHEARSAL_DATABASE_URL", "CREDMATE_PROD_DATABASE_URL"):
        monkeypatch.setenv(name, URL)


def test_there_are_example_playbooks():
    assert {p.name for p in PLAYBOOKS} >= {"credentialmate-rehearsal.yaml", "credentialmate-production.yaml"}


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: p.name)
def test_example_playbook_validates(path):
    """runner playbook validate accepts it (exit 0) and names its four steps."""
    result = CliRunner().invoke(app, ["playbook", "validate", f"playbooks/{path.name}"])
    assert result.exit_code == 0, result.output
    assert "is valid" in result.stdout
    assert "4 step(s) from 20260115_0200 to 20260131_0000" in result.stdout


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: p.name)
def test_example_playbook_validates_in_ci_without_its_url(path, monkeypatch):
    """--no-env-check lets CI validate a playbook whose database URL only exists on the operator's machine."""
    monkeypatch.delenv("REHEARSAL_DATABASE_URL")
    monkeypatch.delenv("CREDMATE_PROD_DATABASE_URL")
    result = CliRunner().invoke(app, ["playbook", "validate", "--no-env-check", f"playbooks/{path.name}"])
    assert result.exit_code == 0, result.output


def test_the_production_playbook_is_the_seed_window():
    """Halt on the enum step, rollback (to just before it) on BlueShift, column checks after it, a snapshot."""
    book = load_playbook(ROOT / "playbooks" / "credentialmate-production.yaml")
    assert book.target.environment == "production"
    assert (
        book.snapshot is not None and book.snapshot.required and book.snapshot.rds_instance == "credmate-prod"
    )
    assert book.window is not None and book.window.timezone == "America/New_York"
    assert book.step_names() == EXAMPLE_PENDING
    enum_step = book.rules_for("20260127_0100")
    assert enum_step.policy.action is PolicyAction.HALT
    assert enum_step.irreversible
    blueshift = book.rules_for("20260131_0000")
    assert (blueshift.policy.action, blueshift.policy.rollback_to) == (PolicyAction.ROLLBACK, "7702d353e5b8")
    assert blueshift.guards.lock_timeout_ms == 3000
    columns = [c for c in blueshift.checks if type(c).__name__ == "ColumnState"]
    assert {f"{c.table}.{c.column}" for c in columns} >= {"providers.home_address", "licenses.verified_at"}
    assert [a.code for a in book.acknowledgements] == ["IR101", "LK109"]


def test_the_schema_command_prints_a_json_schema():
    """runner playbook schema: a JSON Schema an editor can use, with every top-level key."""
    import json

    result = CliRunner().invoke(app, ["playbook", "schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["additionalProperties"] is False
    assert {"version", "project", "target", "steps", "window", "snapshot", "acknowledgements"} <= set(
        schema["properties"]
    )
    assert schema["$defs"]["GuardsModel"]["properties"]["lock_timeout"]["anyOf"][0]["pattern"]
