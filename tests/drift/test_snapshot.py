"""Schema snapshots read from the catalogs: equal when the schemas are, and every difference named."""

from __future__ import annotations

from contextlib import closing

from runner.database.history import CREATE_SQL
from runner.drift.compare import diff
from runner.drift.snapshot import take
from tests import pg
from tests.conftest import PRODUCTION_REVISION


def snapshot(database: str):
    with closing(pg.connect(database)) as conn:
        return take(conn)


def test_two_databases_at_the_same_revision_are_equal(new_db, template_at):
    """Two clones at 20260115_0200 compare equal, expression and partial indexes included."""
    first, second = new_db(template_at(PRODUCTION_REVISION)), new_db(template_at(PRODUCTION_REVISION))
    a, b = snapshot(first), snapshot(second)
    assert a == b and diff(a, b) == []
    definitions = {index.name: index.definition for index in a.indexes}
    assert "lower((last_name)::text)" in definitions["public.ix_providers_last_name_lower"]
    assert "WHERE ((status)::text = 'active'::text)" in definitions["public.ix_licenses_expiring"]
    assert {s.name: s.owned_by for s in a.sequences}["public.providers_id_seq"] == "public.providers.id"
    assert [e.values for e in a.enums] == [
        ("note_added", "document_requested", "license_verified", "status_changed")
    ]


def test_the_runner_history_table_is_left_out(new_db, template_at):
    """The runner's own bookkeeping table (and its sequence, index, constraint) is not the application's schema."""
    database = new_db(template_at(PRODUCTION_REVISION))
    before = snapshot(database)
    with closing(pg.connect(database)) as conn:
        conn.execute(CREATE_SQL)
    assert snapshot(database) == before


def test_every_kind_of_difference_is_named(new_db, template_at):
    """Columns (type, nullability, default), indexes, constraints, enum order and sequences all count."""
    reference, changed = new_db(template_at(PRODUCTION_REVISION)), new_db(template_at(PRODUCTION_REVISION))
    with closing(pg.connect(changed)) as conn:
        conn.execute("ALTER TABLE providers ALTER COLUMN specialty TYPE varchar(200)")
        conn.execute("ALTER TABLE providers ALTER COLUMN email SET NOT NULL")
        conn.execute("ALTER TABLE licenses ALTER COLUMN status SET DEFAULT 'pending'")
        conn.execute("DROP INDEX ix_licenses_expiring")
        conn.execute("CREATE INDEX ix_licenses_expiring ON licenses (expires_on) WHERE status = 'expired'")
        conn.execute("ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role <> '')")
        conn.execute("ALTER TYPE coordinator_action_type ADD VALUE 'stage_changed' BEFORE 'note_added'")
        conn.execute("ALTER SEQUENCE users_id_seq INCREMENT BY 2")
    differences = diff(snapshot(changed), snapshot(reference), left="changed", right="reference")
    assert differences == [
        "column public.licenses.status: default is \"'pending'::character varying\" in the changed, "
        "\"'active'::character varying\" in the reference",
        "column public.providers.email: not_null is True in the changed, False in the reference",
        "column public.providers.specialty: type is 'character varying(200)' in the changed, "
        "'character varying(120)' in the reference",
        'index public.ix_licenses_expiring: definition is "CREATE INDEX ix_licenses_expiring ON public.licenses '
        "USING btree (expires_on) WHERE ((status)::text = 'expired'::text)\" in the changed, \"CREATE INDEX "
        "ix_licenses_expiring ON public.licenses USING btree (expires_on) WHERE ((status)::text = 'active'::text)\" "
        "in the reference",
        "constraint public.users.users_role_check is only in the changed database",
        "enum public.coordinator_action_type: values is ('stage_changed', 'note_added', 'document_requested', "
        "'license_verified', 'status_changed') in the changed, ('note_added', 'document_requested', "
        "'license_verified', 'status_changed') in the reference",
        "sequence public.users_id_seq: increment is 2 in the changed, 1 in the reference",
    ]


def test_a_table_only_on_one_side(new_db, template_at):
    """A table missing on one side is one difference that counts what belongs to it, not one per object."""
    older, newer = new_db(template_at("20260108_0100")), new_db(template_at(PRODUCTION_REVISION))
    differences = diff(snapshot(older), snapshot(newer), left="older", right="newer")
    assert differences == [
        "table public.coordinator_actions is only in the newer database "
        "(with 6 columns, 1 index, 3 constraints, 1 sequence)",
        "enum public.coordinator_action_type is only in the newer database",
    ]
