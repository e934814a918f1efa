"""Health checks as playbook check kinds: ``http:``, ``metric:``, and the ``settle:`` wait before them.

They give the same ``CheckResult`` as the schema checks, so a failing health
check goes through the step's failure policy like any other. Like
``run_check``, ``run_health_check`` never raises: a check that can't get an
answer (a refused connection, AWS unreachable, no credentials) has failed, and
what was found says why, without the URL's secrets or an AWS key.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeGuard

from runner.aws.http_check import HttpHealth, Opener, http_health
from runner.aws.metric_check import MetricHealth, MetricQuery, metric_health
from runner.aws.urls import safe_url
from runner.check_result import Check, CheckResult
from runner.redact import redact

if TYPE_CHECKING:
    from runner.aws.clients import ClientFactory

__all__ = [
    "HealthContext",
    "HttpHealth",
    "MetricHealth",
    "MetricQuery",
    "http_health",
    "is_health_check",
    "metric_health",
    "run_health_check",
    "safe_url",
    "settle",
]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class HealthContext:
    """What health checks reach the world through: seams, so tests and rehearsals choose."""

    clients: ClientFactory | None = None  # for cloudwatch; None: metric checks fail saying so
    now: Callable[[], datetime] = _utc_now
    urlopen: Opener = field(default=urllib.request.urlopen)
    skipped: str | None = None  # why health checks are not run (a rehearsal has no application to ask)


def is_health_check(check: Check) -> TypeGuard[HttpHealth | MetricHealth]:
    """Whether ``check`` runs without a database connection."""
    return isinstance(check, HttpHealth | MetricHealth)


def run_health_check(check: HttpHealth | MetricHealth, context: HealthContext) -> CheckResult:
    """Run one health check; a failure to get an answer is a failed check, never an exception."""
    if context.skipped:
        return CheckResult(check.label, True, check.expectation(), f"not run: {context.skipped}")
    if isinstance(check, HttpHealth):
        return check.evaluate(context.urlopen)
    try:
        if context.clients is None:
            return CheckResult(
                check.label, False, check.expectation(), "no AWS client to read CloudWatch with"
            )
        return check.evaluate(context.clients("cloudwatch"), context.now)
    except Exception as exc:  # fail closed, as run_check does
        from runner.aws.failures import translate

        error = translate(exc, f"reading CloudWatch {check.metric.namespace} {check.metric.name}")
        first = (error.message.strip().splitlines() or [type(exc).__name__])[0]
        return CheckResult(check.label, False, check.expectation(), str(redact(f"error: {first}")))


def settle(ms: int | None, sleep: Callable[[float], object] = time.sleep) -> int:
    """Wait ``ms`` before checks run (so metrics catch up with the step); returns the ms waited."""
    if not ms or ms <= 0:
        return 0
    sleep(ms / 1000)
    return ms
