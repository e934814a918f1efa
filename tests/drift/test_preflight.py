"""The playbook's preflight.no_relevant_drift: read from the file, and what the run calls before its first step."""

from __future__ import annotations

import textwrap

import pytest

from runner.drift.preflight import RelevantDrift, require_no_relevant_drift
from runner.errors import ExitCode
from runner.planning.project import AlembicProject
from runner.playbook.loader import load_playbook
from runner.target import DatabaseTarget
from tests import pg
from tests.conftest import EXAMPLE_INI, PRODUCTION_REVISION
from tests.drift.schemas import run

PLAYBOOK = """
    version: 1
    project:
      alembic_config: {ini}
      from_revision: 20260115_0200
      target_revision: 20260131_0000
    target: {{name: rehearsal, environment: rehearsal, url_env: UNUSED_BY_THESE_TESTS}}
    preflight:
      no_relevant_drift: true
"""


def _pending(project: AlembicProject):
    return project.pending((PRODUCTION_REVISION,), "heads")


def test_the_playbook_key_is_read(tmp_path):
    """preflight.no_relevant_drift: true in the file; false when the section is left out."""
    path = tmp_path / "book.yaml"
    path.write_text(textwrap.dedent(PLAYBOOK.format(ini=EXAMPLE_INI)))
    assert load_playbook(path).preflight.no_relevant_drift is True
    path.write_text(textwrap.dedent(PLAYBOOK.format(ini=EXAMPLE_INI)).split("preflight:")[0])
    assert load_playbook(path).preflight.no_relevant_drift is False


def test_relevant_drift_refuses_with_every_conflict_named(production_db):
    """A column the BlueShift step adds is already there: refused (exit 4), the step and the column named."""
    run(production_db, "ALTER TABLE providers ADD COLUMN home_address varchar(200)")
    project = AlembicProject.load(EXAMPLE_INI)
    target = DatabaseTarget.parse(pg.url_for(production_db))
    with pytest.raises(RelevantDrift) as refused:
        require_no_relevant_drift(project, target, _pending(project))
    assert refused.value.exit_code is ExitCode.REFUSED
    assert refused.value.message == (
        f"{target.display} has drift that matters to this plan (the playbook sets preflight.no_relevant_drift): "
        "20260131_0000: ADD COLUMN home_address on providers fails: column public.providers.home_address already "
        "exists (character varying(200)). Nothing was changed."
    )


def test_harmless_drift_is_returned_not_refused(production_db):
    """An enum value an IF NOT EXISTS step finds already there passes, and is returned for the record."""
    run(production_db, "ALTER TYPE coordinator_action_type ADD VALUE 'stage_changed'")
    project = AlembicProject.load(EXAMPLE_INI)
    target = DatabaseTarget.parse(pg.url_for(production_db))
    found = require_no_relevant_drift(project, target, _pending(project))
    assert [(c.revision, c.effect, c.blocks) for c in found] == [("20260127_0100", "does nothing", False)]
