"""Rules for the playbook's AWS parts: the snapshot, the notifications, and the health checks.

Like ``consistency``, each rule ties fields together and points at the key to
change; they live here so the database rules stay readable on their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from runner.aws.identifiers import SNAPSHOT_ID_RULE, is_snapshot_id, template_problem
from runner.aws.urls import safe_url
from runner.durations import format_ms
from runner.playbook.model import PlaybookModel
from runner.playbook.model_checks import Check as CheckModel
from runner.playbook.model_checks import HttpCheck, MetricCheck
from runner.playbook.problems import Problem

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_RDS_ID = re.compile(r"^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,62}(?<!-)$")
_HOST = re.compile(
    r"^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+|[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)$"
)
_SNS_TOPIC = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
_PERIODS_S = (1, 5, 10, 30)
MAX_DATAPOINTS = 1440  # get_metric_statistics answers at most this many per call


def snapshot_problems(model: PlaybookModel) -> Iterator[Problem]:
    snapshot = model.snapshot
    if model.target.environment == "production" and snapshot is None:
        yield Problem(
            ("target", "environment"),
            "a production playbook takes a snapshot before the first step: add a snapshot section with "
            "required: true (only staging and rehearsal targets may go without one)",
        )
    if model.target.environment == "production" and snapshot is not None and not snapshot.required:
        yield Problem(
            ("snapshot", "required"),
            "a production playbook can't waive its snapshot, whatever the reason: make it required: true (only "
            "staging and rehearsal targets may go without one)",
        )
    if snapshot is None:
        return
    yield from _waiver(model)
    named = [key for key in ("rds_instance", "aurora_cluster") if getattr(snapshot, key) is not None]
    if len(named) != 1 and (snapshot.required or named):
        found = "both" if named else "neither"
        yield Problem(
            ("snapshot",), f"a snapshot names exactly one of rds_instance and aurora_cluster, found {found}"
        )
    for key in named:
        value = getattr(snapshot, key)
        if not _RDS_ID.match(value):
            yield Problem(
                ("snapshot", key),
                f"{value!r} is not an RDS identifier (a letter, then letters, digits and single hyphens, "
                "at most 63 characters, not ending in a hyphen)",
            )
    if snapshot.region is None:
        if named:
            yield Problem(
                ("snapshot", "region"), "required key is missing (the AWS region, such as us-east-1)"
            )
    elif not _REGION.match(snapshot.region):
        yield Problem(
            ("snapshot", "region"), f"{snapshot.region!r} is not an AWS region name such as us-east-1"
        )
    yield from _snapshot_naming(model)


def _waiver(model: PlaybookModel) -> Iterator[Problem]:
    snapshot = model.snapshot
    assert snapshot is not None
    if model.target.environment == "production":
        return  # already refused above, whatever the reason says
    if not snapshot.required and snapshot.reason is None:
        yield Problem(
            ("snapshot", "required"),
            "required: false needs a reason: say in snapshot.reason why this target may go without a snapshot",
        )
    if snapshot.required and snapshot.reason is not None:
        yield Problem(
            ("snapshot", "reason"),
            "reason explains required: false, and this snapshot is required; drop reason or waive the snapshot",
        )


def _snapshot_naming(model: PlaybookModel) -> Iterator[Problem]:
    snapshot = model.snapshot
    assert snapshot is not None
    problem = template_problem(snapshot.identifier)
    if problem is not None:
        yield Problem(("snapshot", "identifier"), problem)
    elif "{utc" not in snapshot.identifier and "{run_id" not in snapshot.identifier:
        yield Problem(
            ("snapshot", "identifier"),
            f"{snapshot.identifier!r} gives every run the same snapshot name, and RDS refuses a second snapshot "
            "under a name in use; include {utc:%Y%m%d%H%M} or {run_id}",
        )
    for index, alias in enumerate(snapshot.endpoint_aliases):
        if not _HOST.match(alias):
            yield Problem(
                ("snapshot", "endpoint_aliases", index),
                f"{alias!r} is not a host name or address as it appears in the database URL",
            )
    reuse = snapshot.reuse
    if reuse is None:
        return
    if reuse.snapshot_id is not None and not is_snapshot_id(reuse.snapshot_id):
        yield Problem(
            ("snapshot", "reuse", "snapshot_id"),
            f"{reuse.snapshot_id!r} is not an RDS snapshot identifier ({SNAPSHOT_ID_RULE})",
        )
    if reuse.max_age is None:
        yield Problem(
            ("snapshot", "reuse"),
            "reuse needs max_age, the oldest snapshot this playbook accepts (such as 6h), so an old snapshot "
            "can't pass for a fresh one",
        )


def health_problems(check: CheckModel) -> Iterator[tuple[str, str]]:
    if isinstance(check, HttpCheck):
        parts = urlsplit(check.http)
        try:
            usable = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 0) >= 0
        except ValueError:
            usable = False
        if not usable:
            yield "http", f"{safe_url(check.http)!r} is not an http:// or https:// URL with a host"
    if isinstance(check, MetricCheck):
        if check.max is None and check.min is None:
            yield "metric", "a metric check needs max, min or both: the bound its value (or rate) must keep"
        if check.period % 60_000 and check.period not in [s * 1000 for s in _PERIODS_S]:
            yield (
                "period",
                f"{format_ms(check.period)} is not a CloudWatch period: 1s, 5s, 10s, 30s or whole minutes",
            )
        elif check.window < check.period:
            yield (
                "window",
                f"the window {format_ms(check.window)} is shorter than one period ({format_ms(check.period)})",
            )
        elif check.window // check.period > MAX_DATAPOINTS:
            yield (
                "window",
                f"the window {format_ms(check.window)} holds more than {MAX_DATAPOINTS} periods of "
                f"{format_ms(check.period)}; make the period longer or the window shorter",
            )


def notify_problems(model: PlaybookModel) -> Iterator[Problem]:
    notify = model.notify
    if notify is None:
        return
    if notify.sns_topic_arn is None and notify.webhook_url_env is None:
        yield Problem(("notify",), "notify needs sns_topic_arn, webhook_url_env or both")
    if notify.sns_topic_arn is not None and not _SNS_TOPIC.match(notify.sns_topic_arn):
        yield Problem(
            ("notify", "sns_topic_arn"),
            f"{notify.sns_topic_arn!r} is not an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:deploys",
        )
