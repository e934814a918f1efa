"""A ``metric:`` check: a CloudWatch metric (or a rate of two) over a recent window, against a bound.

``get_metric_statistics`` returns one datapoint per period; the window's value
is those datapoints combined by the same statistic (a sum of sums, a maximum
of maxima, an average weighted by sample count). A rate such as 5xx errors per
request is the metric's value divided by the ``per`` metric's, computed here
because CloudWatch metric math is not available everywhere (moto lacks it, and
it needs a second permission). A window with no datapoints fails, unless the
playbook says ``missing: ok``; a rate whose divisor is zero counts as missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from runner.check_result import CheckResult
from runner.durations import format_ms


@dataclass(frozen=True)
class MetricQuery:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str  # Sum, Average, Maximum, Minimum, SampleCount

    def describe(self) -> str:
        dims = ", ".join(f"{key}={value}" for key, value in self.dimensions)
        return f"{self.statistic} of {self.namespace} {self.name}{f' ({dims})' if dims else ''}"


@dataclass(frozen=True)
class MetricHealth:
    metric: MetricQuery
    per: MetricQuery | None
    period_s: int
    window_ms: int
    max: float | None = None
    min: float | None = None
    missing_ok: bool = False
    label: str = ""

    def expectation(self) -> str:
        bounds = []
        if self.min is not None:
            bounds.append(f">= {_number(self.min)}")
        if self.max is not None:
            bounds.append(f"<= {_number(self.max)}")
        what = "rate" if self.per is not None else "value"
        return f"{what} {' and '.join(bounds) or 'present'} over the last {format_ms(self.window_ms)}"

    def evaluate(self, cloudwatch: Any, now: Callable[[], datetime]) -> CheckResult:
        """Read the window ending now; raises on AWS failures (the caller turns them into a failed check)."""
        end = now()
        start = end - timedelta(milliseconds=self.window_ms)
        value = window_value(cloudwatch, self.metric, start, end, self.period_s)
        if value is None:
            return self._missing(f"no datapoints for {self.metric.name} in the window")
        if self.per is not None:
            divisor = window_value(cloudwatch, self.per, start, end, self.period_s)
            if divisor is None:
                return self._missing(f"no datapoints for {self.per.name} in the window")
            if divisor == 0:
                return self._missing(f"{self.per.name} was 0 in the window, so there is no rate")
            found = f"{_number(value / divisor)} ({_number(value)} {self.metric.name} / {_number(divisor)} {self.per.name})"
            value = value / divisor
        else:
            found = _number(value)
        ok = (self.max is None or value <= self.max) and (self.min is None or value >= self.min)
        return CheckResult(self.label, ok, self.expectation(), found)

    def _missing(self, why: str) -> CheckResult:
        return CheckResult(
            self.label,
            self.missing_ok,
            self.expectation(),
            f"{why}{' (missing: ok)' if self.missing_ok else ''}",
        )


def window_value(
    cloudwatch: Any, query: MetricQuery, start: datetime, end: datetime, period_s: int
) -> float | None:
    """The metric over [start, end), its datapoints combined by its statistic; None without datapoints."""
    statistics = [query.statistic] + (["SampleCount"] if query.statistic == "Average" else [])
    answer = cloudwatch.get_metric_statistics(
        Namespace=query.namespace,
        MetricName=query.name,
        Dimensions=[{"Name": key, "Value": value} for key, value in query.dimensions],
        StartTime=start,
        EndTime=end,
        Period=period_s,
        Statistics=statistics,
    )
    points = [point for point in answer.get("Datapoints") or [] if query.statistic in point]
    if not points:
        return None
    values = [float(point[query.statistic]) for point in points]
    if query.statistic in ("Sum", "SampleCount"):
        return sum(values)
    if query.statistic == "Maximum":
        return max(values)
    if query.statistic == "Minimum":
        return min(values)
    weights = [float(point.get("SampleCount") or 1) for point in points]
    return sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights)


def _number(value: float) -> str:
    return f"{value:.6g}"


def metric_health(
    *,
    metric: str,
    namespace: str,
    dimensions: Mapping[str, str] | None = None,
    statistic: str = "Sum",
    per: str | Mapping[str, Any] | None = None,
    period: int = 60_000,
    window: int = 300_000,
    max: float | None = None,
    min: float | None = None,
    missing: str = "fail",
    name: str | None = None,
) -> MetricHealth:
    """The domain check from the playbook's keys (durations in ms)."""
    query = MetricQuery(namespace, metric, tuple(sorted((dimensions or {}).items())), statistic)
    divisor = None
    if isinstance(per, str):
        divisor = MetricQuery(namespace, per, query.dimensions, statistic)
    elif per is not None:
        dims = per.get("dimensions")
        divisor = MetricQuery(
            per.get("namespace") or namespace,
            per["metric"],
            tuple(sorted(dims.items())) if dims is not None else query.dimensions,
            per.get("statistic") or statistic,
        )
    label = name or f"metric {metric}" + (f" per {divisor.name}" if divisor else "")
    return MetricHealth(query, divisor, period // 1000, window, max, min, missing == "ok", label)
