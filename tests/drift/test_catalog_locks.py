"""A locked table never hangs a snapshot: what can't be read is noted, the rest is compared."""

from __future__ import annotations

import time
from contextlib import closing, contextmanager

import pytest

from runner.drift import catalog
from runner.drift.catalog import CatalogLimits, CatalogReader, CatalogUnreadable
from runner.drift.compare import compare
from runner.drift.objects import UNREAD
from runner.drift.snapshot import take
from tests import pg
from tests.drift.schemas import build, run, snapshot

FAST = CatalogLimits(lock_timeout_ms=50, statement_timeout_ms=5_000)


@contextmanager
def holding(database: str, table: str):
    """A second session inside a transaction that holds ACCESS EXCLUSIVE on ``table``."""
    with closing(pg.connect(database)) as holder:
        holder.execute("BEGIN")
        holder.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        pid = holder.execute("SELECT pg_backend_pid()").fetchone()[0]
        yield pid
        holder.execute("ROLLBACK")


def test_a_table_held_in_access_exclusive_is_noted_not_waited_for(new_db):
    """Its definitions are left out with the holder named; existence and other tables still compare."""
    source = build(new_db)
    target = new_db(source)
    run(target, "CREATE INDEX accounts_created ON accounts (created_at)")
    with holding(source, "accounts") as pid, closing(pg.connect(source)) as conn:
        started = time.monotonic()
        locked = take(conn, limits=FAST)
        elapsed = time.monotonic() - started
    assert elapsed < 2
    holder = f"pid {pid} holds ACCESS EXCLUSIVE on it"
    assert [(s.what, s.reason) for s in locked.skipped if s.what == "public.accounts"] == [
        ("public.accounts", f"column defaults not read: {holder}"),
        ("public.accounts", f"index definitions not read: {holder}"),
        ("public.accounts", f"constraint definitions not read: {holder}"),
        ("public.accounts", f"trigger definitions not read: {holder}"),
    ]
    columns = {c.name: c for c in {t.name: t for t in locked.tables}["public.accounts"].columns}
    assert columns["status"].default == UNREAD and columns["status"].type == "status"
    found = compare(locked, snapshot(target))
    assert [(d.kind, d.name, d.status) for d in found.differences] == [
        ("index", "public.accounts_created", "only_in_target")
    ]
    assert found.skipped_source == locked.skipped


def test_a_lock_taken_after_the_check_is_read_around_relation_by_relation(new_db):
    """The batch read times out on the lock; each relation is then read alone and only the locked one is noted."""
    database = build(new_db)
    with closing(pg.connect(database)) as conn:
        reader = CatalogReader(conn, FAST, "the test database")
        oids = dict(
            conn.execute(
                "SELECT relname, oid FROM pg_class WHERE relname IN ('accounts', 'invoices')"
            ).fetchall()
        )
        with holding(database, "accounts"):
            texts = reader.definitions(catalog.INDEXDEFS_SQL, sorted(oids.values()), str, "index definitions")
        rows = conn.execute(
            "SELECT indexrelid, indrelid FROM pg_index WHERE indrelid = ANY(%s)", [list(oids.values())]
        )
        owners = dict(rows.fetchall())
    assert {owners[index] for index in texts} == {oids["invoices"]}  # the unlocked table's were read
    assert all(text.startswith("CREATE ") for text in texts.values())
    assert [(s.what, s.reason) for s in reader.skipped] == [
        (
            str(oids["accounts"]),
            "index definitions not read: a lock wait timed out (someone holds a lock on it)",
        )
    ]


def test_a_view_over_a_locked_table_is_noted(new_db):
    """pg_get_viewdef locks the tables a view reads: a view over a locked table is noted, not waited for."""
    database = build(new_db)
    with holding(database, "billing.invoices") as pid, closing(pg.connect(database)) as conn:
        locked = take(conn, limits=FAST)
    views = {v.name: v.definition for v in locked.views}
    assert views["billing.totals"] == UNREAD
    assert "accounts" in views["public.active_accounts"]
    assert (
        "billing.totals",
        f"view definition not read: it reads billing.invoices, and pid {pid} holds ACCESS EXCLUSIVE on it",
    ) in [(s.what, s.reason) for s in locked.skipped]


def test_what_was_not_read_is_shown_in_the_text_and_the_json(new_db):
    """runner drift's output lists what it left out, per side, with the session that held it."""
    from runner.drift.command import drift
    from runner.drift.render import drift_text
    from runner.target import DatabaseTarget

    source = build(new_db)
    target = new_db(source)
    with holding(source, "accounts") as pid:
        started = time.monotonic()
        result = drift(DatabaseTarget.parse(pg.url_for(source)), DatabaseTarget.parse(pg.url_for(target)))
    assert time.monotonic() - started < 1  # nothing waited for the lock: it was seen before any read
    assert result.exit_code == 0  # no difference in what could be read; what could not is listed
    lines = drift_text(result)
    held = f"pid {pid} holds ACCESS EXCLUSIVE on it"
    assert lines[lines.index("Not compared (could not be read):") + 1 :] == [
        f"  source public.accounts: column defaults not read: {held}",
        f"  source public.accounts: index definitions not read: {held}",
        f"  source public.accounts: constraint definitions not read: {held}",
        f"  source public.active_accounts: view definition not read: it reads public.accounts, and {held}",
        f"  source public.accounts: trigger definitions not read: {held}",
    ]
    assert {s["what"] for s in result.as_json()["skipped"]["source"]} == {
        "public.accounts",
        "public.active_accounts",
    }


def test_a_catalog_that_cannot_be_read_at_all_is_unreachable_not_a_crash(new_db):
    """A lost session: one sentence and exit 6 (CatalogUnreadable is an Unreachable), never a traceback."""
    database = new_db()
    conn = pg.connect(database)
    conn.close()
    with pytest.raises(CatalogUnreadable) as failed:
        take(conn, where="the lost database")
    assert failed.value.message == (
        "The catalog of the lost database could not be read: the connection is closed. Nothing was compared."
    )
    assert int(failed.value.exit_code) == 6
