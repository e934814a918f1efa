"""Table sizes read from a real PostgreSQL database: rows, bytes, columns, proofs, index owners."""

from __future__ import annotations

from contextlib import closing

from examples.credentialmate.fill import conninfo_from_url, fill
from runner.lint.names import TableRef
from runner.lint.sizing import Column, _rows, read_stats
from tests import pg


def test_read_stats_sizes_every_table_from_the_catalog(production_db: str) -> None:
    """After fill() (which ANALYZEs), row estimates are the real counts and sizes are non-zero."""
    fill(conninfo_from_url(pg.url_for(production_db)), 2_000)
    with closing(pg.connect(production_db)) as conn:
        stats = read_stats(conn)
    providers = stats.find(TableRef("providers"))
    assert providers is not None and providers.key == "public.providers"
    assert providers.rows == 2_000
    assert providers.table_bytes > 100_000 and providers.index_bytes > 50_000
    assert stats.find(TableRef("licenses", "public")).rows == 4_000  # type: ignore[union-attr]
    assert providers.columns["npi"] == Column("character varying(10)", not_null=True)
    assert providers.columns["email"] == Column("character varying(320)", not_null=False)
    assert stats.table_of_index("ix_providers_organization_id", None) == TableRef("providers")
    assert stats.find(TableRef("provider_credentials")) is None  # a later revision creates it
    assert stats.database == production_db


def test_read_stats_for_named_tables_only(production_db: str) -> None:
    with closing(pg.connect(production_db)) as conn:
        stats = read_stats(conn, ["providers", "public.users", "no_such_table"])
    assert sorted(stats.tables) == ["public.providers", "public.users"]


def test_validated_not_null_checks_and_search_path(new_db) -> None:
    """A validated CHECK (col IS NOT NULL) is a proof; a NOT VALID one is not. Names resolve via search_path."""
    name = new_db()
    with closing(pg.connect(name)) as conn:
        conn.execute("CREATE SCHEMA app")
        conn.execute("CREATE TABLE app.people (id int, email text, phone text)")
        conn.execute("ALTER TABLE app.people ADD CONSTRAINT people_email_nn CHECK (email IS NOT NULL)")
        conn.execute(
            "ALTER TABLE app.people ADD CONSTRAINT people_phone_nn CHECK (phone IS NOT NULL) NOT VALID"
        )
        conn.execute("SET search_path = app, public")
        stats = read_stats(conn)
    people = stats.find(TableRef("people"))
    assert people is not None and people.schema == "app"
    assert people.not_null_checks == frozenset({"email"})
    assert people.rows == 0 and people.empty


def test_rows_fall_back_when_the_table_was_never_analysed() -> None:
    """reltuples is -1 before the first ANALYZE: the live-row counter, then the size, stand in."""
    assert _rows(-1, 1_500, 200_000) == 1_500
    assert _rows(-1, 0, 8_192) == 0
    assert _rows(-1, 0, 1_000_000) == 10_000
    assert _rows(0, 42, 16_384) == 42
    assert _rows(2_500, 10, 16_384) == 2_500


def test_read_stats_does_not_wait_for_a_locked_table_or_partition(new_db) -> None:
    """Sizes come from catalog columns: a table and a partition held ACCESS EXCLUSIVE are sized at once."""
    name = new_db()
    with closing(pg.connect(name)) as conn:
        conn.execute("CREATE TABLE events (id bigint, day int, body text) PARTITION BY RANGE (day)")
        conn.execute("CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (100)")
        conn.execute("CREATE TABLE events_2 PARTITION OF events FOR VALUES FROM (100) TO (200)")
        conn.execute("CREATE INDEX ON events (id)")
        conn.execute("CREATE TABLE plain (id bigint PRIMARY KEY, body text)")
        conn.execute("INSERT INTO events SELECT g, g % 200, repeat('x', 200) FROM generate_series(1, 4000) g")
        conn.execute("INSERT INTO plain SELECT g, repeat('y', 200) FROM generate_series(1, 2000) g")
        conn.execute("VACUUM ANALYZE")
    holder = pg.connect(name)
    holder.autocommit = False
    try:
        holder.execute("LOCK TABLE plain, events_2 IN ACCESS EXCLUSIVE MODE")
        with closing(pg.connect(name)) as conn:
            conn.execute("SET lock_timeout = '100ms'")
            stats = read_stats(conn)
    finally:
        holder.close()
    events, plain = stats.find(TableRef("events")), stats.find(TableRef("plain"))
    assert events is not None and plain is not None
    assert events.rows == 4_000 and plain.rows == 2_000
    assert events.table_bytes > 800_000 and events.index_bytes > 80_000  # both partitions, heap and index
    assert plain.table_bytes > 400_000 and plain.index_bytes > 40_000
