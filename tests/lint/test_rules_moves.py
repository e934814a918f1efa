"""Moves and renames (BC104-BC107) on the sized database: what breaks running code, and what is harmless."""

from __future__ import annotations

from contextlib import closing

import psycopg
import pytest

from runner.lint import Severity
from tests import pg
from tests.lint.conftest import recipe, run_recipe
from tests.lint.helpers import lint, none, only


def in_rolled_back(database: str, *statements: str) -> list[object]:
    """Run ``statements`` in one transaction that is rolled back; the last one's rows."""
    with closing(pg.connect(database)) as conn:
        conn.autocommit = False
        rows: list[object] = []
        for sql in statements:
            cursor = conn.execute(sql)
            rows = cursor.fetchall() if cursor.description else []
        conn.rollback()
    return rows


def test_bc104_bad_set_schema_moves_a_table_away_from_running_code(sized_stats) -> None:
    """ALTER TABLE accounts SET SCHEMA archive: a warning, with the view that keeps the old name working."""
    finding = only(lint("ALTER TABLE accounts SET SCHEMA archive", stats=sized_stats), "BC104")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "ALTER TABLE accounts SET SCHEMA archive moves the table accounts from public to archive: every running "
        "application instance that names accounts or public.accounts fails from the moment this step commits, "
        "unless archive is on its search_path."
    )
    assert finding.help == (
        "Move it and leave an updatable view under the old name until every instance uses the new one:\n"
        '    op.execute("ALTER TABLE accounts SET SCHEMA archive")\n'
        '    op.execute("CREATE VIEW public.accounts AS SELECT * FROM archive.accounts")\n'
        "    # in a later release, once nothing uses the old name:\n"
        '    op.execute("DROP VIEW public.accounts")'
    )
    assert finding.lock_mode == "ACCESS EXCLUSIVE"


def test_bc104_good_the_view_keeps_reads_and_writes_working(tmp_path, sized_clone, sized_stats) -> None:
    """The recipe on the server: the old name still reads and takes an INSERT through the view."""
    finding = only(lint("ALTER TABLE accounts SET SCHEMA archive", stats=sized_stats), "BC104")
    body = "\n".join(line for line in recipe(finding.help).splitlines() if "DROP VIEW" not in line)
    with closing(pg.connect(sized_clone)) as conn:
        conn.execute("CREATE SCHEMA archive")
    run_recipe(tmp_path, sized_clone, body)
    with closing(pg.connect(sized_clone)) as conn:
        conn.execute("INSERT INTO accounts (id, org_id, email) VALUES (100001, 1, 'new@example.com')")
        assert conn.execute("SELECT count(*) FROM accounts").fetchone() == (100_001,)
        assert conn.execute("SELECT count(*) FROM archive.accounts").fetchone() == (100_001,)


def test_bc104_good_a_table_the_run_creates_is_only_noted() -> None:
    report = lint("ALTER TABLE notes SET SCHEMA archive", earlier=["CREATE TABLE notes (id bigint)"])
    assert only(report, "BC104").severity is Severity.INFO


def test_bc105_bad_rename_enum_value_breaks_writers_of_the_old_label(sized_db, sized_stats) -> None:
    """The rename relabels every row at once; the server then refuses the old label."""
    sql = "ALTER TYPE account_status RENAME VALUE 'closed' TO 'deactivated'"
    finding = only(lint(sql, stats=sized_stats), "BC105")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "ALTER TYPE account_status RENAME VALUE 'closed' TO 'deactivated' changes the label of every row that holds "
        "'closed' (used by accounts.status) at once: every running application instance that writes or compares "
        "'closed' fails from the moment this step commits (invalid input value for enum), until the new release is "
        "deployed."
    )
    assert finding.help.splitlines()[1:] == [
        "    op.execute(\"ALTER TYPE account_status ADD VALUE IF NOT EXISTS 'deactivated'\")  # one-way: IR101",
        "    # deploy code that writes 'deactivated' and accepts both; then, in a later revision:",
        "    with op.get_context().autocommit_block():",
        "        for start in range(0, MAX_ID + 1, 10_000):  # one short transaction per batch",
        "            op.execute(f\"UPDATE accounts SET status = 'deactivated' WHERE (status = 'closed') AND id >= {start} "
        'AND id < {start + 10_000}")',
    ]
    with pytest.raises(psycopg.errors.InvalidTextRepresentation, match='"closed"'):
        in_rolled_back(sized_db, sql, "UPDATE accounts SET status = 'closed' WHERE id = 1")


def test_bc105_good_adding_a_label_instead_is_not_a_rename(sized_stats) -> None:
    report = lint("ALTER TYPE account_status ADD VALUE 'deactivated'", stats=sized_stats)
    assert none(report, "BC105")
    assert only(report, "IR101").severity is Severity.WARN


def test_bc106_bad_index_and_sequence_renames_are_noted_as_harmless(sized_db, sized_stats) -> None:
    """Renames of an index, a sequence and a constraint: info, saying what still notices."""
    index = only(lint("ALTER INDEX ix_accounts_org_id RENAME TO ix_accounts_org", stats=sized_stats), "BC106")
    assert index.severity is Severity.INFO
    assert index.message == (
        "Renaming the index ix_accounts_org_id to ix_accounts_org is harmless to running queries: PostgreSQL refers "
        "to it by OID, not by name. Only code that names it sees the change: an index hint, or INSERT ... ON CONFLICT "
        "ON CONSTRAINT when the index backs a constraint (the constraint is renamed with it)."
    )
    sequence = only(lint("ALTER SEQUENCE invoice_numbers RENAME TO invoice_seq", stats=sized_stats), "BC106")
    assert sequence.message.endswith(
        "Only code that names it sees the change: nextval('invoice_numbers') or setval('invoice_numbers', ...) "
        "written in application SQL."
    )
    # the server: renaming the primary key's index renames the constraint ON CONFLICT names
    renamed = in_rolled_back(
        sized_db,
        "ALTER INDEX accounts_pkey RENAME TO accounts_pk",
        "SELECT conname FROM pg_constraint WHERE conrelid = 'accounts'::regclass AND contype = 'p'",
    )
    assert renamed == [("accounts_pk",)]


def test_bc106_good_an_index_created_in_the_same_step() -> None:
    sql = "CREATE INDEX ix_notes_body ON notes (body);\n\nALTER INDEX ix_notes_body RENAME TO ix_notes_text"
    assert none(lint(sql, earlier=["CREATE TABLE notes (id bigint, body text)"]), "BC106")


def test_bc107_bad_rename_view_breaks_its_readers(sized_stats) -> None:
    finding = only(lint("ALTER VIEW active_accounts RENAME TO current_accounts", stats=sized_stats), "BC107")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "Renaming the view active_accounts to current_accounts breaks every running application instance that "
        "still names active_accounts: its queries fail from the moment this step commits until the new release is "
        "deployed."
    )
    assert finding.help == (
        "Keep the old name working until every instance uses the new one:\n"
        '    op.execute("ALTER VIEW active_accounts RENAME TO current_accounts")\n'
        '    op.execute("CREATE VIEW active_accounts AS SELECT * FROM current_accounts")  # the old name keeps working\n'
        "    # in a later release, once nothing uses the old name:\n"
        '    op.execute("DROP VIEW active_accounts")'
    )


def test_bc107_good_the_recipe_keeps_the_old_view_name(tmp_path, sized_clone, sized_stats) -> None:
    finding = only(lint("ALTER VIEW active_accounts RENAME TO current_accounts", stats=sized_stats), "BC107")
    body = "\n".join(line for line in recipe(finding.help).splitlines() if "DROP VIEW" not in line)
    run_recipe(tmp_path, sized_clone, body)
    with closing(pg.connect(sized_clone)) as conn:
        assert conn.execute("SELECT count(*) FROM active_accounts").fetchone() == (100_000,)
        assert conn.execute("SELECT count(*) FROM current_accounts").fetchone() == (100_000,)


def test_bc107_good_a_type_the_run_creates() -> None:
    report = lint("ALTER TYPE mood RENAME TO feeling", earlier=["CREATE TYPE mood AS ENUM ('happy', 'sad')"])
    assert only(report, "BC107").severity is Severity.INFO
