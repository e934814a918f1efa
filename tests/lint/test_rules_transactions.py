"""TX rules: what the step's transaction does, a bad/good pair each, messages compared verbatim."""

from __future__ import annotations

from runner.lint import Severity
from tests.lint.helpers import big, lint, none, only

BIG = "providers has about 1,000,000 rows, 250 MB with indexes"
BATCH = "    with op.get_context().autocommit_block():\n        for start in range(0, MAX_ID + 1, 10_000):  # one short transaction per batch\n"


def test_tx101_bad_create_index_concurrently_inside_the_transaction() -> None:
    """PostgreSQL refuses CONCURRENTLY in a transaction: the step always fails (warn, never block)."""
    finding = only(
        lint("CREATE INDEX CONCURRENTLY ix_providers_npi ON providers (npi)", stats=big()), "TX101"
    )
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "CREATE INDEX CONCURRENTLY ix_providers_npi ON providers (npi) runs inside the step's transaction, where "
        "PostgreSQL refuses it (CREATE INDEX CONCURRENTLY cannot run inside a transaction block, SQLSTATE 25001): "
        "the step fails every time, and its transaction rolls back."
    )
    assert finding.help == (
        "Run it in an autocommit block, outside the step's transaction:\n"
        "    with op.get_context().autocommit_block():\n"
        '        op.create_index("ix_providers_npi", "providers", ["npi"], postgresql_concurrently=True)'
    )


def test_tx101_bad_vacuum_inside_the_transaction() -> None:
    finding = only(lint("VACUUM providers", stats=big()), "TX101")
    assert finding.help.endswith('        op.execute("VACUUM providers")')


def test_tx101_good_in_an_autocommit_block() -> None:
    report = lint(
        "COMMIT;\n\nCREATE INDEX CONCURRENTLY ix_providers_npi ON providers (npi);\n\nBEGIN;", stats=big()
    )
    assert none(report, "TX101")


def test_tx102_bad_backfill_inside_the_transaction() -> None:
    """An UPDATE of up to a million rows in the step's transaction: block."""
    finding = only(lint("UPDATE providers SET status = 'active' WHERE status IS NULL", stats=big()), "TX102")
    assert finding.severity is Severity.BLOCK
    assert finding.message == (
        "UPDATE providers changes the rows its WHERE clause matches, up to every row of providers. It runs inside "
        "the step's transaction, so each row it writes stays locked against other writers until the step commits, "
        f"and the open transaction holds back VACUUM: about 50s here ({BIG})."
    )
    assert finding.help == (
        "Do it in batches outside the step's transaction, each batch its own short transaction:\n"
        + BATCH
        + "            op.execute(f\"UPDATE providers SET status = 'active' WHERE (status IS NULL) AND id >= {start} "
        'AND id < {start + 10_000}")'
    )


def test_tx102_bad_insert_select_copies_rows() -> None:
    finding = only(
        lint("INSERT INTO archive SELECT * FROM providers WHERE status = 'inactive'", stats=big()), "TX102"
    )
    assert finding.message.startswith(
        "INSERT INTO archive ... SELECT copies rows from providers. It runs inside"
    )


def test_tx102_good_batched_in_an_autocommit_block() -> None:
    """The same UPDATE outside the step's transaction, and INSERT ... VALUES, are not backfills in the DDL transaction."""
    sql = "COMMIT;\n\nUPDATE providers SET status = 'active' WHERE id >= 0 AND id < 10000;\n\nBEGIN;"
    assert none(lint(sql, stats=big()), "TX102")
    assert none(lint("INSERT INTO providers (npi) VALUES ('1')", stats=big()), "TX102")


def test_tx103_bad_update_after_access_exclusive_ddl() -> None:
    """ADD COLUMN's ACCESS EXCLUSIVE lock stays held for the whole UPDATE after it."""
    sql = "ALTER TABLE providers ADD COLUMN tier VARCHAR(20);\n\nUPDATE providers SET tier = 'basic'"
    finding = only(lint(sql, stats=big()), "TX103")
    assert finding.severity is Severity.BLOCK
    assert finding.message == (
        "ADD COLUMN tier takes an ACCESS EXCLUSIVE lock on providers, and the same transaction then runs UPDATE on "
        "providers, so the lock, which blocks every query on providers (reads included), stays held for the whole "
        f"data change: about 50s here ({BIG})."
    )
    assert finding.help == (
        "Split the step: the schema change in one revision, the data change in the next, in batches outside the "
        "transaction:\n"
        "    # revision 1: only the schema change\n"
        "    # revision 2:\n"
        + BATCH
        + "            op.execute(f\"UPDATE providers SET tier = 'basic' WHERE id >= {start} AND id < {start + 10_000}\")"
    )


def test_tx103_good_data_change_after_a_commit() -> None:
    sql = (
        "ALTER TABLE providers ADD COLUMN tier VARCHAR(20);\n\nCOMMIT;\n\n"
        "UPDATE providers SET tier = 'basic' WHERE id >= 0 AND id < 10000;\n\nBEGIN;"
    )
    assert none(lint(sql, stats=big()), "TX103")


def test_tx104_bad_concurrent_build_mixed_with_access_exclusive_ddl() -> None:
    sql = (
        "ALTER TABLE providers ADD COLUMN tier VARCHAR(20);\n\nCOMMIT;\n\n"
        "CREATE INDEX CONCURRENTLY ix_providers_tier ON providers (tier);\n\nBEGIN;"
    )
    finding = only(lint(sql, stats=big()), "TX104")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "This step runs CREATE INDEX CONCURRENTLY ix_providers_tier on providers and also takes an ACCESS EXCLUSIVE "
        "lock on providers (ADD COLUMN tier). A concurrent build needs a lock_timeout of minutes, and the runner "
        "sets one timeout profile per step, so the ACCESS EXCLUSIVE statements may wait that long in the lock "
        "queue, with every query on providers waiting behind them."
    )
    assert finding.help == (
        "Give the concurrent operation a revision of its own:\n"
        "    # revision A: the ALTER TABLE statements (short-lock-ddl profile)\n"
        "    # revision B: only the concurrent operation (concurrent-build profile)\n"
        "    with op.get_context().autocommit_block():\n"
        '        op.create_index("ix_providers_tier", "providers", ["tier"], postgresql_concurrently=True)'
    )


def test_tx104_good_concurrent_build_alone() -> None:
    sql = "COMMIT;\n\nCREATE INDEX CONCURRENTLY ix_providers_tier ON providers (tier);\n\nBEGIN;"
    assert none(lint(sql, stats=big()), "TX104")
