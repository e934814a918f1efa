"""Bulk copies, whole-table changes and bounded batches (TX105, TX106, TX102) on 100,000 real rows."""

from __future__ import annotations

from contextlib import closing

from runner.lint import Severity, Stats
from runner.lint.estimate import size_text
from tests import pg
from tests.lint.conftest import described, recipe, run_recipe
from tests.lint.helpers import lint, none, only, table

OUTSIDE = "COMMIT;\n\n{};\n\nBEGIN;"
BATCH_LOOP = (
    "    with op.get_context().autocommit_block():\n"
    "        for start in range(0, MAX_ID + 1, 10_000):  # one short transaction per batch\n"
)


def test_tx105_bad_create_table_as_select_copies_the_whole_table(sized_stats) -> None:
    """CTAS of 100,000 rows: one long statement, sized by the source; the help creates it empty and copies in batches."""
    finding = only(lint("CREATE TABLE accounts_copy AS SELECT * FROM accounts", stats=sized_stats), "TX105")
    assert finding.severity is Severity.BLOCK
    accounts = sized_stats.tables["public.accounts"]
    assert finding.message == (
        "CREATE TABLE accounts_copy AS SELECT copies every row of accounts in one statement (about "
        f"{size_text(accounts.table_bytes)}): one long transaction that holds back VACUUM, keeps accounts locked against "
        "schema changes until the step commits, and writes the whole copy to the WAL at once: about 5s here "
        f"({described(sized_stats, 'accounts')})."
    )
    assert finding.help == (
        "Create it empty, then copy in batches, each its own short transaction:\n"
        '    op.execute("CREATE TABLE accounts_copy AS SELECT * FROM accounts WITH NO DATA")\n'
        + BATCH_LOOP
        + '            op.execute(f"INSERT INTO accounts_copy SELECT * FROM accounts WHERE id >= {start} AND id < '
        '{start + 10_000}")'
    )


def test_tx105_good_the_recipe_copies_every_row_in_batches(tmp_path, sized_clone, sized_stats) -> None:
    """The help, with MAX_ID set, copies all 100,000 rows on the server; a bounded copy is not flagged."""
    finding = only(lint("CREATE TABLE accounts_copy AS SELECT * FROM accounts", stats=sized_stats), "TX105")
    run_recipe(tmp_path, sized_clone, "MAX_ID = 100_000\n" + recipe(finding.help))
    with closing(pg.connect(sized_clone)) as conn:
        assert conn.execute("SELECT count(*) FROM accounts_copy").fetchone() == (100_000,)
    bounded = "CREATE TABLE accounts_copy AS SELECT * FROM accounts WHERE id BETWEEN 1 AND 2000"
    assert none(lint(bounded, stats=sized_stats), "TX105")


def test_tx106_bad_whole_table_update_outside_the_transaction(sized_stats) -> None:
    """An UPDATE without WHERE in an autocommit block is still one transaction over 100,000 rows."""
    finding = only(lint(OUTSIDE.format("UPDATE accounts SET note = 'x'"), stats=sized_stats), "TX106")
    assert finding.severity is Severity.BLOCK
    accounts = sized_stats.tables["public.accounts"]
    assert finding.message == (
        f"UPDATE accounts changes every row of accounts in one statement (about {size_text(accounts.table_bytes)}), "
        "outside the step's transaction but still one transaction: it locks every row it writes until it ends, "
        "holds back VACUUM, writes all of it to the WAL at once and leaves a dead version of every row it changes "
        f"for VACUUM: about 5s here ({described(sized_stats, 'accounts')})."
    )
    assert finding.help == (
        "Loop over the key in batches, each its own short statement:\n"
        + BATCH_LOOP
        + "            op.execute(f\"UPDATE accounts SET note = 'x' WHERE id >= {start} AND id < {start + 10_000}\")"
    )


def test_tx106_good_a_bounded_batch_outside_the_transaction(sized_stats) -> None:
    """UPDATE ... WHERE id BETWEEN 1 AND 5000 is one batch: nothing to say, outside or inside (info) the transaction."""
    sql = "UPDATE accounts SET note = 'x' WHERE id BETWEEN 1 AND 5000"
    assert not lint(OUTSIDE.format(sql), stats=sized_stats).findings
    inside = only(lint(sql, stats=sized_stats), "TX102")
    assert inside.severity is Severity.INFO
    assert inside.message.startswith(
        "UPDATE accounts changes at most 5,000 rows (id from 1 to 5,000). It runs inside"
    )


def test_tx102_bad_a_wide_range_is_judged_by_its_rows_not_as_a_batch(sized_stats) -> None:
    """id >= 1 AND id < 50001 bounds the change to 50,000 rows: half the table, sized as such (block)."""
    finding = only(
        lint("UPDATE accounts SET note = 'x' WHERE id >= 1 AND id < 50001", stats=sized_stats), "TX102"
    )
    assert finding.severity is Severity.BLOCK
    assert finding.message.startswith("UPDATE accounts changes at most 50,000 rows (id from 1 to 50,000).")
    assert finding.estimated_lock_ms == 2502


def test_tx102_a_range_on_a_column_that_is_not_unique_bounds_nothing(sized_stats) -> None:
    """org_id BETWEEN 1 AND 10 may match any number of rows: the whole table is the limit."""
    finding = only(
        lint("UPDATE accounts SET note = 'x' WHERE org_id BETWEEN 1 AND 10", stats=sized_stats), "TX102"
    )
    assert finding.severity is Severity.BLOCK
    assert finding.message.startswith(
        "UPDATE accounts changes the rows its WHERE clause matches, up to every row of accounts."
    )


def test_tx102_without_a_database_id_is_taken_as_the_key() -> None:
    """No catalog to ask: a range on id is trusted as a batch, on a table assumed large."""
    stats = Stats.of(table("accounts", 1_000_000, 200, 50))
    finding = only(lint("DELETE FROM accounts WHERE id IN (1, 2, 3)", stats=stats), "TX102")
    assert finding.severity is Severity.INFO
    assert finding.message.startswith("DELETE FROM accounts deletes at most 3 rows (id IN (3 values)).")
    assert only(lint("DELETE FROM accounts WHERE id BETWEEN 1 AND 5000"), "TX102").severity is Severity.INFO
