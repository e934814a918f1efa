"""A playbook's health checks in a real run: evaluated over HTTP (or CloudWatch), never on the checks' connection."""

from __future__ import annotations

import pytest

from runner.errors import Refused
from runner.run.result import RunStatus
from tests import pg
from tests.aws.local_http import LocalHttp
from tests.conftest import EXAMPLE_HEAD, PRODUCTION_REVISION
from tests.playbook.conftest import named

HTTP_CHECKS = """
    version: 1
    project:
      alembic_config: {ini}
      from_revision: 20260115_0200
      target_revision: 20260131_0000
    target: {name: rehearsal, environment: rehearsal, url_env: UNUSED_BY_THESE_TESTS}
    checks:
      role: no_such_role_for_health_checks
      before:
        - http: URL/healthz
      after_all:
        - http: URL/ready
          contains: ok
"""

METRIC_CHECK = """
    version: 1
    project:
      alembic_config: {ini}
      from_revision: 20260115_0200
      target_revision: 20260131_0000
    target: {name: rehearsal, environment: rehearsal, url_env: UNUSED_BY_THESE_TESTS}
    checks:
      before:
        - metric: HTTPCode_Target_5XX_Count
          namespace: AWS/ApplicationELB
          max: 5
"""


def test_http_checks_get_their_url_before_and_after_the_run(write_playbook, run_playbook, production_db):
    """Each http: check is one GET to its URL, passes on a 200, and runs under no database role."""
    server = LocalHttp(body=b"ok")
    server.start()
    try:
        result, events = run_playbook(write_playbook(HTTP_CHECKS.replace("URL", server.url)), production_db)
    finally:
        server.stop()

    assert result.status is RunStatus.DONE, result.message
    assert pg.heads(production_db) == [EXAMPLE_HEAD]
    assert named(events, "check_failed") == []
    health = [e for e in named(events, "check_passed") if e["check"].startswith("http ")]
    assert [(e["check"], e["when"], e["found"]) for e in health] == [
        (f"http {server.url}/healthz", "before", "status 200"),
        (f"http {server.url}/ready", "after", "status 200 and a body containing 'ok'"),
    ]
    assert all("role" not in e for e in health)
    assert [(r.method, r.path) for r in server.received] == [("GET", "/healthz"), ("GET", "/ready")]


def test_a_metric_check_without_aws_clients_fails_saying_so(write_playbook, run_playbook, production_db):
    """With no AWS client given to the run, a metric: check fails with that reason before the first step."""
    with pytest.raises(Refused) as refused:
        run_playbook(write_playbook(METRIC_CHECK), production_db)

    assert refused.value.message == (
        "Preflight checks failed before the first step: metric HTTPCode_Target_5XX_Count: expected value <= 5 "
        "over the last 5min, found no AWS client to read CloudWatch with. Nothing was changed."
    )
    assert pg.heads(production_db) == [PRODUCTION_REVISION]
