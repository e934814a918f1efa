"""The honest way back: an exact runbook with the original's settings, and a restore into a new identifier only."""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from runner.aws.restore import execute_restore, plan_as_dict, plan_restore, render_runbook
from runner.aws.snapshot import RunFacts, SnapshotRecord, take_snapshot
from runner.aws.waiting import Progress
from runner.errors import Refused
from tests.aws.conftest import REGION, cluster_spec, instance_spec, make_cluster, make_instance

FACTS = RunFacts("01JRUN", "credmate-prod", "20260115_0200", "20260131_0000", "alice")
NOW = datetime(2026, 2, 10, 7, 5, tzinfo=UTC)
LATER = datetime(2026, 2, 10, 7, 40, tzinfo=UTC)
VOLATILE = {"LatestRestorableTime", "ResponseMetadata"}


def _stable(found: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in found.items() if key not in VOLATILE}


def _instance(rds: Any, name: str) -> dict[str, Any]:
    return _stable(rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0])


@pytest.fixture
def prod_snapshot(rds, network) -> SnapshotRecord:
    make_instance(rds, network)
    return take_snapshot(rds, instance_spec(), FACTS, now=lambda: NOW)


def test_the_instance_runbook_copies_the_originals_settings(rds, network, prod_snapshot):
    """Class, subnet group, security groups, parameter and option groups, storage, multi-AZ, port, IAM auth..."""
    plan = plan_restore(rds, prod_snapshot, region=REGION, measured_ms=14 * 60_000, now=lambda: LATER)

    assert plan.new_identifier == "credmate-prod-restored-202602100740"
    (call,) = plan.calls
    assert call.operation == "restore_db_instance_from_db_snapshot"
    assert call.params == {
        "DBInstanceIdentifier": "credmate-prod-restored-202602100740",
        "DBSnapshotIdentifier": prod_snapshot.identifier,
        "DBInstanceClass": "db.r6g.large",
        "DBSubnetGroupName": "credmate-private",
        "VpcSecurityGroupIds": [network.security_group],
        "DBParameterGroupName": "credmate-pg15",
        "OptionGroupName": "credmate-options",
        "AllocatedStorage": 200,
        "StorageType": "gp3",
        "Iops": 12000,
        "StorageThroughput": 500,
        "MultiAZ": True,
        "Port": 5432,
        "PubliclyAccessible": False,
        "EnableIAMDatabaseAuthentication": True,
        "DeletionProtection": True,
        "AutoMinorVersionUpgrade": True,
        "CopyTagsToSnapshot": False,
        "CACertificateIdentifier": "rds-ca-default",
        "BackupRetentionPeriod": 1,
        "Tags": [
            {"Key": "team", "Value": "credentialing"},
            {"Key": "migration-runner:restored-from", "Value": prod_snapshot.identifier},
        ],
    }
    text = render_runbook(plan, audit_log="audit/credmate-prod.jsonl", url_env="CREDMATE_PROD_DATABASE_URL")
    assert text.startswith(
        f"# Restore runbook: RDS instance credmate-prod from snapshot {prod_snapshot.identifier}\n"
    )
    for line in (
        "| DBInstanceClass | db.r6g.large |",
        "| DBSubnetGroupName | credmate-private |",
        f"| VpcSecurityGroupIds | {network.security_group} |",
        "| DBParameterGroupName | credmate-pg15 |",
        "| StorageType | gp3 |",
        "| MultiAZ | yes |",
        'aws rds --region us-east-1 restore-db-instance-from-db-snapshot --cli-input-json \'{"DBInstanceIdentifier": '
        '"credmate-prod-restored-202602100740"',
        "aws rds --region us-east-1 wait db-instance-available --db-instance-identifier "
        "credmate-prod-restored-202602100740",
        "runner restore --audit-log audit/credmate-prod.jsonl --execute --yes --new-identifier "
        "credmate-prod-restored-202602100740",
        "aws rds --region us-east-1 modify-db-instance --db-instance-identifier credmate-prod "
        "--new-db-instance-identifier "
        "credmate-prod-old --apply-immediately",
        "loads its blocks lazily from S3",
        "pg_prewarm",
        "A rehearsal measured this restore at 14min until available",
        "the URL in $CREDMATE_PROD_DATABASE_URL",
    ):
        assert line in text, line
    cli = next(line for line in text.splitlines() if " restore-db-instance-from-db-snapshot " in line)
    assert json.loads(cli.split("--cli-input-json ", 1)[1].strip("'")) == call.params
    python = text.split("```python\n", 1)[1].split("\nrds.get_waiter", 1)[0]
    assert python.startswith("rds.restore_db_instance_from_db_snapshot(**")
    assert (
        ast.literal_eval(python.removeprefix("rds.restore_db_instance_from_db_snapshot(**")[:-1])
        == call.params
    )
    assert plan_as_dict(plan)["calls"][0]["params"] == call.params


def test_the_cluster_runbook_restores_the_cluster_and_creates_its_writer(rds, network):
    """restore_db_cluster_from_snapshot with the cluster's settings, then create_db_instance like the old writer."""
    make_cluster(rds, network)
    snapshot = take_snapshot(rds, cluster_spec(), FACTS, now=lambda: NOW)

    plan = plan_restore(rds, snapshot, region=REGION, now=lambda: LATER)

    restore, writer = plan.calls
    assert restore.operation == "restore_db_cluster_from_snapshot"
    assert {key: restore.params[key] for key in restore.params if key != "Tags"} == {
        "DBClusterIdentifier": "credmate-aurora-restored-202602100740",
        "SnapshotIdentifier": snapshot.identifier,
        "Engine": "aurora-postgresql",
        "EngineVersion": "15.4",
        "Port": 5432,
        "DBSubnetGroupName": "credmate-private",
        "VpcSecurityGroupIds": [network.security_group],
        "DBClusterParameterGroupName": "credmate-aurora15",
        "EnableIAMDatabaseAuthentication": True,
        "DeletionProtection": True,
        "CopyTagsToSnapshot": False,
        "BackupRetentionPeriod": 1,
    }
    assert writer.operation == "create_db_instance"
    assert writer.params == {
        "DBInstanceIdentifier": "credmate-aurora-restored-202602100740-writer",
        "DBClusterIdentifier": "credmate-aurora-restored-202602100740",
        "Engine": "aurora-postgresql",
        "DBInstanceClass": "db.r6g.xlarge",
        "DBParameterGroupName": "credmate-pg15",
        "DBSubnetGroupName": "credmate-private",
        "AutoMinorVersionUpgrade": True,
        "CACertificateIdentifier": "rds-ca-default",
        "PromotionTier": 1,
        "Tags": [],
    }
    assert plan.readers == ("credmate-aurora-2",)
    text = render_runbook(plan)
    for line in (
        "# Restore runbook: Aurora cluster credmate-aurora from snapshot",
        "aws rds --region us-east-1 restore-db-cluster-from-snapshot --cli-input-json",
        "aws rds --region us-east-1 create-db-instance --cli-input-json",
        "aws rds --region us-east-1 wait db-cluster-available --db-cluster-identifier "
        "credmate-aurora-restored-202602100740",
        "| writer DBInstanceClass | db.r6g.xlarge |",
        "| DBClusterParameterGroupName | credmate-aurora15 |",
        "aws rds --region us-east-1 modify-db-cluster --db-cluster-identifier credmate-aurora "
        "--new-db-cluster-identifier "
        "credmate-aurora-old --apply-immediately",
        "reader instances (credmate-aurora-2)",
        "empty buffer cache",
        "No rehearsal has measured a restore yet",
    ):
        assert line in text, line


def test_execute_restores_into_a_new_instance_and_leaves_the_original_untouched(rds, network, prod_snapshot):
    """A new instance with the copied settings; the original described before and after is identical."""
    before = _instance(rds, "credmate-prod")
    plan = plan_restore(rds, prod_snapshot, new_identifier="credmate-prod-restore-test")
    calls: list[str] = []
    seen: list[Progress] = []

    outcome = execute_restore(
        rds,
        plan,
        on_call=lambda c: calls.append(f"{c.operation} {c.ok}"),
        on_progress=seen.append,
        delay_s=0.01,
    )

    assert _instance(rds, "credmate-prod") == before
    restored = _instance(rds, "credmate-prod-restore-test")
    assert restored["DBInstanceStatus"] == "available"
    assert restored["DBInstanceClass"] == "db.r6g.large"
    assert restored["DBSubnetGroup"]["DBSubnetGroupName"] == "credmate-private"
    assert [g["VpcSecurityGroupId"] for g in restored["VpcSecurityGroups"]] == [network.security_group]
    assert restored["DBParameterGroups"][0]["DBParameterGroupName"] == "credmate-pg15"
    assert (restored["MultiAZ"], restored["StorageType"], restored["Iops"]) == (True, "gp3", 12000)
    assert calls == ["restore_db_instance_from_db_snapshot True"]
    assert seen and seen[-1].status == "available"
    assert outcome.new_identifier == "credmate-prod-restore-test"
    assert outcome.endpoint == "credmate-prod-restore-test.aaaaaaaaaa.us-east-1.rds.amazonaws.com"
    assert outcome.describe().startswith("restored into new instance credmate-prod-restore-test at ")


def test_execute_restores_a_cluster_and_its_writer(rds, network):
    """A new cluster and a writer in it; the original cluster and its members unchanged."""
    make_cluster(rds, network)
    snapshot = take_snapshot(rds, cluster_spec(), FACTS, now=lambda: NOW)
    before = _stable(rds.describe_db_clusters(DBClusterIdentifier="credmate-aurora")["DBClusters"][0])
    plan = plan_restore(rds, snapshot, new_identifier="credmate-aurora-back")

    outcome = execute_restore(rds, plan, delay_s=0.01)

    after = _stable(rds.describe_db_clusters(DBClusterIdentifier="credmate-aurora")["DBClusters"][0])
    assert after == before
    new = rds.describe_db_clusters(DBClusterIdentifier="credmate-aurora-back")["DBClusters"][0]
    assert [m["DBInstanceIdentifier"] for m in new["DBClusterMembers"]] == ["credmate-aurora-back-writer"]
    assert [c.operation for c in outcome.calls] == ["restore_db_cluster_from_snapshot", "create_db_instance"]
    assert outcome.endpoint == new["Endpoint"]


def test_execute_refuses_a_name_in_use_and_the_originals_own_name(rds, network, prod_snapshot):
    """A restore never overwrites: an existing identifier is refused before any call, the original's name at once."""
    make_instance(rds, network, "credmate-prod-spare")
    plan = plan_restore(rds, prod_snapshot, new_identifier="credmate-prod-spare")
    calls: list[str] = []

    with pytest.raises(Refused) as taken:
        execute_restore(rds, plan, on_call=lambda c: calls.append(c.operation))
    with pytest.raises(Refused) as own:
        plan_restore(rds, prod_snapshot, new_identifier="credmate-prod")

    assert taken.value.message == (
        "An instance named credmate-prod-spare already exists, and a restore only ever creates new identifiers; "
        "nothing was created."
    )
    assert calls == []
    assert own.value.message.startswith("The restore would be named credmate-prod, the original's own name")


def test_a_missing_original_gives_a_warning_runbook_and_no_execution(rds, network, prod_snapshot):
    """With the original gone its settings can't be copied: the runbook says so, and execute refuses."""
    rds.modify_db_instance(
        DBInstanceIdentifier="credmate-prod", DeletionProtection=False, ApplyImmediately=True
    )
    rds.delete_db_instance(DBInstanceIdentifier="credmate-prod", SkipFinalSnapshot=True)

    plan = plan_restore(rds, prod_snapshot, new_identifier="credmate-prod-back")

    assert not plan.original_found
    assert "**RDS instance credmate-prod could not be read**" in render_runbook(plan)
    with pytest.raises(Refused) as caught:
        execute_restore(rds, plan)
    assert caught.value.message.startswith(
        "RDS instance credmate-prod could not be read, so the restore can't copy"
    )
    assert rds.describe_db_instances()["DBInstances"] == []
