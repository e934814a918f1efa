"""DS rules: loss of rows that exist, a bad/good pair each, messages compared verbatim."""

from __future__ import annotations

from runner.lint import Severity, Stats, is_irreversible
from tests.lint.helpers import REVISION, big, empty, lint, none, only, table

BIG = "providers has about 1,000,000 rows, 250 MB with indexes"
SNAPSHOT = "a downgrade can recreate the structure, not the data, which then exists only in the snapshot"


def test_ds101_bad_drop_table_with_rows() -> None:
    """Dropping a table that has rows here: block, and the step is one-way."""
    report = lint("DROP TABLE providers", stats=big())
    finding = only(report, "DS101")
    assert finding.severity is Severity.BLOCK
    assert (
        finding.message == f"DROP TABLE providers deletes the table and every row in it ({BIG}); {SNAPSHOT}."
    )
    assert finding.help == (
        "Once no application code uses the table, rename it instead and drop it in a later revision, after the "
        "release is confirmed:\n"
        '    op.rename_table("providers", "providers_dropped_r2")\n'
        "    # in a later revision:\n"
        '    op.drop_table("providers_dropped_r2")'
    )
    assert is_irreversible(report, REVISION) == "it drops providers and its rows"


def test_ds101_good_empty_table_is_info_and_reversible() -> None:
    report = lint("DROP TABLE providers", stats=empty())
    assert only(report, "DS101").severity is Severity.INFO
    assert is_irreversible(report, REVISION) is None


def test_ds102_bad_drop_column_with_rows() -> None:
    finding = only(lint("ALTER TABLE providers DROP COLUMN email", stats=big()), "DS102")
    assert finding.severity is Severity.BLOCK
    assert finding.message == (
        f"DROP COLUMN email on providers deletes the column's value in every row ({BIG}); {SNAPSHOT}. Application "
        "code that still reads or writes email fails from the moment this step commits."
    )
    assert finding.help == (
        "Deploy application code that no longer uses the column first (remove it from the model), keep the values "
        "if they may be needed, then drop it:\n"
        '    op.execute("CREATE TABLE providers_email_backup AS SELECT id, email FROM providers")  # if the values may '
        "be needed\n"
        '    op.drop_column("providers", "email")'
    )


def test_ds102_good_column_added_earlier_in_the_same_step() -> None:
    """A column on a table created in the same step: nothing to lose."""
    assert none(
        lint("CREATE TABLE notes (id BIGINT, body TEXT);\n\nALTER TABLE notes DROP COLUMN body"), "DS102"
    )


def test_ds103_bad_drop_schema_cascade_without_a_database() -> None:
    finding = only(lint("DROP SCHEMA legacy CASCADE"), "DS103")
    assert finding.severity is Severity.BLOCK
    assert finding.message == (
        "DROP SCHEMA legacy deletes the schema and every table, view, function and type in it (what it holds is "
        f"unknown without a database URL, so it is assumed to hold data); {SNAPSHOT}."
    )
    assert finding.help == (
        "Drop the objects in it one by one in reviewed revisions, then the empty schema, without CASCADE:\n"
        '    op.execute("DROP SCHEMA legacy")  # fails if anything is left'
    )


def test_ds103_sized_by_the_tables_the_schema_holds() -> None:
    stats = Stats.of(table("old_providers", 5_000, 2, schema="legacy"))
    finding = only(lint("DROP SCHEMA legacy CASCADE", stats=stats), "DS103")
    assert "(it holds 1 table with about 5,000 rows here)" in finding.message


def test_ds103_good_empty_schema() -> None:
    assert only(lint("DROP SCHEMA legacy", stats=big()), "DS103").severity is Severity.INFO


def test_ds104_bad_truncate_with_rows() -> None:
    finding = only(lint("TRUNCATE providers", stats=big()), "DS104")
    assert finding.severity is Severity.BLOCK
    assert finding.message == (
        f"TRUNCATE providers deletes every row of providers ({BIG}) under an ACCESS EXCLUSIVE lock; no downgrade "
        "can bring the rows back, only the snapshot."
    )
    assert finding.help == (
        "If the rows must go, copy them first so a rollback can restore them:\n"
        '    op.execute("CREATE TABLE providers_before_r2 AS TABLE providers")  # so a rollback can restore the rows\n'
        '    op.execute("TRUNCATE providers")'
    )


def test_ds104_good_truncate_of_a_table_this_run_creates() -> None:
    report = lint("TRUNCATE notes", stats=big(), earlier=["CREATE TABLE notes (id BIGINT)"])
    assert only(report, "DS104").severity is Severity.INFO


def test_ds105_bad_delete_without_where() -> None:
    finding = only(lint("DELETE FROM providers", stats=big()), "DS105")
    assert finding.severity is Severity.BLOCK
    assert finding.message == (
        f"DELETE FROM providers has no WHERE clause: it deletes every row of providers ({BIG}) and keeps each one "
        "locked until the step commits; no downgrade can bring the rows back."
    )
    assert finding.help == (
        "Add the WHERE clause that was meant, or copy the rows first so a rollback can restore them:\n"
        '    op.execute("CREATE TABLE providers_before_r2 AS TABLE providers")  # so a rollback can restore the rows\n'
        '    op.execute("DELETE FROM providers WHERE ...")'
    )


def test_ds105_good_delete_with_where() -> None:
    assert none(lint("DELETE FROM providers WHERE status = 'deleted'", stats=big()), "DS105")
