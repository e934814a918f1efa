"""Drift that matters to the plan: pending steps played against a real schema."""

from __future__ import annotations

from runner.drift.relevance import DOES_NOTHING, DUPLICATES, FAILS, conflicts
from runner.lint.statements import collect, parse_step
from runner.planning.project import AlembicProject
from runner.planning.revisions import Downgrade, Revision
from tests.conftest import EXAMPLE_INI, PRODUCTION_REVISION
from tests.drift.schemas import build, run, snapshot


def step(revision: str, sql: str):
    return parse_step(Revision(revision, (), f"step {revision}", "", Downgrade.FULL), sql)


def found(steps, database, reference=None):
    return [
        (c.revision, c.operation, c.effect, c.reason, c.blocks)
        for c in conflicts(steps, database, reference=reference)
    ]


def test_a_column_a_pending_step_adds_that_already_exists_is_flagged_for_that_step(production_db):
    """Production with providers.home_address added by hand: 20260131_0000 would fail on it."""
    run(production_db, "ALTER TABLE providers ADD COLUMN home_address varchar(200)")
    project = AlembicProject.load(EXAMPLE_INI)
    steps = collect(project, project.pending((PRODUCTION_REVISION,), "heads"))
    assert found(steps, snapshot(production_db)) == [
        (
            "20260131_0000",
            "ADD COLUMN home_address on providers",
            FAILS,
            "column public.providers.home_address already exists (character varying(200))",
            True,
        )
    ]


def test_what_earlier_pending_steps_create_is_not_drift(production_db):
    """A clean production: none of the four pending steps collides with anything."""
    project = AlembicProject.load(EXAMPLE_INI)
    steps = collect(project, project.pending((PRODUCTION_REVISION,), "heads"))
    assert found(steps, snapshot(production_db)) == []


def test_an_enum_value_already_there_is_harmless_with_if_not_exists(production_db):
    """ADD VALUE IF NOT EXISTS on a value already there does nothing, and that is what the step wants."""
    run(production_db, "ALTER TYPE coordinator_action_type ADD VALUE 'stage_changed'")
    project = AlembicProject.load(EXAMPLE_INI)
    steps = collect(project, project.pending((PRODUCTION_REVISION,), "heads"))
    assert found(steps, snapshot(production_db)) == [
        (
            "20260127_0100",
            "ADD VALUE 'stage_changed' to coordinator_action_type",
            DOES_NOTHING,
            "enum public.coordinator_action_type already has the value 'stage_changed'",
            False,
        )
    ]


def test_objects_a_step_creates_that_exist_make_it_fail(new_db):
    """A table, a type, an index name, a constraint name, an enum value and a primary key already there."""
    database = build(new_db)
    steps = [
        step("r1", "CREATE TABLE scratch (k text);\nCREATE TYPE status AS ENUM ('x');"),
        step("r2", "CREATE INDEX accounts_active ON accounts (name);"),
        step(
            "r3", "ALTER TABLE billing.invoices ADD CONSTRAINT invoices_amount_positive CHECK (amount > 0);"
        ),
        step("r4", "ALTER TYPE status ADD VALUE 'closed';\nALTER TABLE accounts ADD PRIMARY KEY (email);"),
    ]
    assert found(steps, snapshot(database)) == [
        ("r1", "CREATE TABLE scratch", FAILS, "table public.scratch already exists", True),
        ("r1", "CREATE TYPE status", FAILS, "type public.status already exists", True),
        (
            "r2",
            "CREATE INDEX accounts_active on accounts",
            FAILS,
            "index public.accounts_active already exists",
            True,
        ),
        (
            "r3",
            "ADD CONSTRAINT invoices_amount_positive on billing.invoices",
            FAILS,
            "constraint billing.invoices.invoices_amount_positive already exists (CHECK ((amount >= (0)::numeric)))",
            True,
        ),
        (
            "r4",
            "ADD VALUE 'closed' to status",
            FAILS,
            "enum public.status already has the value 'closed'",
            True,
        ),
        (
            "r4",
            "ADD CONSTRAINT on accounts",
            FAILS,
            "table public.accounts already has a primary key (public.accounts.accounts_pkey)",
            True,
        ),
    ]


def test_what_a_step_changes_that_is_missing_makes_it_fail(new_db):
    """A column on a missing table, a dropped index that isn't there; IF EXISTS makes the drop a no-op."""
    database = build(new_db)
    steps = [
        step("r1", "ALTER TABLE invoices ADD COLUMN paid boolean;\nDROP INDEX accounts_gone;"),
        step("r2", "DROP INDEX IF EXISTS accounts_gone;\nALTER TABLE accounts DROP COLUMN nickname;"),
    ]
    assert found(steps, snapshot(database)) == [
        (
            "r1",
            "ADD COLUMN paid on invoices",
            FAILS,
            "table public.invoices does not exist in this database",
            True,
        ),
        (
            "r1",
            "DROP INDEX accounts_gone",
            FAILS,
            "index public.accounts_gone does not exist in this database",
            True,
        ),
        (
            "r2",
            "DROP COLUMN nickname on accounts",
            FAILS,
            "column public.accounts.nickname does not exist in this database",
            True,
        ),
    ]


def test_an_index_that_exists_under_another_name_is_flagged(new_db):
    """Same definition, other name: by the head's exact definition, or by plain columns without a head."""
    database = build(new_db)
    run(
        database,
        "CREATE INDEX accounts_by_name ON accounts (name); CREATE INDEX accounts_lower_name ON accounts (lower(name))",
    )
    head = build(new_db)
    run(
        head,
        "CREATE INDEX ix_accounts_name ON accounts (name); CREATE INDEX ix_accounts_lower ON accounts (lower(name))",
    )
    steps = [
        step(
            "r1",
            "CREATE INDEX ix_accounts_name ON accounts (name);\nCREATE INDEX ix_accounts_lower ON accounts (lower(name));",
        )
    ]
    twin = "index public.{} on public.accounts already has the same definition"
    assert found(steps, snapshot(database), snapshot(head)) == [
        (
            "r1",
            "CREATE INDEX ix_accounts_name on accounts",
            DUPLICATES,
            twin.format("accounts_by_name"),
            True,
        ),
        (
            "r1",
            "CREATE INDEX ix_accounts_lower on accounts",
            DUPLICATES,
            twin.format("accounts_lower_name"),
            True,
        ),
    ]
    assert found(steps, snapshot(database)) == [  # without a head, only the plain-column index is recognised
        (
            "r1",
            "CREATE INDEX ix_accounts_name on accounts",
            DUPLICATES,
            twin.format("accounts_by_name"),
            True,
        ),
    ]


def test_a_later_step_may_use_what_an_earlier_one_created(new_db):
    """A table created in one pending step and altered in the next is the plan's own, not drift."""
    database = build(new_db)
    steps = [
        step("r1", "CREATE TABLE notes (id int);"),
        step("r2", "ALTER TABLE notes ADD COLUMN body text;\nCREATE INDEX notes_body ON notes (body);"),
    ]
    assert found(steps, snapshot(database)) == []


def test_create_if_not_exists_is_harmless_only_when_what_is_there_is_what_the_head_has(new_db):
    """IF NOT EXISTS keeps the existing table: harmless when it equals the head's, relevant when it differs."""
    database = build(new_db)
    same_head = new_db(database)
    other_head = new_db(database)
    run(other_head, "ALTER TABLE scratch ADD COLUMN n int")
    steps = [step("r1", "CREATE TABLE IF NOT EXISTS scratch (k text, n int);")]
    assert found(steps, snapshot(database), snapshot(same_head)) == [
        (
            "r1",
            "CREATE TABLE scratch",
            DOES_NOTHING,
            "table public.scratch already exists, as the step would create it",
            False,
        )
    ]
    assert found(steps, snapshot(database), snapshot(other_head)) == [
        (
            "r1",
            "CREATE TABLE scratch",
            DOES_NOTHING,
            "table public.scratch already exists, different from what the step would create",
            True,
        )
    ]


def test_a_column_the_plan_added_and_renamed_stays_the_plans_own(new_db):
    """Adding a column again under the name an earlier step renamed the plan's own column to is not drift."""
    database = build(new_db)
    steps = [
        step("r1", "ALTER TABLE accounts ADD COLUMN nickname text;"),
        step("r2", "ALTER TABLE accounts RENAME COLUMN nickname TO alias;"),
        step("r3", "ALTER TABLE accounts ADD COLUMN alias text;"),
    ]
    assert found(steps, snapshot(database)) == []


def test_a_column_renamed_from_one_the_database_lacks_then_added_is_reported(new_db):
    """The rename fails; the later ADD COLUMN of its new name is reported without a type, not a crash."""
    database = build(new_db)
    steps = [
        step("r1", "ALTER TABLE accounts RENAME COLUMN nickname TO alias;"),
        step("r2", "ALTER TABLE accounts ADD COLUMN alias text;"),
    ]
    assert found(steps, snapshot(database)) == [
        (
            "r1",
            "RENAME COLUMN nickname on accounts",
            FAILS,
            "column public.accounts.nickname does not exist in this database",
            True,
        ),
        ("r2", "ADD COLUMN alias on accounts", FAILS, "column public.accounts.alias already exists", True),
    ]
