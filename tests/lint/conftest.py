"""A sized database for the lint rules, built once per session and filled server-side.

``events`` is partitioned by range on ``created_on`` into ``events_2025`` and
``events_2026`` (100,000 rows); ``events_2027`` (100,000 rows, no CHECK) and
``events_2028`` (50,000 rows, a validated CHECK matching its bound) are tables
ready to attach; ``accounts``
has 100,000 rows, a trigger and a foreign key to ``orgs``. Tests that only read
its statistics share ``sized_stats``; tests that change it clone the database.
"""

from __future__ import annotations

import secrets
import textwrap
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from runner.lint import Stats, analyse, read_stats
from runner.lint.names import TableRef
from runner.lint.size import Origin, Size
from runner.planning.project import AlembicProject
from tests import pg
from tests.lint.projects import make_project

SIZED_SCHEMA = """
CREATE TYPE account_status AS ENUM ('active', 'closed');
CREATE TABLE orgs (id bigint PRIMARY KEY, name text NOT NULL);
INSERT INTO orgs SELECT g, 'org ' || g FROM generate_series(1, 1000) g;

CREATE TABLE accounts (
    id bigint PRIMARY KEY, org_id bigint NOT NULL, email text NOT NULL,
    status account_status NOT NULL DEFAULT 'active', note text
);
INSERT INTO accounts
SELECT g, 1 + g % 1000, 'user' || g || '@example.com', 'active', repeat('n', 200)
  FROM generate_series(1, 100000) g;
CREATE INDEX ix_accounts_org_id ON accounts (org_id);
ALTER TABLE accounts ADD CONSTRAINT accounts_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (id);
CREATE FUNCTION touch_note() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN NEW.note := coalesce(NEW.note, ''); RETURN NEW; END $$;
CREATE TRIGGER accounts_touch BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION touch_note();
CREATE VIEW active_accounts AS SELECT id, email FROM accounts WHERE status = 'active';
CREATE SEQUENCE invoice_numbers;

CREATE TABLE events (
    id bigint NOT NULL, created_on date NOT NULL, org_id bigint NOT NULL, payload text NOT NULL
) PARTITION BY RANGE (created_on);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO events
SELECT g, date '2025-01-01' + (g % 730), 1 + g % 1000, repeat(md5(g::text), 4)
  FROM generate_series(1, 100000) g;

CREATE TABLE events_2027 (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
INSERT INTO events_2027
SELECT g, date '2027-01-01' + (g % 365), 1 + g % 1000, repeat(md5(g::text), 4)
  FROM generate_series(100001, 200000) g;
CREATE TABLE events_2028 (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
INSERT INTO events_2028
SELECT g, date '2028-01-01' + (g % 365), 1 + g % 1000, repeat(md5(g::text), 4)
  FROM generate_series(200001, 250000) g;
ALTER TABLE events_2028 ADD CONSTRAINT events_2028_bound
    CHECK (created_on >= '2028-01-01' AND created_on < '2029-01-01');
"""


@pytest.fixture(scope="session")
def sized_db() -> Iterator[str]:
    """The sized database (a template: tests that change it use ``sized_clone``)."""
    name = pg.create_database(name=f"{pg.PREFIX}sized_{secrets.token_hex(4)}")
    with closing(pg.connect(name)) as conn:
        conn.execute(SIZED_SCHEMA)
        conn.execute("VACUUM ANALYZE")
    yield name
    pg.drop_database(name)


@pytest.fixture(scope="session")
def sized_stats(sized_db: str) -> Stats:
    with closing(pg.connect(sized_db)) as conn:
        return read_stats(conn)


@pytest.fixture
def sized_clone(sized_db: str, new_db: Callable[..., str]) -> str:
    """A copy of the sized database this test may change."""
    return new_db(sized_db)


def stats_of(database: str) -> Stats:
    with closing(pg.connect(database)) as conn:
        return read_stats(conn)


def recipe(help_text: str) -> str:
    """The code of a finding's help (its indented lines), as the body of upgrade()."""
    lines = [line for line in help_text.splitlines() if line.startswith("    ") or not line.strip()]
    return textwrap.dedent("\n".join(lines))


def run_recipe(tmp_path: Path, database: str, body: str) -> None:
    """Paste ``body`` into a revision and apply it with plain Alembic: the help really runs."""
    ini = make_project(tmp_path, [("r1", "pass", "pass"), ("r2", body, "pass")])
    pg.alembic_upgrade(str(ini), database, "heads")


def described(stats: Stats, name: str) -> str:
    """How a finding describes a table of the sized database ('events has about 100,000 rows, ...')."""
    return Size(TableRef(name), Origin.MEASURED, stats.find(TableRef(name))).describe()


def scans(database: str, sql: str, table: str) -> int:
    """Sequential scans of ``table`` that ``sql`` makes, read from pg_stat_xact_user_tables (rolled back)."""
    query = "SELECT coalesce(sum(seq_scan), 0) FROM pg_stat_xact_user_tables WHERE relname = %s"
    with closing(pg.connect(database)) as conn:
        conn.autocommit = False
        before = conn.execute(query, [table]).fetchone()[0]
        conn.execute(sql)
        after = conn.execute(query, [table]).fetchone()[0]
        conn.rollback()
    return int(after - before)


def lint_revision(tmp_path: Path, body: str, stats: Stats | None):
    """Lint ``body`` as revision r2 of a real Alembic project, rendered offline as apply would run it."""
    project = AlembicProject.load(
        make_project(tmp_path / "lint", [("r1", "pass", "pass"), ("r2", body, "pass")])
    )
    return analyse(project, project.pending(("r1",)), stats=stats)
