"""Linting real Alembic revisions: rendered offline through env.py, autocommit blocks, unrenderable steps."""

from __future__ import annotations

from pathlib import Path

from runner.lint import analyse, is_irreversible, profile_for
from runner.planning.project import AlembicProject
from tests.lint.projects import NO_DOWNGRADE, make_project

BASE = (
    "a1",
    'op.create_table("accounts", sa.Column("id", sa.BigInteger(), primary_key=True), sa.Column("email", sa.String(200)))',
    'op.drop_table("accounts")',
)


def lint_project(root: Path, revisions: list[tuple[str, str, object]], start: str | None = "a1"):
    project = AlembicProject.load(make_project(root, [BASE, *revisions]))
    pending = project.pending((start,) if start else ())
    return analyse(project, pending)


def codes(report, revision: str) -> set[str]:
    return {f.code for f in report.findings_for(revision)}


def test_autocommit_block_makes_a_concurrent_build_safe(tmp_path: Path) -> None:
    """op.create_index(postgresql_concurrently=True) inside autocommit_block(): no LK101/TX101, concurrent profile."""
    body = """
    with op.get_context().autocommit_block():
        op.create_index("ix_accounts_email", "accounts", ["email"], postgresql_concurrently=True)
    """
    report = lint_project(
        tmp_path, [("b2", body, 'op.drop_index("ix_accounts_email", table_name="accounts")')]
    )
    assert not codes(report, "b2") & {"LK101", "TX101"}
    name, guards = profile_for(report, "b2")
    assert name == "concurrent-build"
    assert (guards.lock_timeout_ms, guards.statement_timeout_ms) == (300_000, 1_800_000)
    assert report.step("b2").autocommit


def test_concurrent_build_without_autocommit_block_is_caught(tmp_path: Path) -> None:
    body = 'op.create_index("ix_accounts_email", "accounts", ["email"], postgresql_concurrently=True)'
    report = lint_project(
        tmp_path, [("b2", body, 'op.drop_index("ix_accounts_email", table_name="accounts")')]
    )
    assert "TX101" in codes(report, "b2")


def test_a_revision_that_reads_data_is_reported_not_fatal(tmp_path: Path) -> None:
    """op.get_bind() can't run offline: AN101 for that step, and the next step is still analysed."""
    reads = 'rows = op.get_bind().execute(sa.text("SELECT id FROM accounts")).all()'
    after = 'op.create_index("ix_accounts_email", "accounts", ["email"])'
    report = lint_project(
        tmp_path, [("b2", reads, "pass"), ("c3", after, 'op.drop_index("ix_accounts_email")')]
    )
    assert codes(report, "b2") == {"AN101"}
    assert str(report.step("b2").risk) == "unknown"
    assert "LK101" in codes(report, "c3")


def test_data_change_without_inverse_reads_the_real_downgrade(tmp_path: Path) -> None:
    """The downgrade is rendered offline: an inverse UPDATE clears IR104, a schema-only downgrade does not."""
    update = 'op.execute("UPDATE accounts SET email = lower(email)")'
    report = lint_project(
        tmp_path,
        [
            ("b2", update, 'op.execute("SELECT 1")'),
            ("c3", update, 'op.execute("UPDATE accounts SET email = email")'),
        ],
    )
    assert "IR104" in codes(report, "b2")
    assert (
        is_irreversible(report, "b2")
        == "it changes rows of accounts and downgrade() does not change them back"
    )
    assert "IR104" not in codes(report, "c3")


def test_missing_downgrade_function(tmp_path: Path) -> None:
    report = lint_project(
        tmp_path, [("b2", 'op.add_column("accounts", sa.Column("note", sa.Text()))', NO_DOWNGRADE)]
    )
    assert "IR102" in codes(report, "b2")
    assert report.step("b2").reversible_text() == "no (no downgrade())"


def test_from_base_a_fresh_database_is_never_refused(tmp_path: Path) -> None:
    """Every table is created by an earlier step of the run: nothing can block."""
    revisions = [
        (
            "b2",
            'op.create_index("ix_accounts_email", "accounts", ["email"])',
            'op.drop_index("ix_accounts_email")',
        ),
        (
            "c3",
            'op.add_column("accounts", sa.Column("tier", sa.String(20), nullable=False))',
            'op.drop_column("accounts", "tier")',
        ),
        ("d4", 'op.execute("UPDATE accounts SET email = lower(email)")', "pass"),
    ]
    report = lint_project(tmp_path, revisions, start=None)
    assert report.blocking() == []
    assert {f.code for f in report.findings} >= {"LK101", "BC103"}
