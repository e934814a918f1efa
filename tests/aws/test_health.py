"""http: and metric: checks give the same CheckResult as schema checks, and never raise or leak a URL's secrets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from runner.aws.clients import AwsSettings, BotoClients
from runner.aws.health import (
    HealthContext,
    http_health,
    is_health_check,
    metric_health,
    run_health_check,
    safe_url,
    settle,
)
from tests.aws.conftest import REGION

LB = {"LoadBalancer": "app/credmate/50dc6c495c0c9188"}


def test_a_200_passes_and_a_503_fails(local_http):
    """The default expectation is status 200; a 503 is an answer, reported as found, not an error."""
    server = local_http(status=200, body=b"ok")
    check = http_health(f"{server.url}/healthz")
    context = HealthContext()

    passed = run_health_check(check, context)
    server.status = 503
    failed = run_health_check(check, context)

    assert (passed.ok, passed.expected, passed.found) == (True, "status 200", "status 200")
    assert (failed.ok, failed.found) == (False, "status 503")
    assert passed.label == f"http {server.url}/healthz"
    assert [r.path for r in server.received] == ["/healthz", "/healthz"]
    assert is_health_check(check)


def test_contains_looks_at_the_body(local_http):
    """contains: passes only when the body has the text; the expectation says so."""
    server = local_http(status=200, body=b'{"status": "healthy", "db": "ok"}')
    context = HealthContext()

    healthy = run_health_check(http_health(server.url, contains='"healthy"'), context)
    degraded = run_health_check(http_health(server.url, contains="degraded", name="app health"), context)

    assert healthy.ok and healthy.expected == "status 200 and a body containing '\"healthy\"'"
    assert not degraded.ok
    assert degraded.describe() == (
        "app health: expected status 200 and a body containing 'degraded', found status 200 and a body without "
        "'degraded'"
    )


def test_no_answer_is_a_failed_check_not_an_exception():
    """A closed port: the check fails with the reason; nothing raises."""
    result = run_health_check(http_health("http://127.0.0.1:9/healthz", timeout_ms=2000), HealthContext())
    assert not result.ok
    assert result.found.startswith("no answer: ConnectionRefusedError")


def test_a_urls_credentials_and_tokens_never_show(local_http):
    """user:password@ becomes Basic auth on the wire; label, expectation, found and repr show neither it nor the token."""
    server = local_http(status=401, body=b"denied")
    host = server.url.removeprefix("http://")
    check = http_health(f"http://ops:hunter2-secret@{host}/healthz?token=abc123-secret&verbose=1")

    result = run_health_check(check, HealthContext())

    assert server.received[0].headers["Authorization"] == "Basic b3BzOmh1bnRlcjItc2VjcmV0"
    assert server.received[0].path == "/healthz?token=abc123-secret&verbose=1"
    shown = " ".join([result.label, result.expected, result.found, repr(check), result.describe()])
    assert "hunter2-secret" not in shown and "abc123-secret" not in shown and "ops:" not in shown
    assert result.label == f"http http://{host}/healthz?token=***&verbose=***"
    assert safe_url("https://u:p@[::1]:8443/x?a=1") == "https://[::1]:8443/x?a=***"


# -- metric checks (CloudWatch through moto) ---------------------------------------------------------
def _put(cloudwatch: Any, name: str, value: float, ago_s: int = 30) -> None:
    cloudwatch.put_metric_data(
        Namespace="AWS/ApplicationELB",
        MetricData=[
            {
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in LB.items()],
                "Value": value,
                "Timestamp": datetime.now(UTC) - timedelta(seconds=ago_s),
            }
        ],
    )


def _rate_check(**overrides: Any):
    keys: dict[str, Any] = {
        "metric": "HTTPCode_Target_5XX_Count",
        "namespace": "AWS/ApplicationELB",
        "dimensions": LB,
        "statistic": "Sum",
        "per": "RequestCount",
        "period": 60_000,
        "window": 300_000,
        "max": 0.01,
        **overrides,
    }
    return metric_health(**keys)


def test_a_5xx_rate_over_its_threshold_fails_and_under_it_passes(aws):
    """errors / requests over the window, computed by the runner: 12/400 fails max 0.01, 2/400 passes."""
    cloudwatch = aws("cloudwatch")
    context = HealthContext(clients=aws)
    for value, ago in ((7, 30), (5, 90)):
        _put(cloudwatch, "HTTPCode_Target_5XX_Count", value, ago)
    for value, ago in ((200, 30), (200, 90)):
        _put(cloudwatch, "RequestCount", value, ago)

    over = run_health_check(_rate_check(), context)
    under = run_health_check(_rate_check(max=0.05), context)

    assert over.describe() == (
        "metric HTTPCode_Target_5XX_Count per RequestCount: expected rate <= 0.01 over the last 5min, found 0.03 "
        "(12 HTTPCode_Target_5XX_Count / 400 RequestCount)"
    )
    assert not over.ok and under.ok


def test_a_plain_metric_against_min_and_max(aws):
    """Without per: the value itself; Average is weighted by sample count, Maximum is the window's maximum."""
    cloudwatch = aws("cloudwatch")
    for value in (120.0, 80.0):
        _put(cloudwatch, "TargetResponseTime", value)
    context = HealthContext(clients=aws)
    base = {"metric": "TargetResponseTime", "namespace": "AWS/ApplicationELB", "dimensions": LB}

    average = run_health_check(metric_health(**base, statistic="Average", max=150.0, min=10.0), context)
    maximum = run_health_check(metric_health(**base, statistic="Maximum", max=100.0), context)

    assert (average.ok, average.found, average.expected) == (
        True,
        "100",
        "value >= 10 and <= 150 over the last 5min",
    )
    assert (maximum.ok, maximum.found) == (False, "120")


def test_no_datapoints_fails_unless_missing_is_ok(aws):
    """An empty window is a failure (a dead metric looks healthy otherwise), unless missing: ok."""
    context = HealthContext(clients=aws)

    strict = run_health_check(_rate_check(), context)
    lenient = run_health_check(_rate_check(missing="ok"), context)

    assert (strict.ok, strict.found) == (False, "no datapoints for HTTPCode_Target_5XX_Count in the window")
    assert (lenient.ok, lenient.found) == (
        True,
        "no datapoints for HTTPCode_Target_5XX_Count in the window (missing: ok)",
    )


def test_a_zero_divisor_counts_as_missing(aws):
    """0 requests: there is no rate, so it fails like missing data."""
    cloudwatch = aws("cloudwatch")
    _put(cloudwatch, "HTTPCode_Target_5XX_Count", 0)
    _put(cloudwatch, "RequestCount", 0)
    result = run_health_check(_rate_check(), HealthContext(clients=aws))
    assert (result.ok, result.found) == (False, "RequestCount was 0 in the window, so there is no rate")


def test_cloudwatch_unreachable_is_a_failed_check(aws_profile):
    """AWS unreachable while reading a metric: a failed check saying so, never an exception."""
    clients = BotoClients(
        AwsSettings(region=REGION, profile=aws_profile, endpoint_url="http://127.0.0.1:9", max_attempts=1)
    )
    result = run_health_check(_rate_check(), HealthContext(clients=clients))
    assert not result.ok
    assert result.found == (
        "error: AWS could not be reached while reading CloudWatch AWS/ApplicationELB HTTPCode_Target_5XX_Count: Could "
        'not connect to the endpoint URL: "http://127.0.0.1:9/".'
    )
    no_client = run_health_check(_rate_check(), HealthContext())
    assert (no_client.ok, no_client.found) == (False, "no AWS client to read CloudWatch with")


@pytest.mark.parametrize(("ms", "slept"), [(1500, [1.5]), (None, []), (0, [])])
def test_settle_waits_before_checks(ms, slept):
    """settle: sleeps its duration once (nothing for none); the seam keeps the test instant."""
    calls: list[float] = []
    assert settle(ms, sleep=calls.append) == (ms or 0)
    assert calls == slept
