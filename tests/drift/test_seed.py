"""The seed's scenario: production at 20260115_0200 against the code head, 20260131_0000."""

from __future__ import annotations

import importlib.util
from contextlib import closing

from runner.drift.command import drift
from runner.drift.differences import CHANGED, ONLY_IN_TARGET
from runner.planning.project import AlembicProject
from runner.target import DatabaseTarget
from tests import pg
from tests.conftest import EXAMPLE_HEAD, EXAMPLE_INI, EXAMPLE_PENDING, ROOT

BLUESHIFT = (
    ROOT / "examples/credentialmate/migrations/versions/20260131_0000_add_blueshift_provider_fields.py"
)


def _blueshift_columns() -> list[str]:
    """The columns 20260131_0000 adds, read from the migration itself."""
    spec = importlib.util.spec_from_file_location("blueshift", BLUESHIFT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [f"public.providers.{name}" for name, _ in module.PROVIDER_COLUMNS] + [
        f"public.licenses.{name}" for name, _ in module.LICENSE_COLUMNS
    ]


def test_drift_to_head_lists_exactly_what_the_four_pending_revisions_add(production_db, new_db, template_at):
    """Three tables, one enum value, 22 columns: each once, each marked with the revision that adds it."""
    head = new_db(template_at(EXAMPLE_HEAD))
    result = drift(
        DatabaseTarget.parse(pg.url_for(production_db)),
        DatabaseTarget.parse(pg.url_for(head)),
        project=AlembicProject.load(EXAMPLE_INI),
    )
    expected = {
        ("table", "public.provider_credentials", ONLY_IN_TARGET, "20260115_0300"),
        ("enum", "public.coordinator_action_type", CHANGED, "20260127_0100"),
        ("table", "public.coordinator_notification_preferences", ONLY_IN_TARGET, "7702d353e5b8"),
        ("table", "public.payment_methods", ONLY_IN_TARGET, "20260131_0000"),
        *{("column", name, ONLY_IN_TARGET, "20260131_0000") for name in _blueshift_columns()},
    }
    found = [(d.kind, d.name, d.status, d.explained_by) for d in result.comparison.differences]
    assert len(found) == len(expected) == 26 and set(found) == expected
    enum = next(d for d in result.comparison.differences if d.kind == "enum")
    assert enum.changes[0].target[-1] == "stage_changed"
    assert (result.pending, result.conflicts, result.drift) == (tuple(EXAMPLE_PENDING), (), True)


def test_local_one_behind_differs_only_by_the_blueshift_revision(new_db, template_at):
    """Local at 7702d353e5b8: the only differences are what 20260131_0000 adds."""
    local, head = new_db(template_at("7702d353e5b8")), new_db(template_at(EXAMPLE_HEAD))
    result = drift(
        DatabaseTarget.parse(pg.url_for(local)),
        DatabaseTarget.parse(pg.url_for(head)),
        project=AlembicProject.load(EXAMPLE_INI),
    )
    assert {d.explained_by for d in result.comparison.differences} == {"20260131_0000"}
    assert len(result.comparison.differences) == 23 and result.pending == ("20260131_0000",)


def test_a_revision_this_checkout_does_not_know_still_compares(production_db, new_db, template_at):
    """The source was migrated by newer code: the schemas are compared, and the plan check says why it was skipped."""
    head = new_db(template_at(EXAMPLE_HEAD))
    with closing(pg.connect(production_db)) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'feedc0ffee01'")
    result = drift(
        DatabaseTarget.parse(pg.url_for(production_db)),
        DatabaseTarget.parse(pg.url_for(head)),
        project=AlembicProject.load(EXAMPLE_INI),
    )
    assert len(result.comparison.differences) == 26 and result.pending == () and result.conflicts == ()
    assert result.notes[0].startswith(
        "The pending plan was not checked: The database's current revision 'feedc0ffee01' is not in the Alembic "
        "project at "
    )
