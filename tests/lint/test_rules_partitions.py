"""Partitioned tables (LK112-LK117), sized by a real partitioned table of 100,000 rows in two partitions.

Each rule's claims about PostgreSQL 15 are checked on the server too: what it refuses, what it scans
(``pg_stat_xact_user_tables``), and that the safe recipe in the help runs as pasted.
"""

from __future__ import annotations

from contextlib import closing

import psycopg
import pytest

from runner.lint import Severity, analyse_steps
from tests import pg
from tests.lint.conftest import described, lint_revision, recipe, run_recipe, scans, stats_of
from tests.lint.helpers import lint, none, only, step

INDEX = "CREATE INDEX ix_events_org_id ON events (org_id)"
FK = "ALTER TABLE events ADD CONSTRAINT events_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (id)"
ATTACH_2027 = (
    "ALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')"
)
ATTACH_2028 = (
    "ALTER TABLE events ATTACH PARTITION events_2028 FOR VALUES FROM ('2028-01-01') TO ('2029-01-01')"
)
PARTITIONED = "CREATE TABLE events (id bigint NOT NULL, created_on date NOT NULL, org_id bigint) PARTITION BY RANGE (created_on)"


def refused(database: str, sql: str) -> str:
    """PostgreSQL's error for ``sql`` (run in a transaction that is rolled back)."""
    with closing(pg.connect(database)) as conn, pytest.raises(psycopg.Error) as caught:
        conn.execute(sql)
    return str(caught.value).splitlines()[0]


def test_lk112_bad_index_on_a_partitioned_table_builds_on_every_partition(sized_stats) -> None:
    """CREATE INDEX on the parent: SHARE on it and both partitions, sized by all 100,000 rows; not LK101."""
    report = lint(INDEX, stats=sized_stats)
    finding = only(report, "LK112")
    assert none(report, "LK101")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "CREATE INDEX ix_events_org_id on events builds the index on every partition in one statement: it takes a "
        "SHARE lock on events and on its 2 partitions (events_2025 and events_2026), which blocks every INSERT, "
        f"UPDATE and DELETE on all of them, until the step commits: about {finding.estimated_lock_ms}ms here "
        f"({described(sized_stats, 'events')}). CREATE INDEX CONCURRENTLY is refused on a partitioned table."
    )
    assert sized_stats.tables["public.events"].rows == 100_000
    assert finding.help == (
        "Create the index ON ONLY the partitioned table, build it concurrently on each partition, and attach each "
        "build; reads and writes go on throughout:\n"
        '    op.execute("CREATE INDEX ix_events_org_id ON ONLY events (org_id)")  # the partitioned table\'s index: '
        "catalog only, INVALID until every partition has one\n"
        "    with op.get_context().autocommit_block():\n"
        '        for partition in ["events_2025", "events_2026"]:\n'
        '            op.create_index(f"ix_events_org_id_{partition}", partition, ["org_id"], '
        "postgresql_concurrently=True)\n"
        '    for partition in ["events_2025", "events_2026"]:\n'
        '        op.execute(f"ALTER INDEX ix_events_org_id ATTACH PARTITION ix_events_org_id_{partition}")'
    )


def test_lk112_bad_concurrently_is_refused_on_a_partitioned_table(sized_db, sized_stats) -> None:
    """CONCURRENTLY on the parent fails every time (PostgreSQL 15 says so), whatever the size: warn."""
    sql = "CREATE INDEX CONCURRENTLY ix_events_org_id ON events (org_id)"
    finding = only(lint(f"COMMIT;\n\n{sql};\n\nBEGIN;", stats=sized_stats), "LK112")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "CREATE INDEX CONCURRENTLY ix_events_org_id on events is refused: PostgreSQL can't build an index "
        'concurrently on a partitioned table (cannot create index on partitioned table "events" concurrently), '
        "so the step fails every time."
    )
    assert refused(sized_db, sql) == 'cannot create index on partitioned table "events" concurrently'


def test_lk112_good_the_recipe_lints_clean_and_leaves_a_valid_index(
    tmp_path, sized_clone, sized_stats
) -> None:
    """The help pasted into a revision: no LK112/LK101 on it, and on the server the parent's index is valid."""
    body = recipe(only(lint(INDEX, stats=sized_stats), "LK112").help)
    report = lint_revision(tmp_path, body, sized_stats)
    assert not [f.code for f in report.findings if f.code in ("LK112", "LK101", "TX101")]
    run_recipe(tmp_path, sized_clone, body)
    with closing(pg.connect(sized_clone)) as conn:
        rows = conn.execute(
            "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname LIKE 'ix_events_org_id%' ORDER BY 1"
        ).fetchall()
    assert rows == [
        ("ix_events_org_id", True),
        ("ix_events_org_id_events_2025", True),
        ("ix_events_org_id_events_2026", True),
    ]


def test_lk112_table_partitioned_earlier_in_the_run_is_known_without_a_database() -> None:
    """No database: a table an earlier step creates PARTITION BY is partitioned, empty, and noted only."""
    report = lint(INDEX, earlier=[PARTITIONED])
    finding = only(report, "LK112")
    assert finding.severity is Severity.INFO
    assert none(report, "LK101")
    assert '        for partition in ["..."]  # every partition of events:' in finding.help


def test_lk113_bad_foreign_key_on_a_partitioned_table_checks_every_partition(sized_db, sized_stats) -> None:
    """ADD FOREIGN KEY on the parent: SHARE ROW EXCLUSIVE on it, its partitions and orgs while it scans each."""
    assert scans(sized_db, FK, "events_2025") == 1 and scans(sized_db, FK, "events_2026") == 1
    finding = only(lint(FK, stats=sized_stats), "LK113")
    assert none(lint(FK, stats=sized_stats), "LK103")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "ADD CONSTRAINT events_org_id_fkey FOREIGN KEY on events checks every row of its 2 partitions (events_2025 "
        "and events_2026) against orgs while holding SHARE ROW EXCLUSIVE locks on events, each partition and orgs, "
        f"which block every INSERT, UPDATE and DELETE on them until the step commits: about "
        f"{finding.estimated_lock_ms}ms here ({described(sized_stats, 'events')}). NOT VALID is refused on a "
        "partitioned table on PostgreSQL 15 here."
    )


def test_lk113_bad_not_valid_is_refused_before_postgresql_18(sized_db, sized_stats) -> None:
    """NOT VALID on a partitioned table fails on PostgreSQL 15; the finding names the release it needs."""
    finding = only(lint(f"{FK} NOT VALID", stats=sized_stats), "LK113")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "ADD CONSTRAINT events_org_id_fkey FOREIGN KEY ... NOT VALID on events is refused on PostgreSQL 15 here: "
        "a NOT VALID foreign key on a partitioned table needs PostgreSQL 18 (cannot add NOT VALID foreign key on "
        'partitioned table "events"), so the step fails every time.'
    )
    assert refused(sized_db, f"{FK} NOT VALID").startswith(
        'cannot add NOT VALID foreign key on partitioned table "events"'
    )


def test_lk113_good_the_recipe_adopts_validated_partition_keys_without_a_scan(
    tmp_path, sized_clone, sized_stats
) -> None:
    """Per-partition NOT VALID + VALIDATE, then the parent's key: linted clean, and on the server no scan."""
    body = recipe(only(lint(FK, stats=sized_stats), "LK113").help)
    assert not [
        f for f in lint_revision(tmp_path, body, sized_stats).findings if f.code in ("LK113", "LK103")
    ]
    partitions_only = body.split("# in the revision after")[0]
    run_recipe(tmp_path, sized_clone, partitions_only)
    assert scans(sized_clone, FK, "events_2025") == 0  # adopted, not checked again
    with closing(pg.connect(sized_clone)) as conn:
        conn.execute(FK)
        adopted = conn.execute(
            "SELECT conrelid::regclass::text, conparentid <> 0 FROM pg_constraint "
            "WHERE conname = 'events_org_id_fkey' ORDER BY 1"
        ).fetchall()
    assert adopted == [("events", False), ("events_2025", True), ("events_2026", True)]


def test_lk113_good_not_valid_is_fine_on_postgresql_18(sized_stats) -> None:
    """Judged for PostgreSQL 18, NOT VALID on a partitioned table is catalog only: no LK113."""
    report = analyse_steps([step(f"{FK} NOT VALID")], stats=sized_stats, server_version_num=180000)
    assert not [f for f in report.findings if f.code == "LK113"]
    assert report.server_version.major == "PostgreSQL 18"


def test_lk114_bad_attach_scans_a_partition_without_a_check(sized_db, sized_stats) -> None:
    """ATTACH of 100,000 rows with no CHECK on created_on: a scan under ACCESS EXCLUSIVE (the server agrees)."""
    finding = only(lint(ATTACH_2027, stats=sized_stats), "LK114")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "ATTACH PARTITION events_2027 to events scans every row of events_2027 to check it fits the partition bound "
        "(no validated CHECK constraint on created_on proves it), holding an ACCESS EXCLUSIVE lock on events_2027 "
        f"that blocks every query on it, until the step commits: about {finding.estimated_lock_ms}ms here "
        f"({described(sized_stats, 'events_2027')})."
    )
    assert finding.help.splitlines()[1] == (
        '    op.create_check_constraint("events_2027_bound", "events_2027", "created_on IS NOT NULL AND created_on '
        ">= '2027-01-01' AND created_on < '2028-01-01'\", postgresql_not_valid=True)"
    )
    assert scans(sized_db, ATTACH_2027, "events_2027") == 1


def test_lk114_good_a_validated_check_spares_the_scan(sized_db, sized_stats) -> None:
    """events_2028 has a validated CHECK matching its bound: no finding, and the server does not scan it."""
    assert none(lint(ATTACH_2028, stats=sized_stats), "LK114")
    assert scans(sized_db, ATTACH_2028, "events_2028") == 0


def test_lk114_good_the_recipe_runs_and_attaches(tmp_path, sized_clone, sized_stats) -> None:
    """The help's CHECK, VALIDATE, ATTACH and DROP CONSTRAINT, pasted into one revision, attach events_2027."""
    body = recipe(only(lint(ATTACH_2027, stats=sized_stats), "LK114").help)
    run_recipe(tmp_path, sized_clone, body)
    with closing(pg.connect(sized_clone)) as conn:
        row = conn.execute("SELECT relispartition FROM pg_class WHERE relname = 'events_2027'").fetchone()
    assert row == (True,)


def test_lk114_bad_the_default_partition_is_scanned_too(sized_clone) -> None:
    """With a DEFAULT partition holding rows, even a proven ATTACH scans the default partition."""
    with closing(pg.connect(sized_clone)) as conn:
        conn.execute("CREATE TABLE events_other PARTITION OF events DEFAULT")
        conn.execute(
            "INSERT INTO events_other SELECT g, date '2031-01-01', 1, 'x' FROM generate_series(1, 20000) g"
        )
        conn.execute("ANALYZE events_other")
    stats = stats_of(sized_clone)
    finding = only(lint(ATTACH_2028, stats=stats), "LK114")
    assert finding.message.startswith(
        "ATTACH PARTITION events_2028 to events scans the default partition events_other for rows that belong to "
        "events_2028, holding an ACCESS EXCLUSIVE lock on events_other that blocks every query on it, until the "
        "step commits:"
    )
    assert scans(sized_clone, ATTACH_2028, "events_other") == 1


def test_lk115_bad_detach_locks_the_whole_partitioned_table(sized_stats) -> None:
    """DETACH without CONCURRENTLY: ACCESS EXCLUSIVE on events: warn, with the concurrent recipe."""
    finding = only(lint("ALTER TABLE events DETACH PARTITION events_2025", stats=sized_stats), "LK115")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "DETACH PARTITION events_2025 from events takes ACCESS EXCLUSIVE locks on events and events_2025, which "
        "blocks every query on events and all of its partitions (reads included) until the step commits: about "
        f"2ms here ({described(sized_stats, 'events')}). While it waits for queries already running there, every "
        "new query on events queues behind it."
    )
    assert finding.help == (
        "Detach it concurrently, outside the step's transaction; reads and writes go on:\n"
        "    with op.get_context().autocommit_block():\n"
        '        op.execute("ALTER TABLE events DETACH PARTITION events_2025 CONCURRENTLY")\n'
        '    # if it is interrupted: op.execute("ALTER TABLE events DETACH PARTITION events_2025 FINALIZE")'
    )


def test_lk115_good_detach_concurrently_in_an_autocommit_block(tmp_path, sized_clone, sized_stats) -> None:
    """The recipe: no LK115, no TX101, the concurrent-build profile, and it detaches on the server."""
    finding = only(lint("ALTER TABLE events DETACH PARTITION events_2025", stats=sized_stats), "LK115")
    body = recipe(finding.help)
    report = lint_revision(tmp_path, body, sized_stats)
    assert not [f for f in report.findings if f.code in ("LK115", "TX101")]
    assert (
        report.step("r2").profile == "concurrent-build"
    )  # it waits for older transactions under lock_timeout
    run_recipe(tmp_path, sized_clone, body)
    with closing(pg.connect(sized_clone)) as conn:
        assert conn.execute(
            "SELECT relispartition FROM pg_class WHERE relname = 'events_2025'"
        ).fetchone() == (False,)


def test_lk115_bad_concurrently_is_refused_with_a_default_partition(sized_clone) -> None:
    with closing(pg.connect(sized_clone)) as conn:
        conn.execute("CREATE TABLE events_other PARTITION OF events DEFAULT")
    sql = "ALTER TABLE events DETACH PARTITION events_2025 CONCURRENTLY"
    finding = only(lint(f"COMMIT;\n\n{sql};\n\nBEGIN;", stats=stats_of(sized_clone)), "LK115")
    assert finding.message == (
        "DETACH PARTITION events_2025 CONCURRENTLY from events is refused while events has a default partition "
        "(events_other): cannot detach partitions concurrently when a default partition exists, so the step fails "
        "every time."
    )
    assert (
        refused(sized_clone, sql) == "cannot detach partitions concurrently when a default partition exists"
    )


def test_lk116_bad_create_partition_of_locks_the_parent(sized_stats) -> None:
    """CREATE TABLE ... PARTITION OF takes ACCESS EXCLUSIVE on events (100,000 rows): warn, attach instead."""
    sql = "CREATE TABLE events_2029 PARTITION OF events FOR VALUES FROM ('2029-01-01') TO ('2030-01-01')"
    finding = only(lint(sql, stats=sized_stats), "LK116")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "CREATE TABLE events_2029 PARTITION OF events takes an ACCESS EXCLUSIVE lock on events, which blocks every "
        "query on events and all of its partitions (reads included), until the step commits: about 2ms here "
        f"({described(sized_stats, 'events')})."
    )
    assert finding.help == (
        "Create the table on its own and attach it: ATTACH takes only SHARE UPDATE EXCLUSIVE on events and has no "
        "rows to scan in a new table:\n"
        '    op.execute("CREATE TABLE events_2029 (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")\n'
        "    op.execute(\"ALTER TABLE events ATTACH PARTITION events_2029 FOR VALUES FROM ('2029-01-01') TO "
        "('2030-01-01')\")"
    )


def test_lk116_good_create_then_attach(tmp_path, sized_clone, sized_stats) -> None:
    """The recipe lints clean (the new table is empty) and creates the partition on the server."""
    sql = "CREATE TABLE events_2029 PARTITION OF events FOR VALUES FROM ('2029-01-01') TO ('2030-01-01')"
    body = recipe(only(lint(sql, stats=sized_stats), "LK116").help)
    report = lint_revision(tmp_path, body, sized_stats)
    assert not [f for f in report.findings if f.code in ("LK114", "LK116", "LK109")]
    run_recipe(tmp_path, sized_clone, body)
    with closing(pg.connect(sized_clone)) as conn:
        assert conn.execute(
            "SELECT relispartition FROM pg_class WHERE relname = 'events_2029'"
        ).fetchone() == (True,)


def test_lk116_good_partitions_of_a_table_created_by_the_run() -> None:
    sql = "CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')"
    assert none(lint(sql, earlier=[PARTITIONED]), "LK116")


def test_lk117_bad_primary_key_without_the_partition_key(sized_db, sized_stats) -> None:
    """PRIMARY KEY (id) on a table partitioned by created_on: refused by the server, every time."""
    sql = "ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id)"
    report = lint(sql, stats=sized_stats)
    finding = only(report, "LK117")
    assert none(report, "LK112") and none(report, "LK106")
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "ADD CONSTRAINT events_pkey PRIMARY KEY on events leaves out the partition key column created_on: "
        "PostgreSQL refuses a unique index or constraint on a partitioned table unless it includes every partition "
        "key column (unique constraint on partitioned table must include all partitioning columns), so the step "
        "fails every time."
    )
    assert (
        '            op.create_index(f"events_pkey_{partition}", partition, ["id", "created_on"], unique=True'
        in (finding.help)
    )
    assert (
        refused(sized_db, sql)
        == "unique constraint on partitioned table must include all partitioning columns"
    )


def test_lk117_good_unique_index_with_the_partition_key(sized_stats) -> None:
    """Including created_on makes it acceptable (and LK112 then says how to build it)."""
    report = lint("CREATE UNIQUE INDEX ux_events_id ON events (id, created_on)", stats=sized_stats)
    assert none(report, "LK117")
    assert only(report, "LK112").severity is Severity.WARN


def test_lk101_on_only_a_plain_table_still_builds(sized_stats) -> None:
    """ON ONLY skips the recursion of a partitioned table; on a plain table it is an ordinary build (LK101)."""
    report = lint("CREATE INDEX ix_accounts_email ON ONLY accounts (email)", stats=sized_stats)
    assert only(report, "LK101").severity is Severity.WARN
    assert none(lint("CREATE INDEX ix_events_org_id ON ONLY events (org_id)", stats=sized_stats), "LK101")
