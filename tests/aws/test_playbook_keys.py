"""The playbook keys for the AWS side: read into the frozen values runner.aws takes."""

from __future__ import annotations

import textwrap

from runner.aws.health import HttpHealth, MetricHealth, MetricQuery
from runner.aws.identifiers import DEFAULT_TEMPLATE
from runner.aws.specs import NotifySpec
from runner.playbook import load_playbook

PLAYBOOK = """\
version: 1
project:
  alembic_config: alembic.ini
target:
  name: credmate-prod
  environment: production
  url_env: CREDMATE_PROD_DATABASE_URL
snapshot:
  rds_instance: credmate-prod
  region: us-east-1
  identifier: "before-{target}-{run_id}"
  endpoint_aliases: [pgbouncer.credmate.internal, 10.0.1.17]
  reuse:
    max_age: 6h
  tags:
    change: blueshift-schema-sync
notify:
  sns_topic_arn: arn:aws:sns:us-east-1:123456789012:credmate-deploys
  webhook_url_env: CREDMATE_SLACK_WEBHOOK
  required: true
checks:
  settle: 30s
  before:
    - http: https://credmate.example.com/healthz
      contains: '"ok"'
  after_all:
    - name: 5xx rate
      metric: HTTPCode_Target_5XX_Count
      namespace: AWS/ApplicationELB
      dimensions: {LoadBalancer: app/credmate/50dc6c495c0c9188}
      per: RequestCount
      period: 1min
      window: 5min
      max: 0.01
steps:
  20260131_0000:
    settle: 2min
    checks:
      - metric: TargetResponseTime
        namespace: AWS/ApplicationELB
        statistic: Average
        per: {metric: RequestCount, statistic: Sum}
        max: 0.5
        missing: ok
"""


def test_the_aws_keys_become_frozen_values(tmp_path):
    """snapshot.identifier/endpoint_aliases/reuse, notify, http and metric checks, and settle, as runner.aws reads them."""
    path = tmp_path / "prod.yaml"
    path.write_text(textwrap.dedent(PLAYBOOK))

    book = load_playbook(path)

    snapshot = book.snapshot
    assert snapshot is not None
    assert (snapshot.identifier, snapshot.endpoint_aliases) == (
        "before-{target}-{run_id}",
        ("pgbouncer.credmate.internal", "10.0.1.17"),
    )
    assert (snapshot.reuse_snapshot_id, snapshot.reuse_max_age_ms, snapshot.reason) == (
        None,
        6 * 3600_000,
        None,
    )
    assert book.notify == NotifySpec(
        "arn:aws:sns:us-east-1:123456789012:credmate-deploys", "CREDMATE_SLACK_WEBHOOK", required=True
    )
    (http,) = book.checks.before
    assert http == HttpHealth(
        "https://credmate.example.com/healthz",
        200,
        '"ok"',
        10_000,
        "http https://credmate.example.com/healthz",
    )
    (rate,) = book.checks.after_all
    assert isinstance(rate, MetricHealth) and rate.label == "5xx rate"
    dims = (("LoadBalancer", "app/credmate/50dc6c495c0c9188"),)
    assert rate.metric == MetricQuery("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", dims, "Sum")
    assert rate.per == MetricQuery("AWS/ApplicationELB", "RequestCount", dims, "Sum")
    assert (rate.period_s, rate.window_ms, rate.max, rate.min, rate.missing_ok) == (
        60,
        300_000,
        0.01,
        None,
        False,
    )
    (latency,) = book.rules_for("20260131_0000").checks
    assert latency.per == MetricQuery("AWS/ApplicationELB", "RequestCount", (), "Sum") and latency.missing_ok
    assert book.settle_ms_for("20260131_0000") == 120_000
    assert book.settle_ms_for("20260127_0100") == 30_000


def test_the_defaults_when_the_keys_are_absent(tmp_path):
    """No identifier: the default template; no aliases, no reuse, no notify, no settle."""
    path = tmp_path / "staging.yaml"
    path.write_text(
        "version: 1\nproject: {alembic_config: alembic.ini}\n"
        "target: {name: credmate-staging, environment: staging, url_env: STAGING_URL}\n"
        "snapshot: {required: false, reason: staging is rebuilt from production every night}\n"
    )

    book = load_playbook(path)

    assert book.snapshot is not None and book.snapshot.identifier == DEFAULT_TEMPLATE
    assert book.snapshot.reason == "staging is rebuilt from production every night"
    assert (book.snapshot.endpoint_aliases, book.snapshot.reuse_max_age_ms, book.notify) == ((), None, None)
    assert book.settle_ms_for("anything") == 0
