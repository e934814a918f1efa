"""``runner drift`` as an operator runs it: exit codes 0, 8, 6 and 3, text and one JSON document."""

from __future__ import annotations

import json

from tests import pg
from tests.cli import run_cli
from tests.conftest import EXAMPLE_HEAD, EXAMPLE_INI
from tests.drift.schemas import run

NOBODY_LISTENS = "postgresql://postgres@127.0.0.1:1/credentialmate"


def test_no_drift_exits_0(new_db, template_at):
    """Two databases at the same revision: exit 0 and a sentence that says so."""
    a, b = new_db(template_at(EXAMPLE_HEAD)), new_db(template_at(EXAMPLE_HEAD))
    done = run_cli("drift", "env:A_URL", "env:B_URL", env={"A_URL": pg.url_for(a), "B_URL": pg.url_for(b)})
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == [
        "Source  env:A_URL",
        "Target  env:B_URL",
        "No differences: the schemas are the same.",
    ]


def test_drift_found_exits_8_with_the_differences_grouped(production_db, new_db, template_at):
    """Production against a database at head: exit 8, grouped differences marked with their revisions."""
    head = new_db(template_at(EXAMPLE_HEAD))
    done = run_cli(
        "drift",
        "-c",
        str(EXAMPLE_INI),
        "env:PROD_URL",
        pg.url_for(head),
        env={"PROD_URL": pg.url_for(production_db)},
    )
    assert done.returncode == 8, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:8] == [
        "Source  env:PROD_URL",
        f"Target  {pg.url_for(head)}",
        "Pending 4 revision(s) on the source: 20260115_0300, 20260127_0100, 7702d353e5b8, 20260131_0000",
        "26 difference(s); 26 made by the source's pending revisions (runner apply brings them).",
        "",
        "tables",
        "  public.coordinator_notification_preferences  only in the target "
        "(with 10 columns, 1 index, 3 constraints, 1 sequence)  [pending 7702d353e5b8]",
        "  public.payment_methods                       only in the target "
        "(with 11 columns, 2 indexes, 3 constraints, 1 sequence)  [pending 20260131_0000]",
    ]
    assert "Suggested SQL" not in done.stdout  # everything here is what runner apply brings


def test_json_is_one_document_with_the_differences_and_the_conflicts(production_db, new_db, template_at):
    """--json: one JSON document; a column a pending step adds that already exists is a blocking conflict."""
    run(production_db, "ALTER TABLE providers ADD COLUMN home_address varchar(200)")
    head = new_db(template_at(EXAMPLE_HEAD))
    done = run_cli(
        "drift",
        "-c",
        str(EXAMPLE_INI),
        "--json",
        "env:PROD_URL",
        "env:HEAD_URL",
        env={"PROD_URL": pg.url_for(production_db), "HEAD_URL": pg.url_for(head)},
    )
    assert done.returncode == 8, done.stderr
    document = json.loads(done.stdout)
    assert document["summary"] == {
        "differences": 25,
        "explained_by_pending": 25,
        "conflicts": 1,
        "blocking_conflicts": 1,
    }
    assert document["conflicts"] == [
        {
            "revision": "20260131_0000",
            "operation": "ADD COLUMN home_address on providers",
            "effect": "fails",
            "reason": "column public.providers.home_address already exists (character varying(200))",
            "statement": "ALTER TABLE providers ADD COLUMN home_address VARCHAR(200)",
            "blocks": True,
        }
    ]


def test_an_unreachable_database_exits_6(new_db):
    """Nothing listens on the target's port: exit 6, the place named, nothing compared."""
    a = new_db()
    done = run_cli("drift", "env:A_URL", NOBODY_LISTENS, env={"A_URL": pg.url_for(a)})
    assert done.returncode == 6
    assert done.stdout == ""
    assert done.stderr.startswith(f"error: Can't connect to {NOBODY_LISTENS}: ")


def test_bad_input_exits_3(new_db):
    """An unset variable, a password on the command line, or no target: exit 3, one sentence each."""
    a = new_db()
    unset = run_cli("drift", "env:NOPE_URL", "env:A_URL", env={"A_URL": pg.url_for(a)})
    assert (unset.returncode, unset.stderr) == (
        3,
        "error: env:NOPE_URL: the environment variable NOPE_URL is not set.\n",
    )
    password = run_cli(
        "drift", "env:A_URL", "postgresql://app:hunter2@db.example/app", env={"A_URL": pg.url_for(a)}
    )
    assert password.returncode == 3 and "hunter2" not in password.stdout + password.stderr
    assert password.stderr == (
        "error: TARGET postgresql://app:***@db.example/app carries a password on the command line, where the "
        "process list and shell history keep it. Put the URL in an environment variable and pass env:VAR, or "
        "the password in PGPASSWORD or ~/.pgpass.\n"
    )
    nothing = run_cli("drift", "env:A_URL", env={"A_URL": pg.url_for(a)})
    assert (nothing.returncode, nothing.stderr) == (
        3,
        "error: Compare the source with exactly one of: a TARGET database, --against-head, --against-models.\n",
    )


def test_against_head_builds_the_head_in_a_throwaway_cluster(production_db):
    """--against-head: the code head built by the project's env.py in a throwaway cluster, then compared."""
    run(production_db, "ALTER TYPE coordinator_action_type ADD VALUE 'stage_changed'")
    done = run_cli(
        "drift",
        "-c",
        str(EXAMPLE_INI),
        "--json",
        "env:PROD_URL",
        "--against-head",
        env={"PROD_URL": pg.url_for(production_db)},
    )
    assert done.returncode == 8, done.stderr
    document = json.loads(done.stdout)
    assert document["target"] == f"head {EXAMPLE_HEAD}"
    assert {d["explained_by"] for d in document["differences"]} == {
        "20260115_0300",
        "7702d353e5b8",
        "20260131_0000",
    }
    assert [(c["revision"], c["effect"], c["blocks"]) for c in document["conflicts"]] == [
        ("20260127_0100", "does nothing", False)
    ]


def test_a_password_in_a_definition_is_masked_in_the_suggested_sql(new_db):
    """A function only in the target sets a role's password: its suggested SQL shows the function, not the password."""
    a = new_db()
    b = new_db()
    run(
        b,
        "CREATE FUNCTION rotate() RETURNS void LANGUAGE plpgsql AS "
        "$$ BEGIN ALTER ROLE CURRENT_USER PASSWORD 'sekret-pw-1'; END $$",
    )
    done = run_cli("drift", "env:A_URL", "env:B_URL", env={"A_URL": pg.url_for(a), "B_URL": pg.url_for(b)})
    assert done.returncode == 8, done.stderr
    assert "CREATE OR REPLACE FUNCTION public.rotate()" in done.stdout
    assert "sekret-pw-1" not in done.stdout
