"""Each kind of check against a real database at the example head: pass, fail, and fail safely."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing

import psycopg
import pytest

from runner.playbook.catalog import ColumnState, ConstraintState, EnumState, IndexState, TableExists
from runner.playbook.checks import (
    NoInvalidIndexes,
    QueryCheck,
    RevisionIs,
    RevisionReverted,
    RowsUnchanged,
    count_rows,
    run_check,
)
from tests import pg
from tests.conftest import EXAMPLE_HEAD

TIMEOUT_MS = 2000


@pytest.fixture(scope="module")
def conn(template_at) -> Iterator[psycopg.Connection]:
    """One read-only-used database at the example head for the whole module, with a few provider rows."""
    name = pg.create_database(template_at(EXAMPLE_HEAD))
    try:
        with closing(pg.connect(name)) as connection:
            connection.execute(
                "INSERT INTO organizations (id, name, slug) VALUES (1, 'Org', 'org');"
                "INSERT INTO providers (organization_id, npi, first_name, last_name) "
                "SELECT 1, lpad(g::text, 10, '0'), 'A', 'B' FROM generate_series(1, 3) g;"
                "CREATE FUNCTION purge_providers() RETURNS int LANGUAGE plpgsql "
                "AS $$BEGIN DELETE FROM providers; RETURN 0; END$$"
            )
            yield connection
    finally:
        pg.drop_database(name)


def result_of(check, conn, baseline=None):
    return run_check(check, conn, TIMEOUT_MS, baseline)


@pytest.mark.parametrize(
    ("check", "ok", "found"),
    [
        (TableExists("payment_methods", label="t"), True, "present"),
        (TableExists("public.payment_methods", exists=False, label="t"), False, "present"),
        (TableExists("payment_method", label="t"), False, "absent"),
        (ColumnState("providers", "home_address", type="varchar(200)", nullable=True, label="c"), True, None),
        (ColumnState("providers", "home_address", type="character varying(200)", label="c"), True, None),
        (ColumnState("licenses", "verified_at", type="timestamptz", nullable=True, label="c"), True, None),
        (ColumnState("providers", "npi", type="varchar(10)", nullable=False, label="c"), True, None),
        (
            ColumnState("providers", "home_address", type="varchar(100)", label="c"),
            False,
            "present, type character varying(200)",
        ),
        (ColumnState("providers", "home_address", type="text", label="c"), False, None),
        (ColumnState("providers", "npi", nullable=True, label="c"), False, "present, NOT NULL"),
        (ColumnState("providers", "fax", exists=False, label="c"), True, "absent"),
        (
            IndexState("ix_payment_methods_provider_id", "payment_methods", unique=False, label="i"),
            True,
            None,
        ),
        (
            IndexState("ix_providers_last_name_lower", "providers", label="i"),
            True,
            None,
        ),  # an expression index
        (
            IndexState("ix_licenses_expiring", "providers", label="i"),
            False,
            "present, on licenses",
        ),  # partial
        (IndexState("ix_nothing", exists=False, label="i"), True, "absent"),
        (
            ConstraintState("uq_coordinator_notification_preferences_user", kind="unique", label="k"),
            True,
            None,
        ),
        (ConstraintState("providers_pkey", "providers", kind="foreign_key", label="k"), False, None),
        (EnumState("coordinator_action_type", value="stage_changed", label="e"), True, None),
        (EnumState("coordinator_action_type", value="archived", exists=False, label="e"), True, None),
        (
            EnumState("coordinator_action_type", values=("note_added", "stage_changed"), label="e"),
            False,
            "values note_added, document_requested, license_verified, status_changed, stage_changed",
        ),
        (EnumState("no_such_type", value="x", label="e"), False, "no such enum type"),
        (QueryCheck("SELECT count(*) FROM providers", "scalar", "==", 3, "q"), True, "3"),
        (QueryCheck("SELECT count(*) FROM providers", "scalar", ">", 5, "q"), False, "3"),
        (
            QueryCheck("SELECT npi FROM providers WHERE npi LIKE '%3'", "scalar", "==", "0000000003", "q"),
            True,
            None,
        ),
        (QueryCheck("SELECT 1 FROM providers WHERE false", "rows", "==", 0, "q"), True, "0 rows"),
        (QueryCheck("SELECT NULL::int", "scalar", "==", None, "q"), True, "NULL"),
        (QueryCheck("SELECT 2.50::numeric", "scalar", "==", 2.5, "q"), True, None),
        (QueryCheck("SELECT true", "scalar", "==", True, "q"), True, None),
        (RevisionIs((EXAMPLE_HEAD,)), True, EXAMPLE_HEAD),
        (RevisionIs(("7702d353e5b8",)), False, EXAMPLE_HEAD),
        (RevisionReverted("7702d353e5b8"), True, EXAMPLE_HEAD),
        (NoInvalidIndexes(), True, "none"),
    ],
)
def test_check(conn, check, ok, found):
    """What each check expects and finds, in the same words."""
    result = result_of(check, conn)
    assert result.ok is ok, result.describe()
    if found is not None:
        assert result.found == found


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        (
            "DELETE FROM providers RETURNING 1",
            "refused: the SQL is a DELETE, not a query; a check runs one SELECT and only reads",
        ),
        (
            "SELECT 1; COMMIT; DELETE FROM providers",
            "refused: the SQL holds 3 statements; a check runs exactly one query",
        ),
        (
            "SELECT pg_sleep(5)",
            "refused: the SQL calls pg_sleep(), which sleeps; a check may only read",
        ),
        (
            "COPY (SELECT 1) TO PROGRAM 'touch /tmp/pwned'",
            "refused: the SQL is a COPY TO PROGRAM, not a query; a check runs one SELECT and only reads",
        ),
        (
            "SELECT purge_providers()",  # a function of the application's: READ ONLY stops it
            "error: ReadOnlySqlTransaction: cannot execute DELETE in a read-only transaction",
        ),
        (
            "SELECT count(*) FROM generate_series(1, 500000000)",
            "error: QueryCanceled: canceling statement due to statement timeout",
        ),
        ("SELECT * FROM no_such_table", 'error: UndefinedTable: relation "no_such_table" does not exist'),
    ],
)
def test_a_query_check_can_not_change_anything_and_fails_safely(conn, sql, error):
    """One plain query, read only, bounded in time; an error is what the check found, never a crash."""
    result = run_check(QueryCheck(sql, "scalar", "==", 0, "q"), conn, 200)
    assert not result.ok
    assert result.found.startswith(error)
    assert conn.execute("SELECT count(*) FROM providers").fetchone() == (3,)
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_rows_unchanged_compares_with_the_count_from_before(conn):
    """The baseline is taken before the step; the check compares the count after it."""
    check = RowsUnchanged("providers", "rows in providers unchanged")
    before = count_rows(check, conn, TIMEOUT_MS)
    assert before == 3
    assert result_of(check, conn, before).ok
    changed = result_of(check, conn, 4)
    assert (changed.ok, changed.expected, changed.found) == (False, "4 rows (as before)", "3 rows")
    missing = result_of(RowsUnchanged("nope", "n"), conn, None)
    assert (missing.ok, missing.found) == (False, "no such table, and no count from before")


def test_an_invalid_index_is_found(new_db, template_at):
    """A failed CREATE INDEX CONCURRENTLY leaves an INVALID index: the always-on check names it."""
    name = new_db(template_at(EXAMPLE_HEAD))
    with closing(pg.connect(name)) as conn:
        conn.execute("INSERT INTO organizations (id, name, slug) VALUES (1, 'a', 'a'), (2, 'b', 'b')")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY ix_one_org ON organizations ((1))")
        result = result_of(NoInvalidIndexes(), conn)
    assert not result.ok
    assert result.found == "ix_one_org on organizations"
