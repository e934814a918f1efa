"""Where every environment stands: the seed's production and local, one unreachable, one unset."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from runner.drift.environments import environments_status
from runner.drift.render import environments_text
from runner.planning.project import AlembicProject
from tests import pg
from tests.conftest import EXAMPLE_INI, EXAMPLE_PENDING

SEED_EVENING = datetime(2026, 2, 2, 22, 30, tzinfo=UTC)  # when the seed's investigation began
NOBODY_LISTENS = "postgresql://postgres@127.0.0.1:1/credentialmate"


def _status(production_db, local_db):
    environ = {
        "PROD_URL": pg.url_for(production_db),
        "LOCAL_URL": pg.url_for(local_db),
        "STAGING_URL": NOBODY_LISTENS,
    }
    return environments_status(
        AlembicProject.load(EXAMPLE_INI),
        {"production": "PROD_URL", "staging": "STAGING_URL", "local": "LOCAL_URL", "qa": "QA_URL"},
        environ=environ,
        now=lambda: SEED_EVENING,
    )


def test_the_seed_environments_are_4_and_1_behind_and_the_unreachable_ones_say_so(
    production_db, new_db, template_at
):
    """Production at 20260115_0200 is 4 behind, local at 7702d353e5b8 1; staging and qa can't be read."""
    local = new_db(template_at("7702d353e5b8"))
    found = {env.name: env for env in _status(production_db, local).environments}
    assert (found["production"].current, found["production"].behind) == (("20260115_0200",), 4)
    assert [p.revision for p in found["production"].pending] == EXAMPLE_PENDING
    assert (found["local"].current, found["local"].behind) == (("7702d353e5b8",), 1)
    assert [p.revision for p in found["local"].pending] == ["20260131_0000"]
    assert (found["staging"].reachable, found["staging"].problem, found["staging"].behind) == (
        False,
        "unreachable",
        None,
    )
    assert found["staging"].error.startswith(f"Can't connect to {NOBODY_LISTENS}: ")
    assert (found["qa"].problem, found["qa"].error) == (
        "invalid",
        "the environment variable QA_URL is not set",
    )


def test_the_gap_is_dated_from_the_revisions_create_dates(production_db, new_db, template_at):
    """Production's gap runs from Jan 15 to Jan 31; its oldest pending revision has waited since Jan 15."""
    status = _status(production_db, new_db(template_at("7702d353e5b8")))
    found = {env.name: env for env in status.environments}
    assert status.head_created == datetime(2026, 1, 31)
    assert (status.gap_days(found["production"]), status.waiting_days(found["production"])) == (15.9, 18.8)
    assert (status.gap_days(found["local"]), status.waiting_days(found["local"])) == (3.5, 2.9)
    assert status.gap_days(found["staging"]) is None


def test_status_text_and_json(production_db, new_db, template_at):
    """People get one row per environment; tools get the documented JSON keys."""
    status = _status(production_db, new_db(template_at("7702d353e5b8")))
    lines = environments_text(status)
    assert lines[:3] == [
        "Code head  20260131_0000 (created 2026-01-31)",
        "environment  revision       behind  gap        pending",
        "production   20260115_0200  4       15.9 days  20260115_0300, 20260127_0100, 7702d353e5b8, 20260131_0000",
    ]
    assert lines[3].startswith(f"staging      unreachable: Can't connect to {NOBODY_LISTENS}: ")
    assert lines[4:] == [
        "local        7702d353e5b8   1       3.5 days   20260131_0000",
        "qa           invalid: the environment variable QA_URL is not set",
    ]
    document = json.loads(json.dumps(status.as_json()))
    production = document["environments"][0]
    assert {"name", "current", "behind", "pending"} <= production.keys()
    assert (production["name"], production["current"], production["behind"]) == (
        "production",
        ["20260115_0200"],
        4,
    )
    assert production["pending"][0] == {
        "revision": "20260115_0300",
        "message": "Add provider_credentials table for third-party credential storage",
        "created": "2026-01-15T03:00:00",
    }
    assert (document["environments"][1]["reachable"], document["environments"][1]["behind"]) == (False, None)
