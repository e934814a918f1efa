"""The exact restore calls for a snapshot, with the original's settings copied from AWS.

A restore never brings back the original instance: it creates a new one from
the snapshot. Left to defaults, that new instance would land in the default VPC
with the default security group and parameter group, unreachable or subtly
different; so every setting the original has and the restore call accepts is
read from ``describe_db_instances`` (or ``describe_db_clusters`` and the
writer's ``describe_db_instances``) and written into the call. Default option
and parameter groups (``default:...``, ``default....``) are left out: the
restore picks the engine's default itself, and moto has none to name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from runner.aws import identifiers
from runner.aws.failures import aws_call
from runner.aws.snapshot import SnapshotRecord, utc_now
from runner.aws.snapshot_kinds import KINDS
from runner.aws.source import INSTANCE, describe_cluster, describe_instance, label, writer_of
from runner.errors import Refused

RESTORED_TAG = "migration-runner:restored-from"


@dataclass(frozen=True)
class ApiCall:
    """One boto3 call, as the runbook prints it and as ``execute_restore`` makes it."""

    operation: str  # the boto3 method, such as restore_db_instance_from_db_snapshot
    params: dict[str, Any]
    purpose: str

    @property
    def cli_command(self) -> str:
        return self.operation.replace("_", "-")


@dataclass(frozen=True)
class RestorePlan:
    kind: str  # INSTANCE or CLUSTER
    snapshot_id: str
    snapshot_status: str  # as AWS reports it now ("missing" when it is gone)
    original: str
    new_identifier: str
    region: str | None
    calls: tuple[ApiCall, ...]
    copied: tuple[tuple[str, str], ...]  # (setting, value) read from the original, for the runbook's table
    original_found: bool
    readers: tuple[str, ...] = ()  # a cluster's reader instances, which the plan does not recreate
    measured_ms: int | None = None  # how long a rehearsal's restore took
    endpoint: str | None = None  # the original's endpoint, which the swap must move
    notes: tuple[str, ...] = field(default=())

    @property
    def source_label(self) -> str:
        return label(self.kind, self.original)


def _default_group(name: str | None) -> bool:
    return not name or name.startswith(("default.", "default:"))


def _put(params: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != [] and value != "":
        params[key] = value


def _tags(found: dict[str, Any], snapshot_id: str) -> list[dict[str, str]]:
    tags = [t for t in found.get("TagList") or [] if not str(t.get("Key", "")).startswith("aws:")]
    return [*tags, {"Key": RESTORED_TAG, "Value": snapshot_id}]


def instance_params(original: dict[str, Any], new_identifier: str, snapshot_id: str) -> dict[str, Any]:
    """restore_db_instance_from_db_snapshot's arguments, the original's settings copied."""
    params: dict[str, Any] = {"DBInstanceIdentifier": new_identifier, "DBSnapshotIdentifier": snapshot_id}
    _put(params, "DBInstanceClass", original.get("DBInstanceClass"))
    _put(params, "DBSubnetGroupName", (original.get("DBSubnetGroup") or {}).get("DBSubnetGroupName"))
    _put(
        params,
        "VpcSecurityGroupIds",
        [g["VpcSecurityGroupId"] for g in original.get("VpcSecurityGroups") or []],
    )
    groups = [g["DBParameterGroupName"] for g in original.get("DBParameterGroups") or []]
    if groups and not _default_group(groups[0]):
        params["DBParameterGroupName"] = groups[0]
    options = [g["OptionGroupName"] for g in original.get("OptionGroupMemberships") or []]
    if options and not _default_group(options[0]):
        params["OptionGroupName"] = options[0]
    _put(params, "AllocatedStorage", original.get("AllocatedStorage"))
    storage = original.get("StorageType")
    _put(params, "StorageType", storage)
    if storage in ("io1", "io2", "gp3"):
        _put(params, "Iops", original.get("Iops"))
    if storage == "gp3":
        _put(params, "StorageThroughput", original.get("StorageThroughput"))
    _put(params, "MultiAZ", original.get("MultiAZ"))
    _put(params, "Port", (original.get("Endpoint") or {}).get("Port") or original.get("DbInstancePort"))
    _put(params, "PubliclyAccessible", original.get("PubliclyAccessible"))
    _put(params, "EnableIAMDatabaseAuthentication", original.get("IAMDatabaseAuthenticationEnabled"))
    _put(params, "DeletionProtection", original.get("DeletionProtection"))
    _put(params, "AutoMinorVersionUpgrade", original.get("AutoMinorVersionUpgrade"))
    _put(params, "CopyTagsToSnapshot", original.get("CopyTagsToSnapshot"))
    _put(params, "EnableCloudwatchLogsExports", original.get("EnabledCloudwatchLogsExports"))
    _put(params, "CACertificateIdentifier", original.get("CACertificateIdentifier"))
    _put(params, "BackupRetentionPeriod", original.get("BackupRetentionPeriod"))
    params["Tags"] = _tags(original, snapshot_id)
    return params


def cluster_params(cluster: dict[str, Any], new_identifier: str, snapshot_id: str) -> dict[str, Any]:
    """restore_db_cluster_from_snapshot's arguments, the original cluster's settings copied."""
    params: dict[str, Any] = {
        "DBClusterIdentifier": new_identifier,
        "SnapshotIdentifier": snapshot_id,
        "Engine": cluster.get("Engine", "aurora-postgresql"),
    }
    _put(params, "EngineVersion", cluster.get("EngineVersion"))
    _put(params, "Port", cluster.get("Port"))
    _put(params, "DBSubnetGroupName", cluster.get("DBSubnetGroup"))
    _put(
        params,
        "VpcSecurityGroupIds",
        [g["VpcSecurityGroupId"] for g in cluster.get("VpcSecurityGroups") or []],
    )
    if not _default_group(cluster.get("DBClusterParameterGroup")):
        params["DBClusterParameterGroupName"] = cluster["DBClusterParameterGroup"]
    _put(params, "EnableIAMDatabaseAuthentication", cluster.get("IAMDatabaseAuthenticationEnabled"))
    _put(params, "DeletionProtection", cluster.get("DeletionProtection"))
    _put(params, "CopyTagsToSnapshot", cluster.get("CopyTagsToSnapshot"))
    _put(params, "EnableCloudwatchLogsExports", cluster.get("EnabledCloudwatchLogsExports"))
    _put(params, "BackupRetentionPeriod", cluster.get("BackupRetentionPeriod"))
    if str(cluster.get("StorageType") or "").startswith("aurora"):
        params["StorageType"] = cluster["StorageType"]
    scaling = cluster.get("ServerlessV2ScalingConfiguration") or {}
    if scaling.get("MinCapacity") is not None and scaling.get("MaxCapacity") is not None:
        params["ServerlessV2ScalingConfiguration"] = {
            "MinCapacity": scaling["MinCapacity"],
            "MaxCapacity": scaling["MaxCapacity"],
        }
    params["Tags"] = _tags(cluster, snapshot_id)
    return params


def writer_params(
    writer: dict[str, Any], cluster: dict[str, Any], new_cluster: str, new_writer: str
) -> dict[str, Any]:
    """create_db_instance's arguments for the restored cluster's writer, like the original writer."""
    params: dict[str, Any] = {
        "DBInstanceIdentifier": new_writer,
        "DBClusterIdentifier": new_cluster,
        "Engine": writer.get("Engine") or cluster.get("Engine", "aurora-postgresql"),
    }
    _put(params, "DBInstanceClass", writer.get("DBInstanceClass"))
    groups = [g["DBParameterGroupName"] for g in writer.get("DBParameterGroups") or []]
    if groups and not _default_group(groups[0]):
        params["DBParameterGroupName"] = groups[0]
    _put(params, "DBSubnetGroupName", cluster.get("DBSubnetGroup"))
    _put(params, "PubliclyAccessible", writer.get("PubliclyAccessible"))
    _put(params, "AutoMinorVersionUpgrade", writer.get("AutoMinorVersionUpgrade"))
    _put(params, "CACertificateIdentifier", writer.get("CACertificateIdentifier"))
    _put(params, "PromotionTier", writer.get("PromotionTier"))
    params["Tags"] = [t for t in writer.get("TagList") or [] if not str(t.get("Key", "")).startswith("aws:")]
    return params


def _copied(params: dict[str, Any], skip: tuple[str, ...]) -> list[tuple[str, str]]:
    def shown(value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        if isinstance(value, bool):
            return "yes" if value else "no"
        return str(value)

    return [(key, shown(value)) for key, value in params.items() if key not in skip and key != "Tags"]


def _read(
    describe: Callable[[Any, str], dict[str, Any]], rds: Any, identifier: str | None
) -> dict[str, Any] | None:
    """What AWS says about an instance or cluster; None when it can't say (gone, or not allowed to describe)."""
    if identifier is None:
        return None
    try:
        return describe(rds, identifier)
    except Refused:
        return None


def plan_restore(
    rds: Any,
    snapshot: SnapshotRecord,
    *,
    new_identifier: str | None = None,
    region: str | None = None,
    measured_ms: int | None = None,
    now: Callable[[], datetime] = utc_now,
) -> RestorePlan:
    """The calls that restore ``snapshot`` into a new instance (or cluster and writer), read-only."""
    kind = snapshot.source_kind
    new = new_identifier or identifiers.restored_identifier(snapshot.source, now())
    if not identifiers.is_valid(new, identifiers.INSTANCE_MAX):
        raise Refused(
            f"{new!r} can't name a restored {'instance' if kind == INSTANCE else 'cluster'}: RDS takes a letter, "
            "then letters, digits and single hyphens, at most 63 characters, not ending in a hyphen.",
            next_step="pass another --new-identifier.",
        )
    if new.lower() == snapshot.source.lower():
        raise Refused(
            f"The restore would be named {new}, the original's own name; a restore always goes to a new "
            "identifier and never replaces the original.",
            next_step="pass another --new-identifier (the runbook says how to swap the endpoints afterwards).",
        )
    with aws_call(f"reading {label(kind, snapshot.source)} and its snapshot {snapshot.identifier}"):
        return _plan(rds, kind, snapshot, new, region, measured_ms)


def _plan(
    rds: Any, kind: str, snapshot: SnapshotRecord, new: str, region: str | None, measured_ms: int | None
) -> RestorePlan:
    found_snapshot = KINDS[snapshot.kind].describe(rds, snapshot.identifier)
    status = str(found_snapshot.get("Status", "unknown")) if found_snapshot else "missing"
    restore_plan = partial(
        RestorePlan,
        kind=kind,
        snapshot_id=snapshot.identifier,
        snapshot_status=status,
        original=snapshot.source,
        new_identifier=new,
        region=region,
        measured_ms=measured_ms,
    )
    if kind == INSTANCE:
        original = _read(describe_instance, rds, snapshot.source)
        params = instance_params(original or {}, new, snapshot.identifier)
        call = ApiCall(
            "restore_db_instance_from_db_snapshot", params, f"create instance {new} from the snapshot"
        )
        return restore_plan(
            calls=(call,),
            copied=tuple(_copied(params, ("DBInstanceIdentifier", "DBSnapshotIdentifier"))),
            original_found=original is not None,
            endpoint=((original or {}).get("Endpoint") or {}).get("Address"),
        )
    cluster = _read(describe_cluster, rds, snapshot.source)
    writer = _read(describe_instance, rds, writer_of(cluster or {}))
    params = cluster_params(cluster or {}, new, snapshot.identifier)
    new_writer = identifiers.sanitize(f"{new[:56]}-writer", identifiers.INSTANCE_MAX)
    instance = writer_params(writer or {}, cluster or {}, new, new_writer)
    readers = tuple(
        str(m["DBInstanceIdentifier"])
        for m in (cluster or {}).get("DBClusterMembers") or []
        if not m.get("IsClusterWriter")
    )
    calls = (
        ApiCall("restore_db_cluster_from_snapshot", params, f"create cluster {new} from the snapshot"),
        ApiCall("create_db_instance", instance, f"create its writer instance {new_writer}"),
    )
    copied = _copied(params, ("DBClusterIdentifier", "SnapshotIdentifier"))
    copied += [
        (f"writer {key}", value)
        for key, value in _copied(instance, ("DBInstanceIdentifier", "DBClusterIdentifier"))
    ]
    return restore_plan(
        calls=calls,
        copied=tuple(copied),
        original_found=cluster is not None and writer is not None,
        readers=readers,
        endpoint=(cluster or {}).get("Endpoint"),
    )
