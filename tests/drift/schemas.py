"""Schemas with what real databases contain, built in test databases, and snapshots of them."""

from __future__ import annotations

from contextlib import closing

from runner.drift.objects import SchemaSnapshot
from runner.drift.snapshot import take
from tests import pg

# Expression and partial indexes, an identity and a generated column, a collation, an enum, a domain,
# a second schema, a NOT VALID foreign key, an exclusion constraint, a view and a materialized view,
# a trigger and its function, a procedure, an aggregate, a partitioned table, an unlogged table, and
# extensions (whose own functions and types are theirs, not the application's).
RICH_SCHEMA = """
CREATE EXTENSION citext;
CREATE EXTENSION pg_trgm;
CREATE SCHEMA billing;
CREATE TYPE status AS ENUM ('draft', 'active', 'closed');
CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email citext NOT NULL,
    name varchar(100) COLLATE "C",
    status status NOT NULL DEFAULT 'draft',
    score positive_int,
    email_lower text GENERATED ALWAYS AS (lower(email::text)) STORED,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX accounts_email_lower ON accounts (lower(email::text));
CREATE INDEX accounts_active ON accounts (created_at) WHERE status = 'active';
CREATE INDEX accounts_name_trgm ON accounts USING gin (name gin_trgm_ops);
CREATE TABLE billing.invoices (
    id serial PRIMARY KEY,
    account_id bigint NOT NULL,
    amount numeric(12, 2) NOT NULL DEFAULT 0,
    period tstzrange,
    CONSTRAINT invoices_amount_positive CHECK (amount >= 0),
    CONSTRAINT invoices_no_overlap EXCLUDE USING gist (period WITH &&)
);
ALTER TABLE billing.invoices ADD CONSTRAINT invoices_account_fk
    FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID;
CREATE VIEW active_accounts AS SELECT id, email FROM accounts WHERE status = 'active';
CREATE MATERIALIZED VIEW billing.totals AS
    SELECT account_id, sum(amount) AS total FROM billing.invoices GROUP BY account_id;
CREATE INDEX totals_account ON billing.totals (account_id);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.created_at := now(); RETURN NEW; END $$;
CREATE TRIGGER accounts_touch BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION touch();
CREATE PROCEDURE billing.close_period(p_end date) LANGUAGE sql AS $$ SELECT 1 $$;
CREATE AGGREGATE billing.concat_all(text) (SFUNC = textcat, STYPE = text, INITCOND = '');
CREATE SEQUENCE billing.invoice_numbers START 1000 INCREMENT 5;
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, payload jsonb) PARTITION BY RANGE (at);
CREATE TABLE events_2026_01 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE INDEX events_at ON events (at);
ALTER TABLE events ADD CONSTRAINT events_payload_object CHECK (jsonb_typeof(payload) = 'object');
CREATE UNLOGGED TABLE scratch (k text);
"""


def build(new_db, ddl: str = RICH_SCHEMA, template: str | None = None) -> str:
    database = new_db(template)
    run(database, ddl)
    return database


def run(database: str, sql: str) -> None:
    with closing(pg.connect(database)) as conn:
        conn.execute(sql)


def snapshot(database: str) -> SchemaSnapshot:
    with closing(pg.connect(database)) as conn:
        return take(conn)
