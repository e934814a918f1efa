"""runner lint and runner plan end to end: JSON shape, exit codes, acknowledgements, --explain, --playbook."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runner.cli import app
from tests import pg
from tests.conftest import EXAMPLE_INI, PRODUCTION_REVISION
from tests.lint.projects import make_project

INDEX_PROJECT = [
    (
        "a1",
        'op.create_table("accounts", sa.Column("id", sa.BigInteger(), primary_key=True), sa.Column("email", sa.Text()))',
        'op.drop_table("accounts")',
    ),
    (
        "b2",
        'op.create_index("ix_accounts_email", "accounts", ["email"])',
        'op.drop_index("ix_accounts_email")',
    ),
]


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture(autouse=True)
def no_database_url(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)


def test_lint_json_on_the_example_project() -> None:
    """--json gives findings with revision, code, slug, severity and message; no block: exit 0."""
    result = invoke("lint", "-c", str(EXAMPLE_INI), "--from", PRODUCTION_REVISION, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["current"] == [PRODUCTION_REVISION]
    assert [s["risk"] for s in payload["steps"]] == ["low", "low", "low", "medium"]
    enum = next(f for f in payload["findings"] if f["code"] == "IR101")
    assert {k: enum[k] for k in ("revision", "slug", "severity")} == {
        "revision": "20260127_0100",
        "slug": "enum-add-value",
        "severity": "warn",
    }
    assert enum["message"].startswith(
        "ALTER TYPE coordinator_action_type ADD VALUE 'stage_changed' can't be undone"
    )
    assert (payload["server_version_num"], payload["server_version_assumed"]) == (140000, True)


def test_lint_text_shows_the_risk_table_and_the_findings() -> None:
    result = invoke("lint", "-c", str(EXAMPLE_INI), "--from", PRODUCTION_REVISION)
    assert result.exit_code == 0, result.output
    assert "Sizes    no database URL: every existing table assumed large" in result.stdout
    assert "[warn] IR101 enum-add-value" in result.stdout
    assert result.stdout.rstrip().endswith(
        "4 step(s), 6 finding(s): 0 block, 1 warn, 5 info; PostgreSQL 14 assumed, as there is no database to ask."
    )


def test_unacknowledged_block_exits_4_and_an_acknowledgement_clears_it(tmp_path: Path) -> None:
    """Without a database the index is on a table assumed large: exit 4 until acknowledged with a reason."""
    ini = make_project(tmp_path, INDEX_PROJECT)
    refused = invoke("lint", "-c", str(ini), "--from", "a1", "--json")
    assert refused.exit_code == 4
    assert json.loads(refused.stdout)["summary"]["blocking"] == 1
    assert "1 block finding(s) are not acknowledged (LK101:b2); apply refuses those steps." in refused.stderr
    accepted = invoke(
        "lint",
        "-c",
        str(ini),
        "--from",
        "a1",
        "--json",
        "--acknowledge",
        "LK101:b2",
        "--reason",
        "accounts has 200 rows",
    )
    assert accepted.exit_code == 0, accepted.output
    finding = json.loads(accepted.stdout)["findings"][0]
    assert (finding["acknowledged"], finding["reason"]) == (True, "accounts has 200 rows")


def test_bad_acknowledgement_is_exit_3() -> None:
    """An acknowledgement needs CODE:REVISION and a reason; either missing is unusable input."""
    no_reason = invoke(
        "lint", "-c", str(EXAMPLE_INI), "--from", PRODUCTION_REVISION, "--acknowledge", "LK101:x"
    )
    assert no_reason.exit_code == 3
    assert no_reason.stderr == (
        "error: 1 --acknowledge option(s) but 0 --reason option(s): give one reason for each acknowledgement, or "
        "one for all of them.\n"
    )
    malformed = invoke(
        "lint",
        "-c",
        str(EXAMPLE_INI),
        "--from",
        PRODUCTION_REVISION,
        "--acknowledge",
        "LK101",
        "--reason",
        "x",
    )
    assert malformed.exit_code == 3
    assert (
        malformed.stderr
        == "error: --acknowledge 'LK101' is not CODE:REVISION (for example LK101:20260131_0000).\n"
    )


def test_explain_prints_the_rule_and_unknown_codes_are_exit_3() -> None:
    result = invoke("lint", "--explain", "LK105")
    assert result.exit_code == 0
    assert result.stdout.startswith("LK105 set-not-null-scans (lock hazards)")
    listing = invoke("lint", "--explain", "list")
    assert "TX101  concurrently-in-transaction" in listing.stdout
    unknown = invoke("lint", "--explain", "XX999")
    assert unknown.exit_code == 3
    assert "'XX999' is not a rule code or slug" in unknown.stderr


def test_lint_with_a_database_sizes_the_tables(production_db: str, monkeypatch) -> None:
    """--database-url (here via DATABASE_URL): the current revision and the sizes come from the database."""
    monkeypatch.setenv("DATABASE_URL", pg.url_for(production_db))
    result = invoke("lint", "-c", str(EXAMPLE_INI), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["sized"] is True and payload["database"] == production_db
    assert payload["current"] == [PRODUCTION_REVISION]
    note = next(f for f in payload["findings"] if f["code"] == "LK109" and f["table"] == "providers")
    assert "(providers is empty)" in note["message"]
    assert payload["server_version_assumed"] is False and payload["server_version_num"] >= 150000


def test_lint_reads_project_and_acknowledgements_from_a_playbook(tmp_path: Path, monkeypatch) -> None:
    ini = make_project(tmp_path, INDEX_PROJECT)
    playbook = tmp_path / "lint.yaml"
    playbook.write_text(
        "version: 1\n"
        f"project:\n  alembic_config: {ini}\n  from_revision: a1\n  target_revision: b2\n"
        "target:\n  name: test\n  environment: rehearsal\n  url_env: RUNNER_LINT_TEST_URL\n"
        "acknowledgements:\n  - {code: LK101, revision: b2, reason: accounts is tiny}\n"
    )
    monkeypatch.delenv("RUNNER_LINT_TEST_URL", raising=False)
    result = invoke("lint", "--playbook", str(playbook), "--json")
    assert result.exit_code == 0, result.output
    finding = json.loads(result.stdout)["findings"][0]
    assert (finding["code"], finding["acknowledged"], finding["reason"]) == (
        "LK101",
        True,
        "accounts is tiny",
    )
    overlap = invoke("lint", "--playbook", str(playbook), "-c", str(ini))
    assert overlap.exit_code == 3
    assert "--config can't be combined with --playbook" in overlap.stderr


def test_plan_json_keeps_its_keys_and_adds_each_steps_risk() -> None:
    result = invoke("plan", "-c", str(EXAMPLE_INI), "--from", PRODUCTION_REVISION, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert {"target", "current", "heads", "to", "up_to_date", "pending"} <= set(payload)
    last = payload["pending"][-1]
    assert {"revision", "down_revision", "message", "downgrade", "reversible"} <= set(last)
    assert last["risk"]["risk"] == "medium"
    assert last["risk"]["lock"].startswith("ACCESS EXCLUSIVE on providers, licenses")
    assert payload["pending"][1]["risk"]["reversible"] is False
    assert payload["lint"]["summary"]["blocking"] == 0


def test_plan_text_shows_the_risk_table_and_no_lint_turns_it_off() -> None:
    result = invoke("plan", "-c", str(EXAMPLE_INI), "--from", PRODUCTION_REVISION)
    assert result.exit_code == 0, result.output
    assert "est. time" in result.stdout and "[warn] IR101 20260127_0100:" in result.stdout
    quiet = invoke("plan", "-c", str(EXAMPLE_INI), "--from", PRODUCTION_REVISION, "--no-lint", "--json")
    assert "risk" not in json.loads(quiet.stdout)["pending"][0]
