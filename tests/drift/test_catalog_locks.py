"""A locked table never hangs a snapshot: what can't be read is noted, the rest is compared."""

from __future__ import annotations

import time
from contextlib import closing, contextmanager

from runner.drift import catalog
from runner.drift.catalog import CatalogLimits, CatalogReader
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
    """pg_get_viewdef locks the tables a view reads: the view's definition is noted as unread, nothing hangs."""
    database = build(new_db)
    with holding(database, "billing.invoices"), closing(pg.connect(database)) as conn:
        locked = take(conn, limits=FAST)
    views = {v.name: v.definition for v in locked.views}
    assert views["billing.totals"] == UNREAD
    assert "accounts" in views["public.active_accounts"]
    assert (
        "billing.totals",
        "view definition not read: a lock wait timed out (someone holds a lock on it)",
    ) in [(s.what, s.reason) for s in locked.skipped]
