"""The client factory over real HTTP: AWS_ENDPOINT_URL pointing at a moto server, as a rehearsal will use it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from moto.server import ThreadedMotoServer

from runner.aws.anchor import anchor_run
from runner.aws.clients import AwsSettings, client_factory
from runner.aws.snapshot import RunFacts
from runner.aws.waiting import Progress
from tests.aws.conftest import REGION, instance_spec

FACTS = RunFacts("01JRUN", "credmate-prod", "20260115_0200", "20260131_0000", "alice")
NOW = datetime(2026, 2, 10, 7, 5, tzinfo=UTC)


@pytest.fixture
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_snapshot_over_http_through_aws_endpoint_url(aws_profile, moto_server, monkeypatch):
    """AwsSettings.resolve reads AWS_ENDPOINT_URL; prove, create and wait all go over HTTP to the moto server."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_PROFILE", aws_profile)
    settings = AwsSettings.resolve(region=REGION)
    assert settings.endpoint_url == moto_server
    clients = client_factory(settings)
    rds = clients("rds")
    rds.create_db_instance(
        DBInstanceIdentifier="credmate-prod",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        MasterUsername="credmate",
        MasterUserPassword="not-a-real-password-1",
        AllocatedStorage=20,
    )
    seen: list[Progress] = []
    endpoint = "credmate-prod.aaaaaaaaaa.us-east-1.rds.amazonaws.com"

    anchor = anchor_run(rds, instance_spec(), FACTS, endpoint, on_progress=seen.append, now=lambda: NOW)

    assert anchor.snapshot.identifier == "pre-migration-credmate-prod-20260115-0200-202602100705"
    assert rds.meta.endpoint_url == moto_server
    assert [p.status for p in seen] == ["available"]
    found = rds.describe_db_snapshots(DBSnapshotIdentifier=anchor.snapshot.identifier)["DBSnapshots"][0]
    assert found["Status"] == "available" and found["DBInstanceIdentifier"] == "credmate-prod"
