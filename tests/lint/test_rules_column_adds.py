"""Column adds that bring more than a column: each rendered statement judged with the locks still held.

``op.add_column(..., sa.Column(..., sa.ForeignKey(...)))`` renders as ADD COLUMN, then ADD FOREIGN KEY,
which checks every row while the ADD COLUMN's ACCESS EXCLUSIVE lock is still held; a foreign key
declared inline on a new column without a default is marked valid without reading a row (both
measured here on PostgreSQL 15 with pg_stat_xact_user_tables).
"""

from __future__ import annotations

from runner.lint import Severity
from tests.lint.conftest import described, lint_revision, recipe, scans
from tests.lint.helpers import lint, none, only

ADD_WITH_FK = (
    'op.add_column("accounts", sa.Column("owner_org_id", sa.BigInteger(), sa.ForeignKey("orgs.id")))'
)
TWO_STATEMENTS = (
    "ALTER TABLE accounts ADD COLUMN owner_org_id BIGINT; "
    "ALTER TABLE accounts ADD FOREIGN KEY(owner_org_id) REFERENCES orgs (id)"
)
INLINE = "ALTER TABLE accounts ADD COLUMN owner_org_id BIGINT REFERENCES orgs (id)"


def test_lk103_bad_add_column_with_a_foreign_key_checks_rows_under_the_column_lock(
    tmp_path, sized_db, sized_stats
) -> None:
    """Alembic's two statements: the check runs while ADD COLUMN's ACCESS EXCLUSIVE is held (reads wait too)."""
    report = lint_revision(tmp_path, ADD_WITH_FK, sized_stats)
    finding = next(f for f in report.findings if f.code == "LK103")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "ADD CONSTRAINT accounts_owner_org_id_fkey FOREIGN KEY on accounts checks every existing row of accounts "
        "against orgs while the ACCESS EXCLUSIVE lock ADD COLUMN owner_org_id took on accounts earlier in this "
        "transaction is still held, which blocks every query on accounts (reads included), and holds a SHARE ROW "
        "EXCLUSIVE lock on orgs, which blocks every INSERT, UPDATE and DELETE on it until the step commits: about "
        f"{finding.estimated_lock_ms}ms here ({described(sized_stats, 'accounts')})."
    )
    assert finding.help.splitlines()[:2] == [
        "Declare it in the ADD COLUMN itself: PostgreSQL then marks it valid without reading a row, because every "
        "value of a new column without a default is NULL:",
        '    op.execute("ALTER TABLE accounts ADD COLUMN owner_org_id bigint CONSTRAINT accounts_owner_org_id_fkey '
        'REFERENCES orgs (id)")  # instead of op.add_column(... sa.ForeignKey(...))',
    ]
    assert scans(sized_db, TWO_STATEMENTS, "accounts") == 1


def test_lk103_good_an_inline_foreign_key_on_a_new_column_reads_no_row(
    tmp_path, sized_db, sized_stats
) -> None:
    """The help's inline form: no LK103 (only the note on orgs' lock), and the server scans nothing."""
    finding = next(f for f in lint_revision(tmp_path, ADD_WITH_FK, sized_stats).findings if f.code == "LK103")
    body = recipe(finding.help).split("\n")[0]
    report = lint_revision(tmp_path / "inline", body, sized_stats)
    assert not [f for f in report.findings if f.code == "LK103"]
    assert [f.severity for f in report.findings if f.code == "LK110"] == [Severity.INFO]
    assert scans(sized_db, INLINE, "accounts") == 0


def test_lk103_a_default_on_the_new_column_brings_the_check_back(sized_db, sized_stats) -> None:
    """With a default every row has a value to check: the inline key scans, and LK103 says so."""
    sql = "ALTER TABLE accounts ADD COLUMN owner_org_id BIGINT DEFAULT 1 REFERENCES orgs (id)"
    assert only(lint(sql, stats=sized_stats), "LK103").severity is Severity.WARN
    assert scans(sized_db, sql, "accounts") == 1
    assert none(lint(INLINE, stats=sized_stats), "LK103")


def test_lk101_index_true_builds_while_the_add_column_lock_is_held(tmp_path, sized_stats) -> None:
    """sa.Column(..., index=True) renders ADD COLUMN then CREATE INDEX: the build runs under ACCESS EXCLUSIVE."""
    body = 'op.add_column("accounts", sa.Column("region", sa.Text(), index=True))'
    finding = next(f for f in lint_revision(tmp_path, body, sized_stats).findings if f.code == "LK101")
    assert finding.lock_mode == "ACCESS EXCLUSIVE"
    assert finding.message == (
        "CREATE INDEX ix_accounts_region builds the index on accounts while the ACCESS EXCLUSIVE lock ADD COLUMN "
        "region took earlier in this transaction is still held, which blocks every query on accounts (reads "
        f"included) until the step commits: about {finding.estimated_lock_ms}ms here "
        f"({described(sized_stats, 'accounts')})."
    )
    assert finding.help.endswith(
        '        op.create_index("ix_accounts_region", "accounts", ["region"], postgresql_concurrently=True)'
    )
