"""No AWS secret key, session token or webhook URL in anything the AWS side says, raises or returns."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from runner.aws.anchor import anchor_run
from runner.aws.health import HealthContext, http_health, metric_health, run_health_check
from runner.aws.notify import Notifier, started
from runner.aws.restore import execute_restore, plan_as_dict, plan_restore, render_runbook
from runner.aws.snapshot import RunFacts, take_snapshot
from runner.aws.specs import NotifySpec
from runner.errors import RunnerError
from tests.aws.conftest import SECRET_KEY, SESSION_TOKEN, instance_spec, make_instance

FACTS = RunFacts("01JRUN", "credmate-prod", "20260115_0200", "20260131_0000", "alice")
NOW = datetime(2026, 2, 10, 7, 5, tzinfo=UTC)
ENDPOINT = "credmate-prod.aaaaaaaaaa.us-east-1.rds.amazonaws.com"
HOOK_SECRET = "T0RUNNER/B0RUNNER/xoxb-hook-secret-9999"


def _text(value: Any) -> str:
    if isinstance(value, BaseException):
        return f"{value!s} {value!r} {getattr(value, 'next_step', '')}"
    try:
        return json.dumps(value, default=repr)
    except TypeError:
        return repr(value)


def test_nothing_said_raised_or_returned_holds_a_secret(aws, rds, network, stub_rds, local_http, monkeypatch):
    """A snapshot, a refusal, a runbook, a restore, health checks and notifications, every output searched."""
    outputs: list[Any] = []
    make_instance(rds, network)

    anchor = anchor_run(rds, instance_spec(), FACTS, ENDPOINT, on_progress=outputs.append, now=lambda: NOW)
    outputs += [anchor, anchor.as_event(), anchor.proof.describe(), anchor.snapshot.describe()]
    try:
        anchor_run(rds, instance_spec(), FACTS, "elsewhere.example.com", now=lambda: NOW)
    except RunnerError as exc:
        outputs.append(exc)
    plan = plan_restore(rds, anchor.snapshot, new_identifier="credmate-prod-back")
    outputs += [plan, plan_as_dict(plan), render_runbook(plan)]
    outputs.append(
        execute_restore(rds, plan, on_call=outputs.append, on_progress=outputs.append, delay_s=0.01)
    )

    # AWS quoting the credentials back in an error message: masked because the factory registered them.
    client, stubber = stub_rds
    stubber.add_client_error(
        "create_db_snapshot",
        service_error_code="InvalidClientTokenId",
        service_message=f"The security token {SESSION_TOKEN} signed with {SECRET_KEY} is invalid",
    )
    with pytest.raises(RunnerError) as quoted:
        take_snapshot(client, instance_spec(), FACTS, now=lambda: NOW)
    outputs.append(quoted.value)

    server = local_http(status=503, body=b"down")
    hook = f"{server.url}/services/{HOOK_SECRET}"
    host = server.url.removeprefix("http://")
    context = HealthContext(clients=aws)
    outputs.append(
        run_health_check(http_health(f"http://ops:pw-{HOOK_SECRET}@{host}/?token={HOOK_SECRET}"), context)
    )
    metric = metric_health(metric="Errors", namespace="Custom", max=1.0)
    outputs.append(run_health_check(metric, context))

    monkeypatch.setenv("CREDMATE_SLACK_WEBHOOK", hook)
    notifier = Notifier(
        NotifySpec("arn:aws:sns:us-east-1:123456789012:missing", "CREDMATE_SLACK_WEBHOOK"), clients=aws
    )
    outputs.append(notifier.send(started("credmate-prod", "01JRUN", None, "head", "alice", "runner status")))
    with pytest.raises(RunnerError) as required:
        Notifier(
            NotifySpec("arn:aws:sns:us-east-1:123456789012:missing", "CREDMATE_SLACK_WEBHOOK", required=True),
            clients=aws,
        ).start(started("credmate-prod", "01JRUN", None, "head", "alice", "runner status"))
    outputs.append(required.value)

    everything = "\n".join(_text(value) for value in outputs)
    assert len(outputs) >= 15
    for secret in (SECRET_KEY, SESSION_TOKEN, hook, HOOK_SECRET, "pw-"):
        assert secret not in everything, secret
    assert "***" in _text(quoted.value)  # the quoted credentials were there, masked
