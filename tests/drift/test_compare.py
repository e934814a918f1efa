"""Two real schemas compared: each difference once, in the object it belongs to, with SQL where simple."""

from __future__ import annotations

from runner.drift.compare import compare
from runner.drift.differences import CHANGED, ONLY_IN_SOURCE, ONLY_IN_TARGET, RENAMED
from tests.drift.schemas import build, run, snapshot

# Applied to the target only: one change of each kind the comparison must name.
TARGET_CHANGES = """
DROP INDEX accounts_email_lower;
CREATE UNIQUE INDEX accounts_email_lower ON accounts (lower(name::text));
DROP INDEX accounts_active;
CREATE INDEX accounts_active ON accounts (created_at) WHERE status = 'closed';
ALTER TYPE status ADD VALUE 'archived';
ALTER TABLE billing.invoices VALIDATE CONSTRAINT invoices_account_fk;
CREATE OR REPLACE VIEW active_accounts AS SELECT id, email FROM accounts WHERE status <> 'closed';
DROP TRIGGER accounts_touch ON accounts;
CREATE TRIGGER accounts_touch BEFORE INSERT OR UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TABLE billing.refunds (id bigint PRIMARY KEY, invoice_id integer NOT NULL, reason text);
CREATE INDEX refunds_invoice ON billing.refunds (invoice_id);
ALTER TABLE billing.invoices ALTER COLUMN amount SET DEFAULT 1;
ALTER INDEX billing.totals_account RENAME TO totals_by_account;
CREATE TYPE priority AS ENUM ('high', 'low');
"""
SOURCE_CHANGES = """
ALTER TABLE accounts ADD COLUMN legacy_code text;
CREATE TYPE priority AS ENUM ('low', 'high');
"""


def _pair(new_db):
    source, target = build(new_db), build(new_db)
    run(source, SOURCE_CHANGES)
    run(target, TARGET_CHANGES)
    return source, target


def test_clones_of_a_rich_schema_compare_equal(new_db):
    """Expression, partial, GIN and exclusion indexes, partitions, domains, extensions: read, and no difference."""
    first = build(new_db)
    second = new_db(first)
    a, b = snapshot(first), snapshot(second)
    assert a == b and compare(a, b).same and a.skipped == ()
    assert {i.name: i.columns_plain for i in a.indexes}["public.accounts_email_lower"] is None
    assert [r.name for r in a.routines] == [
        "billing.close_period(IN p_end date)",
        "billing.concat_all(text)",
        "public.touch()",
    ]
    assert "citext" in {e.name for e in a.extensions}
    assert not any("trgm" in r.name or "citext" in r.name for r in a.routines)  # the extensions' own
    partition = {t.name: t for t in a.tables}["public.events_2026_01"]
    assert (partition.partition_of, partition.partition_bound, partition.columns) == (
        "public.events",
        "FOR VALUES FROM ('2026-01-01') TO ('2026-02-01')",
        (),
    )


def test_each_difference_is_reported_once_and_correctly(new_db):
    """Expression and partial indexes, enum order and values, NOT VALID, a view, a trigger, a second schema."""
    source, target = _pair(new_db)
    found = compare(snapshot(source), snapshot(target)).differences
    assert [(d.kind, d.name, d.status) for d in found] == [
        ("table", "billing.refunds", ONLY_IN_TARGET),
        ("column", "billing.invoices.amount", CHANGED),
        ("column", "public.accounts.legacy_code", ONLY_IN_SOURCE),
        ("view", "public.active_accounts", CHANGED),
        ("index", "billing.totals_account", RENAMED),
        ("index", "public.accounts_active", CHANGED),
        ("index", "public.accounts_email_lower", CHANGED),
        ("constraint", "billing.invoices.invoices_account_fk", CHANGED),
        ("trigger", "public.accounts.accounts_touch", CHANGED),
        ("enum", "public.priority", CHANGED),
        ("enum", "public.status", CHANGED),
    ]
    described = [d.describe("source", "target") for d in found]
    assert described[0] == (
        "table billing.refunds is only in the target database (with 3 columns, 1 index, 1 constraint)"
    )
    assert described[1] == "column billing.invoices.amount: default is '0' in the source, '1' in the target"
    assert described[4] == (
        "index billing.totals_account in the source is billing.totals_by_account in the target (same definition)"
    )
    assert described[5] == (
        'index public.accounts_active: definition is "CREATE INDEX accounts_active ON public.accounts USING btree '
        "(created_at) WHERE (status = 'active'::status)\" in the source, \"CREATE INDEX accounts_active ON "
        "public.accounts USING btree (created_at) WHERE (status = 'closed'::status)\" in the target"
    )
    assert described[7] == (
        "constraint billing.invoices.invoices_account_fk: validated is False in the source, True in the target"
    )
    assert described[9] == (
        "enum public.priority: values is ('low', 'high') in the source, ('high', 'low') in the target"
    )


def test_reconcile_sql_makes_the_simple_differences_go_away(new_db):
    """The suggested SQL, run on the source, leaves only what has no simple SQL (a new table, an enum's order)."""
    source, target = _pair(new_db)
    found = compare(snapshot(source), snapshot(target)).differences
    sql = {d.name: d.sql for d in found}
    assert sql["public.status"] == "ALTER TYPE public.status ADD VALUE 'archived' AFTER 'closed';"
    assert sql["billing.invoices.amount"] == "ALTER TABLE billing.invoices ALTER COLUMN amount SET DEFAULT 1;"
    assert sql["billing.invoices.invoices_account_fk"] == (
        "ALTER TABLE billing.invoices VALIDATE CONSTRAINT invoices_account_fk;"
    )
    assert sql["billing.totals_account"] == "ALTER INDEX billing.totals_account RENAME TO totals_by_account;"
    assert sql["public.accounts.legacy_code"] == "ALTER TABLE public.accounts DROP COLUMN legacy_code;"
    assert sql["billing.refunds"] is None and sql["public.priority"] is None
    run(source, "\n".join(s for s in sql.values() if s))
    left = compare(snapshot(source), snapshot(target)).differences
    assert [(d.kind, d.name) for d in left] == [("table", "billing.refunds"), ("enum", "public.priority")]


def test_a_schema_only_on_one_side_is_one_difference(new_db):
    """A second schema with tables, views and types in it: one difference that counts what it holds."""
    source = build(new_db)
    target = new_db(source)
    run(
        target,
        "CREATE SCHEMA audit; CREATE TABLE audit.entries (id int PRIMARY KEY, at timestamptz);"
        "CREATE VIEW audit.recent AS SELECT * FROM audit.entries; CREATE TYPE audit.level AS ENUM ('a');",
    )
    found = compare(snapshot(source), snapshot(target)).differences
    assert [d.describe("source", "target") for d in found] == [
        "schema audit is only in the target database (with 1 table, 1 view, 2 columns, 1 constraint, 1 enum)"
    ]
    assert found[0].sql == "CREATE SCHEMA audit;"


def test_columns_of_every_kind_are_compared(new_db):
    """Type, nullability, identity, generation and collation each name the attribute that differs."""
    source = build(new_db)
    target = new_db(source)
    run(
        target,
        "ALTER TABLE accounts ALTER COLUMN id SET GENERATED BY DEFAULT;"
        'ALTER TABLE accounts ALTER COLUMN name TYPE varchar(100) COLLATE "POSIX";'
        "ALTER TABLE accounts ALTER COLUMN email DROP NOT NULL;"
        "ALTER TABLE scratch ADD COLUMN n int GENERATED ALWAYS AS (length(k)) STORED;",
    )
    found = compare(snapshot(source), snapshot(target)).differences
    assert [d.describe("source", "target") for d in found] == [
        "column public.accounts.email: not_null is True in the source, False in the target",
        "column public.accounts.id: identity is 'a' in the source, 'd' in the target",
        "column public.accounts.name: collation is '\"C\"' in the source, '\"POSIX\"' in the target",
        "column public.scratch.n is only in the target database",
    ]
    assert [d.sql for d in found] == [
        "ALTER TABLE public.accounts ALTER COLUMN email DROP NOT NULL;",
        None,
        None,
        "ALTER TABLE public.scratch ADD COLUMN n integer GENERATED ALWAYS AS (length(k)) STORED;",
    ]


WEIRD = """
CREATE SCHEMA "Sales Dept";
CREATE TABLE "Sales Dept"."My.Table" ("Select" int PRIMARY KEY, "Name" text);
CREATE TABLE parent_rows (id int, note text);
CREATE TABLE child_rows (extra int) INHERITS (parent_rows);
CREATE TYPE pair AS (a int, b int);
CREATE TABLE pairs (p pair, ps pair[], tags text[] DEFAULT '{}');
CREATE VIEW "Sales Dept".v AS SELECT "Select" FROM "Sales Dept"."My.Table";
CREATE FUNCTION "Sales Dept".v_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER v_instead INSTEAD OF INSERT ON "Sales Dept".v FOR EACH ROW EXECUTE FUNCTION "Sales Dept".v_insert();
"""
WEIRD_TARGET = """
ALTER TABLE "Sales Dept"."My.Table" ADD COLUMN "Order Count" integer NOT NULL DEFAULT 0;
CREATE INDEX "Odd Index" ON "Sales Dept"."My.Table" (lower("Name"));
ALTER TABLE "Sales Dept"."My.Table" ADD CONSTRAINT "Name Set" CHECK ("Name" <> '') NOT VALID;
ALTER TABLE parent_rows ADD COLUMN added int;
"""


def test_names_that_need_quoting_and_inherited_columns(new_db):
    """Quoted names, dots and spaces in names, inheritance, composite types, a view's trigger: SQL that runs."""
    source = build(new_db, WEIRD)
    target = new_db(source)
    run(target, WEIRD_TARGET)
    found = compare(snapshot(source), snapshot(target)).differences
    assert [(d.kind, d.name, d.status) for d in found] == [
        ("column", "Sales Dept.My.Table.Order Count", ONLY_IN_TARGET),
        ("column", "public.parent_rows.added", ONLY_IN_TARGET),  # once: the child inherits it
        ("index", "Sales Dept.Odd Index", ONLY_IN_TARGET),
        ("constraint", "Sales Dept.My.Table.Name Set", ONLY_IN_TARGET),
    ]
    assert found[0].sql == (
        'ALTER TABLE "Sales Dept"."My.Table" ADD COLUMN "Order Count" integer DEFAULT 0 NOT NULL;'
    )
    assert "public.child_rows" in {t.name for t in snapshot(source).tables}
    assert "Sales Dept.v.v_instead" in {t.name for t in snapshot(source).triggers}
    run(source, "\n".join(d.sql for d in found if d.sql))
    assert compare(snapshot(source), snapshot(target)).same
