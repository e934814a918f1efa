"""Catalog facts read from the sized database: partitions, keys, leftovers, triggers, row security, release."""

from __future__ import annotations

from contextlib import closing

import psycopg
import pytest

from runner.lint.catalog import CheckCover, read_facts
from tests import pg


def facts_of(database: str, *, lock_timeout: str | None = None):
    with closing(pg.connect(database)) as conn:
        if lock_timeout:
            conn.execute(f"SET lock_timeout = '{lock_timeout}'")
        oids = [row[0] for row in conn.execute("SELECT oid FROM pg_class WHERE relkind IN ('r', 'p')")]
        return read_facts(conn, oids)


def test_partitioned_tables_with_their_partitions_and_sizes(sized_db) -> None:
    """events: range on created_on, two partitions of 100,000 rows together, sized from relpages."""
    facts = facts_of(sized_db)
    events = facts.partitioned["public.events"]
    assert (events.strategy, events.key_columns, events.key_expressions) == ("range", ("created_on",), 0)
    assert [p.key for p in events.partitions] == ["public.events_2025", "public.events_2026"]
    assert events.rows == 100_000 and all(p.table_bytes > 5_000_000 for p in events.partitions)
    assert events.default is None
    assert facts.parent_of("public.events_2026") == "public.events"
    assert facts.server_version_num is not None and facts.server_version_num >= 150000


def test_keys_checks_triggers_and_foreign_keys(sized_db) -> None:
    facts = facts_of(sized_db)
    assert facts.unique_columns["public.accounts"] == frozenset({"id"})
    assert facts.checks["public.events_2028"] == frozenset({CheckCover(frozenset({"created_on"}))})
    assert facts.user_triggers["public.accounts"] == ("accounts_touch",)
    assert facts.foreign_keys == {"public.accounts": 1, "public.orgs": 1}
    assert facts.validated_foreign_keys["public.accounts"] == frozenset({(("org_id",), "public.orgs")})
    assert facts.invalid_indexes == {} and facts.row_security == {}


def test_not_null_proofs_invalid_indexes_and_row_security(sized_clone) -> None:
    """IS NOT NULL joined by AND proves; under OR it does not. A failed build and RLS show up too."""
    with closing(pg.connect(sized_clone)) as conn:
        conn.execute("ALTER TABLE events_2027 ADD CONSTRAINT a CHECK (created_on IS NOT NULL AND org_id > 0)")
        conn.execute("ALTER TABLE events_2027 ADD CONSTRAINT b CHECK (payload IS NOT NULL OR id > 0)")
        conn.execute("INSERT INTO orgs VALUES (1001, 'org 1')")  # a duplicate name: the unique build fails
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY ix_orgs_name ON orgs (name)")
        conn.execute("CREATE POLICY everyone ON accounts USING (true)")
        conn.execute("ALTER TABLE accounts ENABLE ROW LEVEL SECURITY")
    facts = facts_of(sized_clone)
    assert facts.checks["public.events_2027"] == frozenset(
        {
            CheckCover(frozenset({"created_on", "org_id"}), frozenset({"created_on"})),
            CheckCover(frozenset({"payload", "id"})),
        }
    )
    assert facts.invalid_indexes == {"public.ix_orgs_name": "public.orgs"}
    assert facts.row_security == {"public.accounts": (True, 1)}


def test_reading_the_facts_never_waits_for_a_lock(sized_db) -> None:
    """A second session holds ACCESS EXCLUSIVE on the tables: the reads still answer within a 100 ms lock_timeout."""
    with closing(pg.connect(sized_db)) as holder:
        holder.autocommit = False
        holder.execute("LOCK TABLE events, events_2025, accounts, orgs, events_2028 IN ACCESS EXCLUSIVE MODE")
        facts = facts_of(sized_db, lock_timeout="100ms")
        holder.rollback()
    assert facts.partitioned["public.events"].rows == 100_000
    assert facts.checks["public.events_2028"]
