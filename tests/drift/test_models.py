"""A database compared with SQLAlchemy models through Alembic's autogenerate comparison."""

from __future__ import annotations

import pytest

from runner.drift.command import drift
from runner.drift.differences import CHANGED, ONLY_IN_SOURCE, ONLY_IN_TARGET
from runner.errors import ConfigError
from runner.target import DatabaseTarget
from tests import pg
from tests.drift.schemas import run

WIDGETS = """
CREATE TABLE widgets (id serial PRIMARY KEY, name varchar(40) NOT NULL, note text);
CREATE INDEX ix_widgets_name ON widgets (name);
CREATE TABLE legacy (id int);
"""


def test_what_the_models_and_the_database_disagree_on(new_db):
    """A table and a column only in the models, a table and a column only in the database, a nullability."""
    database = new_db()
    run(database, WIDGETS)
    result = drift(
        DatabaseTarget.parse(pg.url_for(database)), against_models="tests.drift.widget_models:metadata"
    )
    assert result.target == "models tests.drift.widget_models:metadata"
    assert [(d.kind, d.name, d.status) for d in result.comparison.differences] == [
        ("table", "public.gadgets", ONLY_IN_TARGET),
        ("table", "public.legacy", ONLY_IN_SOURCE),
        ("column", "public.widgets.color", ONLY_IN_TARGET),
        ("column", "public.widgets.name", CHANGED),
        ("column", "public.widgets.note", ONLY_IN_SOURCE),
    ]
    found = {d.name: d for d in result.comparison.differences}
    assert (
        found["public.widgets.name"].describe()
        == "column public.widgets.name: nullable is False in the source, True in the target"
    )
    assert found["public.widgets.color"].sql == "ALTER TABLE widgets ADD COLUMN color VARCHAR(20);"
    assert found["public.legacy"].sql == "DROP TABLE legacy;"
    assert result.exit_code == 8


def test_a_models_path_that_does_not_import_is_invalid_input(new_db):
    """A module that can't be imported is named, with the reason, as invalid input (exit 3)."""
    database = new_db()
    with pytest.raises(ConfigError) as raised:
        drift(DatabaseTarget.parse(pg.url_for(database)), against_models="no_such_models:metadata")
    assert raised.value.message == (
        "--against-models 'no_such_models:metadata': module 'no_such_models' can't be imported "
        "(No module named 'no_such_models')."
    )
