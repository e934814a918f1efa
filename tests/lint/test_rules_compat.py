"""BC rules: changes that break the running release, a bad/good pair each, messages compared verbatim."""

from __future__ import annotations

from runner.lint import Severity
from tests.lint.helpers import big, empty, lint, none, only

BIG = "providers has about 1,000,000 rows, 250 MB with indexes"


def test_bc101_bad_rename_column() -> None:
    """A rename breaks the running release whatever the size: warn."""
    finding = only(lint("ALTER TABLE providers RENAME email TO email_address", stats=big()), "BC101")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "RENAME COLUMN email TO email_address on providers breaks every running application instance that still "
        "uses email: its queries fail from the moment this step commits until the new release is deployed."
    )
    assert finding.help == (
        "Add the new column and move over in steps, or keep the column and rename only the Python attribute:\n"
        '    op.add_column("providers", sa.Column("email_address", ...))  # same type as email\n'
        "    # write both, backfill email_address in batches, deploy code that reads email_address; later:\n"
        '    op.drop_column("providers", "email")\n'
        '    # or, in the model only: email_address = sa.Column("email", ...)'
    )


def test_bc101_good_rename_in_a_table_this_run_creates() -> None:
    """No application uses a table this run creates yet: info."""
    report = lint(
        "ALTER TABLE notes RENAME body TO text", stats=big(), earlier=["CREATE TABLE notes (body TEXT)"]
    )
    assert only(report, "BC101").severity is Severity.INFO


def test_bc102_bad_rename_table() -> None:
    finding = only(lint("ALTER TABLE providers RENAME TO clinicians", stats=big()), "BC102")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "RENAME TABLE providers TO clinicians breaks every running application instance that still queries "
        "providers: its queries fail from the moment this step commits until the new release is deployed."
    )
    assert finding.help == (
        "Rename it and leave an updatable view under the old name until every instance uses the new one:\n"
        '    op.rename_table("providers", "clinicians")\n'
        '    op.execute("CREATE VIEW providers AS SELECT * FROM clinicians")\n'
        "    # in a later release, once nothing uses the old name:\n"
        '    op.execute("DROP VIEW providers")'
    )


def test_bc102_good_rename_of_a_table_created_in_the_same_step() -> None:
    assert none(lint("CREATE TABLE notes (id BIGINT);\n\nALTER TABLE notes RENAME TO remarks"), "BC102")


def test_bc103_bad_not_null_column_without_default_on_a_table_with_rows() -> None:
    """It fails outright on a table with rows: block."""
    finding = only(lint("ALTER TABLE providers ADD COLUMN tier VARCHAR(20) NOT NULL", stats=big()), "BC103")
    assert finding.severity is Severity.BLOCK
    assert finding.message == (
        f"ADD COLUMN tier character varying(20) NOT NULL on providers has no default, so it fails here ({BIG}), and "
        "once it exists every INSERT from running code that does not set tier fails."
    )
    assert finding.help == (
        "Give it a default, which PostgreSQL 11 and later store in the catalog without touching rows:\n"
        '    op.add_column("providers", sa.Column("tier", ..., nullable=False, server_default=...))\n'
        '    # the same in SQL: op.execute("ALTER TABLE providers ADD COLUMN tier character varying(20) DEFAULT ... '
        'NOT NULL")'
    )


def test_bc103_on_an_empty_table_it_still_breaks_inserts() -> None:
    finding = only(lint("ALTER TABLE providers ADD COLUMN tier VARCHAR(20) NOT NULL", stats=empty()), "BC103")
    assert finding.severity is Severity.WARN
    assert "so it succeeds only because providers is empty, and once it exists" in finding.message


def test_bc103_good_with_a_default() -> None:
    assert none(
        lint("ALTER TABLE providers ADD COLUMN tier VARCHAR(20) DEFAULT 'basic' NOT NULL", stats=big()),
        "BC103",
    )
