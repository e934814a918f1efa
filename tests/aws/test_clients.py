"""boto3 clients from the usual sources; every botocore failure becomes one paragraph and a documented exit code."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from runner.aws.clients import AwsSettings, BotoClients
from runner.aws.snapshot import RunFacts, take_snapshot
from runner.errors import ConfigError, ExitCode, Refused, Unreachable
from runner.redact import MASK, redact
from tests.aws.conftest import ACCESS_KEY, REGION, SECRET_KEY, SESSION_TOKEN, instance_spec

FACTS = RunFacts("01JRUN", "credmate-prod", "20260115_0200", "20260131_0000", "alice")
NOW = datetime(2026, 2, 10, 7, 5, tzinfo=UTC)
NAME = "pre-migration-credmate-prod-20260115-0200-202602100705"
THROTTLED = (
    b'<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>Sender</Type>'
    b"<Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"
)


def test_the_playbook_region_wins_over_the_environment(monkeypatch):
    """snapshot.region first, then AWS_REGION, then AWS_DEFAULT_REGION; AWS_ENDPOINT_URL and AWS_PROFILE are read."""
    env = {
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_ENDPOINT_URL": "http://moto:5000",
    }
    assert AwsSettings.resolve(region="us-east-1", environ=env).region == "us-east-1"
    assert AwsSettings.resolve(environ=env).region == "eu-west-1"
    assert AwsSettings.resolve(environ={"AWS_DEFAULT_REGION": "eu-central-1"}).region == "eu-central-1"
    assert AwsSettings.resolve(environ=env).endpoint_url == "http://moto:5000"
    assert AwsSettings.resolve(environ={"AWS_PROFILE": "ops"}).profile == "ops"
    assert AwsSettings.resolve(environ={}) == AwsSettings()


def test_clients_carry_retry_mode_attempts_and_timeouts(aws_profile):
    """Every client gets botocore's standard retry mode with bounded attempts and both timeouts."""
    settings = AwsSettings(
        region=REGION, profile=aws_profile, max_attempts=7, connect_timeout_s=3, read_timeout_s=9
    )
    client = BotoClients(settings)("rds")
    config = client.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 7}
    assert (config.connect_timeout, config.read_timeout) == (3, 9)
    assert client.meta.region_name == REGION


def test_resolved_credentials_are_registered_as_secrets(aws_profile):
    """The secret key and session token from a profile file (not the environment) are masked everywhere."""
    BotoClients(AwsSettings(region=REGION, profile=aws_profile))("rds")

    text = f"key {SECRET_KEY} token {SESSION_TOKEN} id {ACCESS_KEY}"
    assert redact(text) == f"key {MASK} token {MASK} id {MASK}"


def test_no_credentials_is_unreachable(aws_profile, monkeypatch, tmp_path):
    """Nothing in the environment, the files or an instance role: exit 6, saying where it looked."""
    empty = tmp_path / "empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))

    with pytest.raises(Unreachable) as caught:
        BotoClients(AwsSettings(region=REGION))("rds")

    assert caught.value.exit_code == ExitCode.UNREACHABLE
    assert str(caught.value) == (
        "No AWS credentials were found for AWS us-east-1 (looked in the environment, the shared credentials and "
        "config files, and the instance role). Next: export AWS credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY) and run the same command again."
    )


def test_an_unknown_profile_is_a_configuration_error(aws_profile):
    """AWS_PROFILE naming a profile that does not exist: exit 3, naming it."""
    with pytest.raises(ConfigError) as caught:
        BotoClients(AwsSettings(region=REGION, profile="no-such-profile"))("rds")
    assert caught.value.exit_code == ExitCode.INVALID_INPUT
    assert caught.value.message.startswith(
        "The config profile (no-such-profile) could not be found (while reading"
    )


def test_an_endpoint_that_does_not_answer_is_unreachable(aws_profile):
    """A closed port behind AWS_ENDPOINT_URL: botocore retries, then exit 6 naming the snapshot and the instance."""
    settings = AwsSettings(
        region=REGION, profile=aws_profile, endpoint_url="http://127.0.0.1:9", max_attempts=2
    )
    rds = BotoClients(settings)("rds")

    with pytest.raises(Unreachable) as caught:
        take_snapshot(rds, instance_spec(), FACTS, now=lambda: NOW)

    assert caught.value.message == (
        f"AWS could not be reached while creating DB snapshot {NAME} of RDS instance credmate-prod: Could not "
        'connect to the endpoint URL: "http://127.0.0.1:9/".'
    )
    assert caught.value.next_step == "no step ran; fix the cause and run the same command again."


def test_throttling_is_retried_by_botocore_then_unreachable(aws_profile, local_http):
    """Over real HTTP, Throttling is retried max_attempts times by botocore's standard mode, then exit 6."""
    server = local_http(status=400, body=THROTTLED, content_type="text/xml")
    settings = AwsSettings(region=REGION, profile=aws_profile, endpoint_url=server.url, max_attempts=2)
    rds = BotoClients(settings)("rds")

    with pytest.raises(Unreachable) as caught:
        take_snapshot(rds, instance_spec(), FACTS, now=lambda: NOW)

    assert len(server.received) == 2
    assert all(b"Action=CreateDBSnapshot" in r.body for r in server.received)
    assert caught.value.message == (
        f"AWS kept answering Throttling while creating DB snapshot {NAME} of RDS instance credmate-prod, 2 "
        "attempt(s) with backoff (Rate exceeded)."
    )


def test_an_expired_token_is_unreachable_and_a_refusal_is_refused(stub_rds):
    """ExpiredToken means the credentials can't be used (exit 6); InvalidDBInstanceState is AWS saying no (exit 4)."""
    client, stubber = stub_rds
    stubber.add_client_error(
        "create_db_snapshot", service_error_code="ExpiredToken", service_message="expired"
    )
    stubber.add_client_error(
        "create_db_snapshot",
        service_error_code="InvalidDBInstanceState",
        service_message="Instance credmate-prod is not currently in the available state.",
    )

    with pytest.raises(Unreachable) as expired:
        take_snapshot(client, instance_spec(), FACTS, now=lambda: NOW)
    with pytest.raises(Refused) as refused:
        take_snapshot(client, instance_spec(), FACTS, now=lambda: NOW)

    assert expired.value.message == (
        f"AWS did not accept the runner's credentials while creating DB snapshot {NAME} of RDS instance "
        "credmate-prod (ExpiredToken: expired); they have expired or are not valid."
    )
    assert refused.value.message == (
        f"AWS refused creating DB snapshot {NAME} of RDS instance credmate-prod: InvalidDBInstanceState: Instance "
        "credmate-prod is not currently in the available state."
    )
