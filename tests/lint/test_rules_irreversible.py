"""IR rules: one-way steps, a bad/good pair each, messages compared verbatim."""

from __future__ import annotations

from runner.lint import Severity, is_irreversible
from runner.planning.revisions import Downgrade
from tests.lint.helpers import REVISION, big, lint, none, only

RESTORE_HELP = (
    "Write the inverse of each upgrade operation, newest first (or, if the step is one-way on purpose, say why in "
    "downgrade() and acknowledge this finding):\n"
    "    def downgrade() -> None:\n"
)


def test_ir101_bad_enum_add_value_is_one_way() -> None:
    """ALTER TYPE ... ADD VALUE: warn (size-independent), and the step is reported one-way."""
    report = lint("ALTER TYPE coordinator_action_type ADD VALUE 'stage_changed'", downgrade=Downgrade.EMPTY)
    finding = only(report, "IR101")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "ALTER TYPE coordinator_action_type ADD VALUE 'stage_changed' can't be undone: PostgreSQL has no way to "
        "drop an enum value, so rolling back past r2 means restoring the snapshot. The new value can't be used "
        "until this step commits."
    )
    assert finding.help == (
        "Keep the step one-way on purpose: don't use the new value in the same revision, and say in downgrade() "
        "why it does nothing:\n"
        "    op.execute(\"ALTER TYPE coordinator_action_type ADD VALUE IF NOT EXISTS 'stage_changed'\")\n"
        "\n"
        "    def downgrade() -> None:\n"
        "        pass  # PostgreSQL can't drop an enum value: rolling back past this step is a restore"
    )
    assert is_irreversible(report, REVISION) == (
        "it adds the value 'stage_changed' to enum coordinator_action_type, and PostgreSQL cannot remove an enum value"
    )
    assert none(report, "IR103"), "the empty downgrade is explained by the enum value, reported once"


def test_ir101_good_value_of_an_enum_created_in_the_same_step() -> None:
    """Adding a value to a type created in the same step: its downgrade drops the type anyway."""
    sql = "CREATE TYPE tier AS ENUM ('basic');\n\nALTER TYPE tier ADD VALUE 'gold'"
    report = lint(sql)
    assert none(report, "IR101")
    assert is_irreversible(report, REVISION) is None


def test_ir102_bad_missing_downgrade_drafts_the_inverse() -> None:
    """No downgrade(): warn, with a draft inverse built from the step's statements, newest first."""
    sql = (
        "CREATE TABLE notes (id BIGINT PRIMARY KEY);\n\nCREATE INDEX ix_notes ON notes (id);\n\n"
        "ALTER TABLE providers ADD COLUMN note TEXT;\n\nALTER TABLE providers RENAME npi TO national_id"
    )
    report = lint(sql, stats=big(), downgrade=Downgrade.MISSING)
    finding = only(report, "IR102")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "r2 has no downgrade() function, so the runner can't roll it back: rolling back past it means restoring "
        "the snapshot."
    )
    assert finding.help == RESTORE_HELP + (
        '        op.alter_column("providers", "national_id", new_column_name="npi")\n'
        '        op.drop_column("providers", "note")\n'
        '        op.drop_table("notes")'
    )
    assert is_irreversible(report, REVISION) == "it has no downgrade()"


def test_ir102_good_merge_revision_without_statements() -> None:
    """A merge revision runs nothing, so a missing downgrade undoes nothing either."""
    assert none(lint("", downgrade=Downgrade.MISSING), "IR102")
    assert none(lint("SELECT 1", downgrade=Downgrade.MISSING), "IR102")


def test_ir103_bad_empty_downgrade() -> None:
    report = lint("ALTER TABLE providers ADD COLUMN note TEXT", stats=big(), downgrade=Downgrade.EMPTY)
    finding = only(report, "IR103")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "The downgrade() of r2 does nothing, so a rollback would leave its changes in place: rolling back past it "
        "means restoring the snapshot."
    )
    assert finding.help == RESTORE_HELP + '        op.drop_column("providers", "note")'


def test_ir103_good_downgrade_that_does_something() -> None:
    report = lint("ALTER TABLE providers ADD COLUMN note TEXT", stats=big(), downgrade=Downgrade.FULL)
    assert none(report, "IR103")
    assert is_irreversible(report, REVISION) is None


def test_ir104_bad_update_without_inverse() -> None:
    """An UPDATE whose downgrade() changes no rows of that table can't be undone by a rollback."""
    report = lint(
        "UPDATE providers SET status = 'inactive' WHERE email IS NULL",
        stats=big(),
        downgrade_sql="ALTER TABLE providers DROP COLUMN note",
    )
    finding = only(report, "IR104")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "This step changes rows of providers (UPDATE), and downgrade() changes no rows of providers, so a rollback "
        "leaves the data as the upgrade left it; the previous values exist only in the snapshot."
    )
    assert finding.help == (
        "Make the data change reversible:\n"
        "    # in upgrade(), before the change: keep the rows it changes\n"
        '    op.execute("CREATE TABLE providers_before_r2 AS SELECT * FROM providers WHERE ...")\n'
        "    # in downgrade(): put them back\n"
        '    op.execute("INSERT INTO providers SELECT * FROM providers_before_r2 ON CONFLICT (id) DO UPDATE SET ...")\n'
        '    op.execute("DROP TABLE providers_before_r2")'
    )
    assert (
        is_irreversible(report, REVISION)
        == "it changes rows of providers and downgrade() does not change them back"
    )


def test_ir104_bad_when_the_downgrade_cannot_be_rendered() -> None:
    report = lint(
        "INSERT INTO providers (npi) VALUES ('1')",
        stats=big(),
        downgrade_error="OperationalError: no connection",
    )
    assert only(report, "IR104").message == (
        "This step changes rows of providers (INSERT), and its downgrade() could not be rendered offline to look "
        "for an inverse (OperationalError: no connection), so a rollback leaves the data as the upgrade left it; "
        "the previous values exist only in the snapshot."
    )


def test_ir104_good_downgrade_puts_the_rows_back() -> None:
    report = lint(
        "UPDATE providers SET status = 'inactive' WHERE email IS NULL",
        stats=big(),
        downgrade_sql="UPDATE providers SET status = 'active' WHERE email IS NULL",
    )
    assert none(report, "IR104")
