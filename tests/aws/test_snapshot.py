"""Snapshots before the first step: taken, tagged, waited on, recorded; reused only when fresh and ours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber

from runner.aws import identifiers
from runner.aws.snapshot import RunFacts, SnapshotRecord, reuse_snapshot, take_snapshot
from runner.aws.waiting import Progress
from runner.errors import ExitCode, Refused, Unreachable
from tests.aws.conftest import cluster_spec, instance_spec, make_cluster, make_instance

FACTS = RunFacts(
    run_id="01JRUN",
    target_name="credmate-prod",
    prior="20260115_0200",
    target="20260131_0000",
    operator="alice",
)
NOW = datetime(2026, 2, 10, 7, 5, tzinfo=UTC)


def _tags(rds: Any, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in rds.list_tags_for_resource(ResourceName=arn)["TagList"]}


def test_instance_snapshot_is_created_tagged_waited_on_and_recorded(rds, network):
    """create_db_snapshot with the run's tags; the waiter's polls reach the progress callback; a full record returns."""
    make_instance(rds, network)
    seen: list[Progress] = []

    record = take_snapshot(rds, instance_spec(), FACTS, now=lambda: NOW, on_progress=seen.append)

    assert record.identifier == "pre-migration-credmate-prod-20260115-0200-202602100705"
    assert record.kind == "db-snapshot" and record.source == "credmate-prod" and not record.reused
    assert record.arn == f"arn:aws:rds:us-east-1:123456789012:snapshot:{record.identifier}"
    assert record.status == "available" and record.created_at is not None
    assert [(p.what, p.status) for p in seen] == [(f"DB snapshot {record.identifier}", "available")]
    assert _tags(rds, record.arn) == {
        "migration-runner:run-id": "01JRUN",
        "migration-runner:target": "credmate-prod",
        "migration-runner:prior-revision": "20260115_0200",
        "migration-runner:target-revision": "20260131_0000",
        "migration-runner:operator": "alice",
        "change": "blueshift-schema-sync",
        "ticket": "OPS-2026-0210",
    }
    event = record.as_event()
    assert event["snapshot_id"] == record.identifier and event["snapshot_kind"] == "db-snapshot"
    assert SnapshotRecord.from_event(event).identifier == record.identifier


def test_cluster_snapshot_is_created_tagged_and_waited_on(rds, network):
    """An Aurora cluster gets a DB cluster snapshot, named within the 63-character cluster limit."""
    make_cluster(rds, network)
    seen: list[Progress] = []

    record = take_snapshot(rds, cluster_spec(), FACTS, now=lambda: NOW, on_progress=seen.append)

    assert record.kind == "db-cluster-snapshot" and record.source == "credmate-aurora"
    assert record.arn.endswith(f":cluster-snapshot:{record.identifier}")
    assert len(record.identifier) <= identifiers.CLUSTER_SNAPSHOT_MAX
    assert seen and seen[-1].status == "available" and seen[-1].percent == 100
    assert _tags(rds, record.arn)["migration-runner:run-id"] == "01JRUN"
    found = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=record.identifier)[
        "DBClusterSnapshots"
    ]
    assert found[0]["DBClusterIdentifier"] == "credmate-aurora"


def test_snapshot_names_are_valid_rds_identifiers():
    """Underscores, dots, capitals, a leading digit and long names all become a valid identifier that stays unique."""
    values = {"target_name": "Credmate_Prod", "prior": "7702d353e5b8", "utc": NOW}
    name = identifiers.snapshot_identifier("{prior}..{target_name}--{utc:%Y%m%d%H%M}-", values, cluster=False)
    assert name == "s-7702d353e5b8-credmate-prod-202602100705"
    assert identifiers.is_valid(name, identifiers.DB_SNAPSHOT_MAX)
    long_a = identifiers.snapshot_identifier("x" * 80 + "-{target_name}", {"target_name": "a"}, cluster=True)
    long_b = identifiers.snapshot_identifier("x" * 80 + "-{target_name}", {"target_name": "b"}, cluster=True)
    assert len(long_a) == identifiers.CLUSTER_SNAPSHOT_MAX and long_a != long_b
    assert identifiers.is_valid(long_a, identifiers.CLUSTER_SNAPSHOT_MAX)
    assert identifiers.snapshot_identifier(
        identifiers.DEFAULT_TEMPLATE, {"target_name": "t", "utc": NOW}, cluster=False
    ) == ("pre-migration-t-base-202602100705")


def test_a_name_already_in_use_is_refused(rds, network):
    """Two runs in the same minute would collide: the second is refused with the reuse command, not an AWS error."""
    make_instance(rds, network)
    first = take_snapshot(rds, instance_spec(), FACTS, now=lambda: NOW)

    with pytest.raises(Refused) as caught:
        take_snapshot(rds, instance_spec(), FACTS, now=lambda: NOW)

    assert caught.value.exit_code == ExitCode.REFUSED
    assert str(caught.value) == (
        f"A DB snapshot named {first.identifier} already exists, so this run can't take a new one under that name; "
        f"no step ran. Next: reuse it with --snapshot-id {first.identifier} if it was taken for this change, or wait "
        "a minute so the name's timestamp moves on."
    )


# -- reuse ---------------------------------------------------------------------------------------
def test_a_fresh_snapshot_of_this_instance_is_reused(rds, network):
    """Available, of credmate-prod, younger than max_age: accepted, and recorded as reused."""
    make_instance(rds, network)
    rds.create_db_snapshot(DBSnapshotIdentifier="before-blueshift", DBInstanceIdentifier="credmate-prod")
    spec = instance_spec(reuse_max_age_ms=6 * 3600_000)

    record = reuse_snapshot(rds, "before-blueshift", spec)

    assert (record.identifier, record.kind, record.source, record.reused) == (
        "before-blueshift",
        "db-snapshot",
        "credmate-prod",
        True,
    )
    assert record.arn.endswith(":snapshot:before-blueshift")


def test_a_snapshot_of_another_instance_is_not_reused(rds, network):
    """A snapshot of credmate-staging can't stand in for credmate-prod's."""
    make_instance(rds, network)
    make_instance(rds, network, "credmate-staging")
    rds.create_db_snapshot(DBSnapshotIdentifier="staging-copy", DBInstanceIdentifier="credmate-staging")

    with pytest.raises(Refused) as caught:
        reuse_snapshot(rds, "staging-copy", instance_spec(reuse_max_age_ms=3600_000))

    assert str(caught.value) == (
        "DB snapshot staging-copy can't be reused for this run: it is a snapshot of RDS instance credmate-staging, "
        "not of RDS instance credmate-prod. No step ran. Next: run without --snapshot-id to take a new snapshot."
    )


def test_a_snapshot_older_than_max_age_is_not_reused(rds, network):
    """Seven hours old against a six-hour limit: refused, with both ages said."""
    make_instance(rds, network)
    created = rds.create_db_snapshot(DBSnapshotIdentifier="last-night", DBInstanceIdentifier="credmate-prod")
    later = created["DBSnapshot"]["SnapshotCreateTime"] + timedelta(hours=7)

    with pytest.raises(Refused) as caught:
        reuse_snapshot(rds, "last-night", instance_spec(reuse_max_age_ms=6 * 3600_000), now=lambda: later)

    assert caught.value.message == (
        "DB snapshot last-night can't be reused for this run: it is 7h old, older than snapshot.reuse.max_age (6h). "
        "No step ran."
    )


def test_a_snapshot_not_yet_available_is_not_reused(stub_rds):
    """A snapshot still being created is no fallback yet."""
    client, stubber = stub_rds
    stubber.add_response(
        "describe_db_snapshots",
        {
            "DBSnapshots": [
                {
                    "DBSnapshotIdentifier": "in-progress",
                    "DBInstanceIdentifier": "credmate-prod",
                    "Status": "creating",
                    "PercentProgress": 40,
                    "SnapshotCreateTime": NOW,
                }
            ]
        },
        {"DBSnapshotIdentifier": "in-progress"},
    )

    with pytest.raises(Refused) as caught:
        reuse_snapshot(client, "in-progress", instance_spec(reuse_max_age_ms=3600_000), now=lambda: NOW)

    assert caught.value.message == (
        "DB snapshot in-progress can't be reused for this run: it is creating, not available. No step ran."
    )


def test_reuse_without_a_max_age_is_refused_before_asking_aws(stub_rds):
    """Without snapshot.reuse.max_age any old snapshot would pass: refused, and AWS is not even asked."""
    client, _stubber = stub_rds  # no responses queued: a call would fail the test

    with pytest.raises(Refused) as caught:
        reuse_snapshot(client, "anything", instance_spec())

    assert "sets no snapshot.reuse.max_age" in caught.value.message


def test_a_missing_snapshot_is_not_reused(rds, network):
    """A snapshot id that does not exist: refused, naming it."""
    make_instance(rds, network)
    with pytest.raises(Refused) as caught:
        reuse_snapshot(rds, "no-such-snapshot", instance_spec(reuse_max_age_ms=3600_000))
    assert caught.value.message == "There is no DB snapshot no-such-snapshot in this account and region."


# -- waiting: timeouts, failures, throttling (botocore's Stubber) --------------------------------------
NAME = "pre-migration-credmate-prod-20260115-0200-202602100705"


def _created(stubber: Stubber) -> None:
    stubber.add_response(
        "create_db_snapshot",
        {
            "DBSnapshot": {
                "DBSnapshotIdentifier": NAME,
                "DBSnapshotArn": f"arn:aws:rds:us-east-1:1:snapshot:{NAME}",
            }
        },
    )


def _polled(stubber: Stubber, status: str, percent: int | None = None) -> None:
    item: dict[str, Any] = {
        "DBSnapshotIdentifier": NAME,
        "DBInstanceIdentifier": "credmate-prod",
        "Status": status,
    }
    if percent is not None:
        item["PercentProgress"] = percent
    stubber.add_response("describe_db_snapshots", {"DBSnapshots": [item]}, {"DBSnapshotIdentifier": NAME})


def test_a_snapshot_not_available_within_the_ceiling_is_refused(stub_rds):
    """The waiter gives up at wait_ceiling: exit 4, the snapshot's id in the message, every poll reported."""
    client, stubber = stub_rds
    _created(stubber)
    for percent in (10, 35, 60, 85):
        _polled(stubber, "creating", percent)
    seen: list[Progress] = []

    with pytest.raises(Refused) as caught:
        take_snapshot(
            client,
            instance_spec(wait_ceiling_ms=30),
            FACTS,
            now=lambda: NOW,
            on_progress=seen.append,
            delay_s=0.01,
        )

    assert caught.value.exit_code == ExitCode.REFUSED
    assert str(caught.value) == (
        f"The DB snapshot {NAME} of RDS instance credmate-prod was not available within the wait ceiling of 30ms "
        "(still creating, 85% done), so the run has no snapshot to fall back on yet; no step ran. Next: look at it "
        f"with aws rds describe-db-snapshots --db-snapshot-identifier {NAME}; once it is available, run again with "
        f"--snapshot-id {NAME} (within snapshot.reuse.max_age), or raise snapshot.wait_ceiling."
    )
    assert [p.percent for p in seen] == [10, 35, 60, 85]
    stubber.assert_no_pending_responses()


def test_a_snapshot_that_fails_is_refused(stub_rds):
    """A terminal status (failed) ends the wait at once: exit 4, saying it never turns available."""
    client, stubber = stub_rds
    _created(stubber)
    _polled(stubber, "creating", 5)
    _polled(stubber, "failed")

    with pytest.raises(Refused) as caught:
        take_snapshot(client, instance_spec(), FACTS, now=lambda: NOW, delay_s=0.01)

    assert caught.value.message == (
        f"The DB snapshot {NAME} of RDS instance credmate-prod became failed, which never turns available, so the "
        "run has no snapshot to fall back on; no step ran."
    )


def test_throttling_that_outlasts_the_retries_is_unreachable(stub_rds):
    """AWS answering Throttling during the wait (after botocore's own retries): exit 6, the snapshot named."""
    client, stubber = stub_rds
    _created(stubber)
    _polled(stubber, "creating", 20)
    stubber.add_client_error(
        "describe_db_snapshots",
        service_error_code="Throttling",
        service_message="Rate exceeded",
        http_status_code=400,
    )

    with pytest.raises(Unreachable) as caught:
        take_snapshot(client, instance_spec(), FACTS, now=lambda: NOW, delay_s=0.01)

    assert caught.value.exit_code == ExitCode.UNREACHABLE
    assert caught.value.message == (
        f"AWS kept answering Throttling while waiting for DB snapshot {NAME} of RDS instance credmate-prod, "
        "1 attempt(s) with backoff "
        "(Rate exceeded)."
    )
    assert NAME in str(caught.value)


def test_a_snapshot_not_yet_visible_right_after_creation_is_waited_for(stub_rds):
    """describe may not see a brand-new snapshot yet (eventual consistency): bounded retries, then it is waited on."""
    client, stubber = stub_rds
    _created(stubber)
    stubber.add_client_error(
        "describe_db_snapshots", service_error_code="DBSnapshotNotFound", http_status_code=404
    )
    _polled(stubber, "creating", 50)
    _polled(stubber, "available", 100)
    _polled(stubber, "available", 100)  # read once more for its creation time
    slept: list[float] = []

    record = take_snapshot(client, instance_spec(), FACTS, now=lambda: NOW, delay_s=0.01, sleep=slept.append)

    assert record.status == "available" and record.identifier == NAME
    assert slept == [0.01]  # one tenacity wait between the not-found and the next waiter
    stubber.assert_no_pending_responses()


def test_create_refused_by_aws_is_refused_naming_the_instance(stub_rds):
    """AccessDenied on create_db_snapshot: exit 4, one paragraph naming snapshot and instance, no traceback text."""
    client, stubber = stub_rds
    stubber.add_client_error(
        "create_db_snapshot",
        service_error_code="AccessDenied",
        service_message="User: arn:aws:iam::1:user/migrator is not authorized to perform: rds:CreateDBSnapshot",
        http_status_code=403,
    )

    with pytest.raises(Refused) as caught:
        take_snapshot(client, instance_spec(), FACTS, now=lambda: NOW)

    assert str(caught.value) == (
        f"AWS refused creating DB snapshot {NAME} of RDS instance credmate-prod: AccessDenied: User: "
        "arn:aws:iam::1:user/migrator is not authorized to perform: rds:CreateDBSnapshot. Next: no step ran; fix the "
        "cause and run the same command again."
    )
