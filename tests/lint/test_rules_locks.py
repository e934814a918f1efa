"""LK rules: a bad/good pair each, messages compared verbatim, severity scaled by size."""

from __future__ import annotations

from runner.lint import Severity, Stats
from runner.lint.sizing import Column
from tests.lint.helpers import big, empty, findings, lint, none, only, small, table

BIG = "providers has about 1,000,000 rows, 250 MB with indexes"
WITH_INDEX = Stats.of(
    table("providers", 1_000_000, 200, 50), indexes={"public.ix_providers_npi": "public.providers"}
)


def test_lk101_bad_index_built_under_share_lock_on_a_large_table() -> None:
    """A plain CREATE INDEX on a million-row table blocks writes for seconds: block."""
    finding = only(lint("CREATE INDEX ix_providers_npi ON providers (npi)", stats=big()), "LK101")
    assert finding.severity is Severity.BLOCK
    assert finding.message == (
        "CREATE INDEX ix_providers_npi builds the index on providers under a SHARE lock, which blocks every "
        "INSERT, UPDATE and DELETE on providers until the step commits: about 5.2s here (" + BIG + ")."
    )
    assert finding.help == (
        "Build it concurrently, outside the step's transaction:\n"
        "    with op.get_context().autocommit_block():\n"
        '        op.create_index("ix_providers_npi", "providers", ["npi"], postgresql_concurrently=True)'
    )
    assert finding.acknowledge == (
        "Apply refuses this step until it is acknowledged with a reason: in the playbook, acknowledgements: "
        "[{code: LK101, revision: r2, reason: ...}]; on the command line, --acknowledge LK101:r2 "
        '--reason "...". runner lint --explain LK101 explains the rule.'
    )
    assert (finding.lock_mode, finding.estimated_lock_ms, finding.table) == ("SHARE", 5245, "providers")


def test_lk101_good_concurrent_build_in_autocommit_block() -> None:
    """CREATE INDEX CONCURRENTLY outside the transaction is the safe form: no LK101 (nor TX101)."""
    report = lint(
        "COMMIT;\n\nCREATE INDEX CONCURRENTLY ix_providers_npi ON providers (npi);\n\nBEGIN;", stats=big()
    )
    assert none(report, "LK101") and none(report, "TX101")


def test_lk101_scales_with_size_info_on_small_and_empty_tables() -> None:
    """The same index is info on 1,000 rows and on an empty table."""
    sql = "CREATE INDEX ix_providers_npi ON providers (npi)"
    small_finding = only(lint(sql, stats=small()), "LK101")
    assert small_finding.severity is Severity.INFO
    assert small_finding.message.endswith(
        "until the step commits: about 7ms here (providers has about 1,000 rows, 256 kB with indexes)."
    )
    empty_finding = only(lint(sql, stats=empty()), "LK101")
    assert empty_finding.severity is Severity.INFO
    assert empty_finding.message.endswith("until the step commits: milliseconds here (providers is empty).")


def test_lk101_without_a_database_assumes_a_large_table() -> None:
    """No stats: the table is assumed large, so the finding blocks, with the reason said."""
    finding = only(lint("CREATE INDEX ix_providers_npi ON providers (npi)"), "LK101")
    assert finding.severity is Severity.BLOCK
    assert finding.estimated_lock_ms is None
    assert finding.message.endswith(
        "until the step commits: as long as the build takes, and the size of providers is unknown without a "
        "database URL, so it is assumed large."
    )


def test_lk101_exempts_a_table_created_in_the_same_step() -> None:
    """An index on a table created earlier in the same step is harmless."""
    report = lint(
        "CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT);\n\nCREATE INDEX ix_notes_body ON notes (body)"
    )
    assert none(report, "LK101")


def test_lk101_table_created_earlier_in_the_run_is_empty() -> None:
    """A table an earlier step of this run creates is empty when the index is built: info."""
    report = lint(
        "CREATE INDEX ix_notes_body ON notes (body)", earlier=["CREATE TABLE notes (id BIGINT, body TEXT)"]
    )
    finding = only(report, "LK101")
    assert finding.severity is Severity.INFO
    assert finding.message.endswith(
        "milliseconds here (notes is created by r1a earlier in this run, so it is empty)."
    )


def test_lk101_expression_index_help_keeps_the_sql() -> None:
    """An index over an expression can't be an op.create_index call: the help keeps the SQL, made concurrent."""
    sql = "CREATE UNIQUE INDEX ix_providers_lower ON providers (lower(last_name)) WHERE status = 'active'"
    finding = only(lint(sql, stats=big()), "LK101")
    assert finding.help.splitlines()[-1] == (
        '        op.execute("CREATE UNIQUE INDEX CONCURRENTLY ix_providers_lower ON providers (lower(last_name)) '
        "WHERE status = 'active'\")"
    )


def test_lk102_bad_drop_index_takes_access_exclusive() -> None:
    """DROP INDEX without CONCURRENTLY: ACCESS EXCLUSIVE on the index's table, warn."""
    finding = only(lint("DROP INDEX ix_providers_npi", stats=WITH_INDEX), "LK102")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "DROP INDEX ix_providers_npi takes an ACCESS EXCLUSIVE lock on providers, which blocks every query on "
        "providers (reads included) until the step commits: about 2ms here (" + BIG + "). While it waits for "
        "queries already running there, every new query on that table queues behind it."
    )
    assert finding.help == (
        "Drop it concurrently, outside the step's transaction:\n"
        "    with op.get_context().autocommit_block():\n"
        '        op.drop_index("ix_providers_npi", table_name="providers", postgresql_concurrently=True)'
    )


def test_lk102_good_drop_index_concurrently() -> None:
    """DROP INDEX CONCURRENTLY in an autocommit block: no finding."""
    report = lint("COMMIT;\n\nDROP INDEX CONCURRENTLY ix_providers_npi;\n\nBEGIN;", stats=WITH_INDEX)
    assert none(report, "LK102")


def test_lk103_bad_foreign_key_validated_under_share_row_exclusive() -> None:
    """A validated FK on a 2M-row table blocks writes to both tables for seconds: block."""
    stats = Stats.of(table("licenses", 2_000_000, 300, 80), table("providers", 1_000_000, 200, 50))
    sql = "ALTER TABLE licenses ADD CONSTRAINT fk_licenses_provider FOREIGN KEY(provider_id) REFERENCES providers (id)"
    finding = only(lint(sql, stats=stats), "LK103")
    assert finding.severity is Severity.BLOCK
    assert finding.message == (
        "ADD CONSTRAINT fk_licenses_provider FOREIGN KEY on licenses checks every existing row of licenses against "
        "providers while holding SHARE ROW EXCLUSIVE locks on both, which block every INSERT, UPDATE and DELETE "
        "on licenses and providers until the step commits: about 2.1s here (licenses has about 2,000,000 rows, "
        "380 MB with indexes)."
    )
    assert finding.help == (
        "Add it NOT VALID, so only new and updated rows are checked, and validate it in a later revision, where "
        "VALIDATE CONSTRAINT holds only SHARE UPDATE EXCLUSIVE and reads and writes go on:\n"
        '    op.create_foreign_key("fk_licenses_provider", "licenses", "providers", ["provider_id"], ["id"], '
        "postgresql_not_valid=True)\n"
        "    # in the next revision:\n"
        '    op.execute("ALTER TABLE licenses VALIDATE CONSTRAINT fk_licenses_provider")'
    )


def test_lk103_good_foreign_key_not_valid() -> None:
    """NOT VALID skips the scan; only the brief referenced-table note (LK110) remains."""
    sql = "ALTER TABLE licenses ADD CONSTRAINT fk_licenses_provider FOREIGN KEY(provider_id) REFERENCES providers (id) NOT VALID"
    report = lint(
        sql, stats=Stats.of(table("licenses", 2_000_000, 300, 80), table("providers", 1_000_000, 200, 50))
    )
    assert none(report, "LK103")
    assert only(report, "LK110").severity is Severity.INFO


def test_lk104_bad_check_constraint_validated_under_access_exclusive() -> None:
    """ADD CHECK scans under ACCESS EXCLUSIVE: block on a million rows."""
    sql = "ALTER TABLE providers ADD CONSTRAINT ck_status CHECK (status IN ('active', 'inactive'))"
    finding = only(lint(sql, stats=big()), "LK104")
    assert finding.severity is Severity.BLOCK
    assert finding.message == (
        "ADD CONSTRAINT ck_status CHECK on providers checks every existing row while holding an ACCESS EXCLUSIVE "
        "lock, which blocks every query on providers (reads included) until the step commits: about 1.4s here ("
        + BIG
        + ")."
    )
    assert finding.help == (
        "Add it NOT VALID, so only new and updated rows are checked, and validate it in a later revision, where "
        "VALIDATE CONSTRAINT holds only SHARE UPDATE EXCLUSIVE:\n"
        '    op.create_check_constraint("ck_status", "providers", "status IN (\'active\', \'inactive\')", '
        "postgresql_not_valid=True)\n"
        "    # in the next revision:\n"
        '    op.execute("ALTER TABLE providers VALIDATE CONSTRAINT ck_status")'
    )


def test_lk104_good_check_constraint_not_valid() -> None:
    """The NOT VALID form only changes the catalog."""
    sql = "ALTER TABLE providers ADD CONSTRAINT ck_status CHECK (status IN ('active', 'inactive')) NOT VALID"
    assert none(lint(sql, stats=big()), "LK104")


def test_lk105_bad_set_not_null_scans() -> None:
    """SET NOT NULL without a proof scans under ACCESS EXCLUSIVE."""
    finding = only(lint("ALTER TABLE providers ALTER COLUMN email SET NOT NULL", stats=big()), "LK105")
    assert finding.severity is Severity.BLOCK
    assert finding.message == (
        "ALTER COLUMN email SET NOT NULL on providers scans every row for NULLs while holding an ACCESS EXCLUSIVE "
        "lock, which blocks every query on providers (reads included) until the step commits: about 1.4s here ("
        + BIG
        + ")."
    )
    assert finding.help == (
        "Prove it first with a CHECK constraint added NOT VALID and validated; SET NOT NULL then uses the "
        "constraint instead of scanning (PostgreSQL 12 and later):\n"
        '    op.create_check_constraint("providers_email_not_null", "providers", "email IS NOT NULL", '
        "postgresql_not_valid=True)\n"
        "    # in the next revision:\n"
        '    op.execute("ALTER TABLE providers VALIDATE CONSTRAINT providers_email_not_null")\n'
        '    op.alter_column("providers", "email", nullable=False)\n'
        '    op.drop_constraint("providers_email_not_null", "providers")'
    )


def test_lk105_good_validated_check_in_an_earlier_step() -> None:
    """A CHECK (email IS NOT NULL) validated by an earlier step proves it: SET NOT NULL only changes the catalog."""
    earlier = [
        "ALTER TABLE providers ADD CONSTRAINT providers_email_not_null CHECK (email IS NOT NULL) NOT VALID",
        "ALTER TABLE providers VALIDATE CONSTRAINT providers_email_not_null",
    ]
    report = lint("ALTER TABLE providers ALTER COLUMN email SET NOT NULL", stats=big(), earlier=earlier)
    assert none(report, "LK105")


def test_lk105_good_when_the_database_has_the_proof() -> None:
    """A validated check in the database, or a column already NOT NULL, is proof too."""
    checked = Stats.of(table("providers", 1_000_000, 200, 50, not_null_checks=frozenset({"email"})))
    assert none(lint("ALTER TABLE providers ALTER COLUMN email SET NOT NULL", stats=checked), "LK105")
    already = Stats.of(
        table("providers", 1_000_000, 200, 50, columns={"email": Column("text", not_null=True)})
    )
    assert none(lint("ALTER TABLE providers ALTER COLUMN email SET NOT NULL", stats=already), "LK105")


def test_lk106_bad_unique_constraint_builds_its_index() -> None:
    """ADD CONSTRAINT UNIQUE builds an index under ACCESS EXCLUSIVE."""
    finding = only(
        lint("ALTER TABLE providers ADD CONSTRAINT uq_providers_email UNIQUE (email)", stats=big()), "LK106"
    )
    assert finding.severity is Severity.BLOCK
    assert finding.message == (
        "ADD CONSTRAINT uq_providers_email UNIQUE on providers builds its index while holding an ACCESS EXCLUSIVE "
        "lock, which blocks every query on providers (reads included) until the step commits: about 5.2s here ("
        + BIG
        + ")."
    )
    assert finding.help == (
        "Build the unique index concurrently first, then attach it, which only changes the catalog:\n"
        "    with op.get_context().autocommit_block():\n"
        '        op.create_index("uq_providers_email_idx", "providers", ["email"], unique=True, '
        "postgresql_concurrently=True)\n"
        '    op.execute("ALTER TABLE providers ADD CONSTRAINT uq_providers_email UNIQUE USING INDEX '
        'uq_providers_email_idx")'
    )


def test_lk106_good_unique_constraint_using_an_existing_index() -> None:
    """UNIQUE USING INDEX only changes the catalog."""
    sql = "ALTER TABLE providers ADD CONSTRAINT uq_providers_email UNIQUE USING INDEX uq_providers_email_idx"
    assert none(lint(sql, stats=big()), "LK106")


def test_lk107_bad_reindex_without_concurrently() -> None:
    """REINDEX blocks writes to the table for the whole rebuild."""
    finding = only(lint("REINDEX INDEX ix_providers_npi", stats=WITH_INDEX), "LK107")
    assert finding.severity is Severity.BLOCK
    assert finding.message == (
        "REINDEX INDEX ix_providers_npi rebuilds under a SHARE lock on providers, which blocks every INSERT, "
        "UPDATE and DELETE there, and an ACCESS EXCLUSIVE lock on the index, which blocks queries that would use "
        "it, until the step commits: about 5.2s here (" + BIG + ")."
    )
    assert finding.help == (
        "Rebuild it concurrently, outside the step's transaction:\n"
        "    with op.get_context().autocommit_block():\n"
        '        op.execute("REINDEX INDEX CONCURRENTLY ix_providers_npi")'
    )


def test_lk107_good_reindex_concurrently() -> None:
    report = lint("COMMIT;\n\nREINDEX INDEX CONCURRENTLY ix_providers_npi;\n\nBEGIN;", stats=WITH_INDEX)
    assert none(report, "LK107")


def test_lk108_bad_explicit_lock_table() -> None:
    """LOCK TABLE holds ACCESS EXCLUSIVE for the rest of the step: at least a warning on a table with rows."""
    sql = "LOCK TABLE providers IN ACCESS EXCLUSIVE MODE;\n\nALTER TABLE providers ADD COLUMN note TEXT"
    finding = only(lint(sql, stats=big()), "LK108")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "LOCK TABLE providers IN ACCESS EXCLUSIVE MODE blocks every query on providers (reads included) until the "
        "step commits, whatever the statements after it need: about 4ms here (" + BIG + ")."
    )
    assert finding.help == (
        "Remove it and let each statement take only the lock it needs; if it orders locks against a deadlock, "
        "keep it in a step of its own that does nothing slow after it:\n"
        '    # remove: op.execute("LOCK TABLE providers IN ACCESS EXCLUSIVE MODE")'
    )


def test_lk108_good_weak_explicit_lock_is_a_note() -> None:
    """A lock weaker than SHARE blocks no reads or writes: info only."""
    report = lint("LOCK TABLE providers IN ROW EXCLUSIVE MODE", stats=big())
    assert only(report, "LK108").severity is Severity.INFO


def test_lk109_bad_catalog_only_alters_on_an_existing_table_are_noted() -> None:
    """Nullable ADD COLUMNs take ACCESS EXCLUSIVE for milliseconds: one note per table, sized."""
    sql = "\n\n".join(f"ALTER TABLE providers ADD COLUMN c{n} TEXT;" for n in range(5))
    finding = only(lint(sql, stats=big()), "LK109")
    assert finding.severity is Severity.INFO
    assert finding.message == (
        "5 statements in this step take an ACCESS EXCLUSIVE lock on providers (ADD COLUMN c0, c1, c2 and 2 more), "
        "held until the step commits: about 10ms here ("
        + BIG
        + "). Each changes only the catalog, but while the "
        "lock waits for queries already running on providers, every new query on providers queues behind it."
    )
    assert finding.help == (
        "Nothing to change while the step stays short: the runner's lock_timeout bounds the wait and a lock "
        "timeout is retried. Keep slow work on providers out of this revision:\n"
        "    # this revision: catalog-only changes to providers\n"
        "    # the next revision: anything slow"
    )


def test_lk109_good_new_tables_are_not_noted() -> None:
    """Columns added to a table created in the same step or earlier in the run: nothing to note."""
    assert none(lint("CREATE TABLE notes (id BIGINT);\n\nALTER TABLE notes ADD COLUMN body TEXT"), "LK109")
    assert none(
        lint("ALTER TABLE notes ADD COLUMN body TEXT", earlier=["CREATE TABLE notes (id BIGINT)"]), "LK109"
    )


def test_lk110_bad_new_table_references_existing_tables() -> None:
    """A new table's foreign keys take SHARE ROW EXCLUSIVE on the referenced tables: one note per step."""
    sql = (
        "CREATE TABLE notes (id BIGSERIAL PRIMARY KEY, provider_id BIGINT REFERENCES providers (id), "
        "user_id BIGINT REFERENCES users (id))"
    )
    stats = Stats.of(table("providers", 1_000_000, 200, 50), table("users", 5_000, 1, 0.5))
    finding = only(lint(sql, stats=stats), "LK110")
    assert finding.severity is Severity.INFO
    assert finding.message == (
        "CREATE TABLE notes adds foreign keys referencing providers and users, which takes a SHARE ROW EXCLUSIVE "
        "lock on each of them; it blocks every INSERT, UPDATE and DELETE on providers and users until "
        "the step commits: about 2ms here (" + BIG + "; users has about 5,000 rows, 1.5 MB with indexes)."
    )
    assert finding.help == (
        "Nothing to change while the step stays short. Keep slow work (index builds on existing tables, "
        "backfills) out of the revision that adds the foreign key:\n"
        "    # this revision: CREATE TABLE only\n"
        "    # the next revision: anything slow"
    )


def test_lk110_good_reference_to_a_table_created_in_the_same_step() -> None:
    sql = (
        "CREATE TABLE a (id BIGINT PRIMARY KEY);\n\nCREATE TABLE b (id BIGINT, a_id BIGINT REFERENCES a (id))"
    )
    assert none(lint(sql, stats=big()), "LK110")


def test_lk111_bad_validate_in_the_same_transaction() -> None:
    """VALIDATE right after ADD ... NOT VALID keeps ADD's ACCESS EXCLUSIVE lock for the scan."""
    sql = (
        "ALTER TABLE providers ADD CONSTRAINT ck_email CHECK (email IS NOT NULL) NOT VALID;\n\n"
        "ALTER TABLE providers VALIDATE CONSTRAINT ck_email"
    )
    finding = only(lint(sql, stats=big()), "LK111")
    assert finding.severity is Severity.BLOCK
    assert finding.message == (
        "VALIDATE CONSTRAINT ck_email runs in the same transaction that added it NOT VALID, so the ACCESS "
        "EXCLUSIVE lock ADD CONSTRAINT took on providers is still held during the validation scan; it blocks "
        "every query on providers (reads included) until the step commits: about 1.4s here (" + BIG + ")."
    )
    assert finding.help == (
        "Validate it after the commit, in the next revision or in an autocommit block:\n"
        "    with op.get_context().autocommit_block():\n"
        '        op.execute("ALTER TABLE providers VALIDATE CONSTRAINT ck_email")'
    )


def test_lk111_good_validate_after_a_commit() -> None:
    """Validated in an autocommit block, after ADD's transaction committed: no LK111."""
    sql = (
        "ALTER TABLE providers ADD CONSTRAINT ck_email CHECK (email IS NOT NULL) NOT VALID;\n\n"
        "COMMIT;\n\nALTER TABLE providers VALIDATE CONSTRAINT ck_email;\n\nBEGIN;"
    )
    assert none(lint(sql, stats=big()), "LK111")
    assert not findings(lint(sql, stats=big()), "LK105")


def test_lk101_follows_a_rename_made_earlier_in_the_run() -> None:
    """After RENAME TO clinicians, an index on clinicians is sized from the table the database calls providers."""
    report = lint(
        "CREATE INDEX ix_clinicians_npi ON clinicians (npi)",
        stats=big(),
        earlier=["ALTER TABLE providers RENAME TO clinicians"],
    )
    finding = only(report, "LK101")
    assert finding.severity is Severity.BLOCK
    assert finding.message.endswith(
        "about 5.2s here (clinicians has about 1,000,000 rows, 250 MB with indexes)."
    )
