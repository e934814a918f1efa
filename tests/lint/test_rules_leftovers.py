"""Concurrent builds that fail halfway (TX107): a real failed build's INVALID index, read from the live catalog."""

from __future__ import annotations

from contextlib import closing

import psycopg
import pytest

from runner.lint import Severity
from tests import pg
from tests.lint.conftest import recipe, run_recipe, stats_of
from tests.lint.helpers import lint, none, only

UNIQUE = "CREATE UNIQUE INDEX CONCURRENTLY ux_accounts_email ON accounts (email)"
IF_NOT_EXISTS = "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ux_accounts_email ON accounts (email)"


def outside(sql: str) -> str:
    return f"COMMIT;\n\n{sql};\n\nBEGIN;"


def failed_build(database: str) -> None:
    """A duplicate email, then the unique concurrent build: PostgreSQL 15 fails it and keeps the index INVALID."""
    with closing(pg.connect(database)) as conn:
        conn.execute("UPDATE accounts SET email = 'user1@example.com' WHERE id = 2")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(UNIQUE)
        valid = conn.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ux_accounts_email'::regclass"
        )
        assert valid.fetchone() == (False,)
        conn.execute(IF_NOT_EXISTS)  # "already exists, skipping": the INVALID index stays
        assert conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone() == (1,)


def test_tx107_bad_if_not_exists_would_keep_the_invalid_leftover(sized_clone) -> None:
    """The live catalog has an INVALID ux_accounts_email: IF NOT EXISTS would keep it, so block."""
    failed_build(sized_clone)
    finding = only(lint(outside(IF_NOT_EXISTS), stats=stats_of(sized_clone)), "TX107")
    assert finding.severity is Severity.BLOCK
    assert finding.message == (
        "ux_accounts_email already exists on accounts here as an INVALID index, the leftover of a concurrent build "
        "that failed halfway: IF NOT EXISTS skips the build (relation already exists, skipping), so the step "
        "succeeds and the INVALID index stays: queries never use it."
    )
    assert finding.help == (
        "Drop the leftover first, in the same autocommit block, then build:\n"
        "    with op.get_context().autocommit_block():\n"
        '        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ux_accounts_email")  # a failed build\'s leftover\n'
        '        op.create_index("ux_accounts_email", "accounts", ["email"], unique=True, '
        "postgresql_concurrently=True)"
    )


def test_tx107_bad_without_if_not_exists_the_step_fails(sized_clone) -> None:
    failed_build(sized_clone)
    finding = only(lint(outside(UNIQUE), stats=stats_of(sized_clone)), "TX107")
    assert finding.severity is Severity.WARN
    assert finding.message.endswith(
        "that failed halfway: the build fails every time (relation already exists)."
    )


def test_tx107_good_the_recipe_replaces_the_leftover_with_a_valid_index(
    tmp_path, sized_clone, sized_stats
) -> None:
    """Duplicates fixed, the help pasted into a revision: the leftover is dropped and the index built valid."""
    failed_build(sized_clone)
    finding = only(lint(outside(IF_NOT_EXISTS), stats=stats_of(sized_clone)), "TX107")
    with closing(pg.connect(sized_clone)) as conn:
        conn.execute("UPDATE accounts SET email = 'user2@example.com' WHERE id = 2")
    run_recipe(tmp_path, sized_clone, recipe(finding.help))
    with closing(pg.connect(sized_clone)) as conn:
        assert conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone() == (0,)
    assert none(
        lint(outside(IF_NOT_EXISTS.replace(" IF NOT EXISTS", "")), stats=stats_of(sized_clone)), "LK101"
    )


def test_tx107_good_a_plain_concurrent_build_with_nothing_left_over(sized_stats) -> None:
    """A non-unique concurrent build without IF NOT EXISTS, no leftover: nothing to say."""
    report = lint(
        outside("CREATE INDEX CONCURRENTLY ix_accounts_email ON accounts (email)"), stats=sized_stats
    )
    assert none(report, "TX107")


def test_tx107_unique_build_is_noted_with_the_duplicate_check(sized_stats) -> None:
    finding = only(lint(outside(UNIQUE), stats=sized_stats), "TX107")
    assert finding.severity is Severity.INFO
    assert (
        "        # SELECT email, count(*) FROM accounts GROUP BY email HAVING count(*) > 1 LIMIT 5"
        in finding.help.splitlines()
    )


def test_tx107_if_not_exists_without_a_database_warns() -> None:
    finding = only(lint(outside(IF_NOT_EXISTS)), "TX107")
    assert finding.severity is Severity.WARN
    assert "Without a database URL nothing rules it out: if a build fails halfway" in finding.message
