"""A production run end to end: the CLI against a moto server over HTTP and a database reached by its RDS name.

The runner runs as a subprocess in a mount namespace of its own, where
``/etc/hosts`` maps the moto instance's endpoint name to 127.0.0.1, so the
database URL names the RDS endpoint exactly as in production and the endpoint
proof resolves it for real. Health checks are served by a local HTTP server,
CloudWatch and SNS by moto, the webhook by another local server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from runner.audit import verify_file
from tests import pg
from tests.cli import ROOT
from tests.conftest import EXAMPLE_HEAD, PRODUCTION_REVISION
from tests.faults import waiting_on

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYsecret"
TOKEN = "FwoGZXIvYXdzEXAMPLE-session-token-9f8e7d6c"
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
REGION = "us-east-1"
INSTANCE = "credmate-prod"

PLAYBOOK = """\
version: 1
project:
  alembic_config: {ini}
  from_revision: "20260115_0200"
  target_revision: "20260131_0000"
target:
  name: credmate-prod
  environment: production
  url_env: PROD_URL
audit:
  log: {audit}
on_failure: halt
snapshot:
  rds_instance: credmate-prod
  region: us-east-1
  identifier: "pre-migration-{{target_name}}-{{prior}}-{{run_id}}"
notify:
  sns_topic_arn: {topic}
  webhook_url_env: DEPLOY_WEBHOOK
steps:
  "20260131_0000":
    on_failure: rollback
    rollback_to: "7702d353e5b8"
    checks:
      - http: http://127.0.0.1:{health_port}/healthz
        contains: ok
      - metric: HTTPCode_Target_5XX_Count
        name: 5xx rate
        namespace: AWS/ApplicationELB
        dimensions: {{LoadBalancer: app/credmate/1}}
        statistic: Sum
        per: RequestCount
        period: 1min
        window: 10min
        max: 0.05
        missing: ok
"""


class Answers:
    """What the local health endpoint answers, and what the webhook received."""

    def __init__(self) -> None:
        self.status = 200
        self.webhook: list[dict[str, object]] = []


def _server(answers: Answers) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"ok" if answers.status == 200 else b"unavailable"
            self.send_response(answers.status)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            answers.webhook.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_server, monkeypatch):
    """boto3 in this process pointed at the moto server, with credentials the runner must never print.

    moto's state is reset first: each test starts from one RDS instance and no metrics.
    """
    import urllib.request

    import boto3

    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"), timeout=10)

    for name, value in {
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_SESSION_TOKEN": TOKEN,
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    rds = boto3.client("rds", region_name=REGION, endpoint_url=moto_server)
    rds.create_db_instance(
        DBInstanceIdentifier=INSTANCE,
        DBInstanceClass="db.t3.medium",
        Engine="postgres",
        MasterUsername="postgres",
        MasterUserPassword="not-used-here",
        AllocatedStorage=20,
    )
    return boto3.session.Session(region_name=REGION)


def _isolated(command: list[str], hosts: Path) -> list[str]:
    """``command`` in a mount namespace whose /etc/hosts is ``hosts``."""
    quoted = " ".join(f"'{part}'" for part in command)
    return ["unshare", "-m", "sh", "-c", f"mount --bind '{hosts}' /etc/hosts && exec {quoted}"]


@pytest.fixture
def isolation(tmp_path) -> Path:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare for a private /etc/hosts entry (the RDS endpoint name)")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"unshare -m is not allowed here: {probe.stderr.decode().strip()}")
    return tmp_path


def _setup(session, production_db: str, tmp_path: Path, health: ThreadingHTTPServer, webhook):
    """The playbook, the private /etc/hosts, the environment and an SQS queue on the SNS topic."""
    rds = session.client("rds")
    endpoint = rds.describe_db_instances(DBInstanceIdentifier=INSTANCE)["DBInstances"][0]["Endpoint"][
        "Address"
    ]
    hosts = tmp_path / "hosts"
    hosts.write_text(Path("/etc/hosts").read_text() + f"\n127.0.0.1 {endpoint}\n")
    sns, sqs = session.client("sns"), session.client("sqs")
    topic = sns.create_topic(Name="credmate-deploys")["TopicArn"]
    queue = sqs.create_queue(QueueName=f"deploys-{tmp_path.name[-12:]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    audit = tmp_path / "audit.jsonl"
    playbook = tmp_path / "prod.yaml"
    playbook.write_text(
        PLAYBOOK.format(
            ini=ROOT / "examples" / "credentialmate" / "alembic.ini",
            audit=audit,
            topic=topic,
            health_port=health.server_address[1],
        )
    )
    url = f"postgresql://postgres@{endpoint}:5432/{production_db}"
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "PROD_URL": url,
        "DEPLOY_WEBHOOK": f"http://127.0.0.1:{webhook.server_address[1]}/hooks/T0KEN-in-the-url",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    return playbook, audit, hosts, env, queue


def _runner(*args: str) -> list[str]:
    return [sys.executable, "-m", "runner", *args, "--yes", "--confirm-target", "credmate-prod"]


def _run(session, production_db: str, tmp_path: Path, answers: Answers, health: ThreadingHTTPServer, webhook):
    playbook, audit, hosts, env, queue = _setup(session, production_db, tmp_path, health, webhook)
    proc = subprocess.run(
        _isolated(_runner("apply", "--playbook", str(playbook)), hosts),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    sqs = session.client("sqs")
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
        "Messages", []
    )
    notes = [json.loads(m["Body"]).get("Message", "") for m in messages]
    return proc, audit, notes


def _events(audit: Path) -> list[dict]:
    return [json.loads(line) for line in audit.read_text().splitlines()]


def _assert_no_secrets(*texts: str) -> None:
    for text in texts:
        for secret in (SECRET, TOKEN, "T0KEN-in-the-url"):
            assert secret not in text


def test_a_production_run_is_anchored_on_its_snapshot_and_its_checks_pass(
    aws, isolation, filled_production_db, tmp_path
):
    """Snapshot proven, taken and recorded before the first step; the steps applied; the health check passes."""
    answers = Answers()
    health, webhook = _server(answers), _server(answers)
    try:
        proc, audit, notes = _run(aws, filled_production_db, tmp_path, answers, health, webhook)
    finally:
        health.shutdown()
        webhook.shutdown()

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert pg.heads(filled_production_db) == [EXAMPLE_HEAD]
    events = _events(audit)
    names = [e["event"] for e in events]
    assert names.index("endpoint_proven") < names.index("snapshot_available") < names.index("step_started")
    (snapshot,) = [e for e in events if e["event"] == "snapshot_available"]
    assert snapshot["snapshot_id"].startswith("pre-migration-credmate-prod-20260115-0200-2026")
    assert snapshot["snapshot_arn"].startswith("arn:aws:rds:us-east-1:")
    with pg.connect(filled_production_db) as conn:
        row = conn.execute(
            "SELECT snapshot_id, snapshot_arn FROM runner_history WHERE kind = 'run' ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert row == (snapshot["snapshot_id"], snapshot["snapshot_arn"])
    snapshots = aws.client("rds").describe_db_snapshots(DBInstanceIdentifier=INSTANCE)["DBSnapshots"]
    tags = {t["Key"]: t["Value"] for t in snapshots[-1].get("TagList", [])}
    assert tags.get("prior-revision") == PRODUCTION_REVISION or PRODUCTION_REVISION in tags.values()
    assert any(e["event"] == "check_passed" and e["check"].startswith("http") for e in events)
    assert any("started a migration" in note for note in notes) and any("the run ended" in n for n in notes)
    assert [w["text"] for w in answers.webhook if "the run ended" in str(w["text"])]
    assert verify_file(audit).ok
    _assert_no_secrets(proc.stdout, proc.stderr, audit.read_text(), *notes, json.dumps(answers.webhook))


def test_a_failing_health_check_after_the_last_step_rolls_it_back(
    aws, isolation, filled_production_db, tmp_path
):
    """The health endpoint answers 503: the BlueShift step's policy rolls it back (exit 5), and everyone hears."""
    answers = Answers()
    answers.status = 503
    health, webhook = _server(answers), _server(answers)
    try:
        proc, audit, notes = _run(aws, filled_production_db, tmp_path, answers, health, webhook)
    finally:
        health.shutdown()
        webhook.shutdown()

    assert proc.returncode == 5, proc.stdout + proc.stderr
    assert pg.heads(filled_production_db) == ["7702d353e5b8"]
    events = _events(audit)
    failed = [e for e in events if e["event"] == "check_failed"]
    assert failed and failed[0]["check"].startswith("http") and "503" in str(failed[0]["found"])
    assert [e["action"] for e in events if e["event"] == "decision_made"] == ["rollback"]
    assert any("rollback decided" in note for note in notes)
    _assert_no_secrets(proc.stdout, proc.stderr, audit.read_text(), *notes, json.dumps(answers.webhook))


def test_a_5xx_rate_over_its_limit_triggers_the_steps_policy(aws, isolation, filled_production_db, tmp_path):
    """CloudWatch (moto) reports 10 errors in 100 requests: over the 5% limit, the step is rolled back."""
    cloudwatch = aws.client("cloudwatch")
    now = datetime.now(UTC)
    dims = [{"Name": "LoadBalancer", "Value": "app/credmate/1"}]
    cloudwatch.put_metric_data(
        Namespace="AWS/ApplicationELB",
        MetricData=[
            {"MetricName": "HTTPCode_Target_5XX_Count", "Dimensions": dims, "Timestamp": now, "Value": 10.0},
            {"MetricName": "RequestCount", "Dimensions": dims, "Timestamp": now, "Value": 100.0},
        ],
    )
    answers = Answers()
    health, webhook = _server(answers), _server(answers)
    try:
        proc, audit, _notes = _run(aws, filled_production_db, tmp_path, answers, health, webhook)
    finally:
        health.shutdown()
        webhook.shutdown()

    assert proc.returncode == 5, textwrap.shorten(proc.stdout + proc.stderr, 3000)
    failed = [e for e in _events(audit) if e["event"] == "check_failed"]
    assert [e["check"] for e in failed] == ["5xx rate"]
    assert pg.heads(filled_production_db) == ["7702d353e5b8"]


def test_restore_from_the_runs_log_prints_the_runbook_and_executes_into_a_new_instance(
    aws, isolation, filled_production_db, tmp_path
):
    """runner restore --audit-log: the exact calls; --execute --yes makes a new instance, the original untouched."""
    answers = Answers()
    health, webhook = _server(answers), _server(answers)
    try:
        proc, audit, _notes = _run(aws, filled_production_db, tmp_path, answers, health, webhook)
    finally:
        health.shutdown()
        webhook.shutdown()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rds = aws.client("rds")
    before = rds.describe_db_instances(DBInstanceIdentifier=INSTANCE)["DBInstances"][0]
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    runner = [sys.executable, "-m", "runner", "restore", "--audit-log", str(audit)]

    plan = subprocess.run(runner, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert plan.returncode == 0, plan.stderr
    snapshot = next(e for e in _events(audit) if e["event"] == "snapshot_available")["snapshot_id"]
    assert "restore-db-instance-from-db-snapshot" in plan.stdout and snapshot in plan.stdout

    refused = subprocess.run(
        [*runner, "--execute"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 4 and "needs --yes" in refused.stderr

    done = subprocess.run(
        [*runner, "--execute", "--yes", "--new-identifier", "credmate-prod-restored"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    restored = rds.describe_db_instances(DBInstanceIdentifier="credmate-prod-restored")["DBInstances"][0]
    assert restored["DBInstanceStatus"] == "available"
    after = rds.describe_db_instances(DBInstanceIdentifier=INSTANCE)["DBInstances"][0]
    assert {k: after[k] for k in ("DBInstanceStatus", "DBInstanceClass", "Endpoint")} == {
        k: before[k] for k in ("DBInstanceStatus", "DBInstanceClass", "Endpoint")
    }
    calls = [e for e in _events(audit) if e["event"] == "restore_call_made"]
    assert calls and all(c["ok"] for c in calls)
    assert verify_file(audit).ok
    _assert_no_secrets(plan.stdout, plan.stderr, done.stdout, done.stderr, audit.read_text())


def test_a_killed_production_run_resumes_on_its_own_snapshot(aws, isolation, filled_production_db, tmp_path):
    """SIGKILL while the last step waits for a lock, after the snapshot: resume reuses that snapshot (no
    second one), reaches the target, and the log links both runs."""
    import signal

    import psycopg

    answers = Answers()
    health, webhook = _server(answers), _server(answers)
    try:
        playbook, audit, hosts, env, _queue = _setup(aws, filled_production_db, tmp_path, health, webhook)
        reader = psycopg.connect(pg.url_for(filled_production_db))
        reader.execute("SELECT count(*) FROM providers").fetchone()  # the BlueShift step waits behind it
        proc = subprocess.Popen(
            _isolated(_runner("apply", "--playbook", str(playbook)), hosts),
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = datetime.now(UTC).timestamp() + 120
        while not waiting_on(pg.url_for(filled_production_db), "providers"):
            assert datetime.now(UTC).timestamp() < deadline and proc.poll() is None, proc.communicate()
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
        reader.close()

        resumed = subprocess.run(
            _isolated(_runner("resume", "--audit-log", str(audit)), hosts),
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
    finally:
        health.shutdown()
        webhook.shutdown()

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert pg.heads(filled_production_db) == [EXAMPLE_HEAD]
    log = _events(audit)
    taken = [e for e in log if e["event"] == "snapshot_available"]
    assert len(taken) == 2 and taken[0]["snapshot_id"] == taken[1]["snapshot_id"]
    manual = aws.client("rds").describe_db_snapshots(DBInstanceIdentifier=INSTANCE, SnapshotType="manual")
    assert [s["DBSnapshotIdentifier"] for s in manual["DBSnapshots"]] == [taken[0]["snapshot_id"]]
    (link,) = [e for e in log if e["event"] == "run_resumed"]
    assert link["snapshot_id"] == taken[0]["snapshot_id"] and link["ended"] == "killed"
    assert verify_file(audit).ok
    _assert_no_secrets(resumed.stdout, resumed.stderr, audit.read_text())
