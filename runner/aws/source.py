"""The RDS instance or Aurora cluster a playbook snapshots, as one value read from AWS.

An instance has one endpoint. An Aurora cluster has a cluster (writer)
endpoint, a reader endpoint, and its writer instance's own endpoint; pending
modifications live on the cluster and on each instance, so the writer's count
too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runner.aws.failures import aws_call, not_found
from runner.errors import Refused

INSTANCE = "instance"
CLUSTER = "cluster"
POSTGRES_ENGINES = {INSTANCE: ("postgres",), CLUSTER: ("aurora-postgresql",)}


@dataclass(frozen=True)
class Endpoint:
    role: str  # "instance endpoint", "cluster endpoint", "reader endpoint", "writer instance endpoint"
    address: str
    port: int | None


@dataclass(frozen=True)
class Source:
    """What AWS says about the database to be snapshotted."""

    kind: str  # INSTANCE or CLUSTER
    identifier: str
    arn: str
    status: str
    engine: str
    endpoints: tuple[Endpoint, ...]
    pending: tuple[str, ...]  # names of pending modifications a reboot or maintenance would apply
    writer: str | None = None  # a cluster's writer instance
    cluster: str | None = None  # an instance's Aurora cluster, when it is a member of one

    def label(self) -> str:
        return label(self.kind, self.identifier)


def label(kind: str, identifier: str) -> str:
    return f"{'RDS instance' if kind == INSTANCE else 'Aurora cluster'} {identifier}"


def describe_instance(rds: Any, identifier: str) -> dict[str, Any]:
    """describe_db_instances for one instance; Refused when there is none."""
    with aws_call(f"describing RDS instance {identifier}"):
        try:
            return dict(rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0])
        except Exception as exc:
            if not_found(exc, "DBInstanceNotFound", "DBInstanceNotFoundFault"):
                raise Refused(
                    f"RDS instance {identifier} does not exist in this account and region.",
                    next_step="check snapshot.rds_instance and snapshot.region in the playbook (aws rds "
                    "describe-db-instances lists the instances).",
                ) from exc
            raise


def describe_cluster(rds: Any, identifier: str) -> dict[str, Any]:
    """describe_db_clusters for one cluster; Refused when there is none."""
    with aws_call(f"describing Aurora cluster {identifier}"):
        try:
            return dict(rds.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"][0])
        except Exception as exc:
            if not_found(exc, "DBClusterNotFoundFault", "DBClusterNotFound"):
                raise Refused(
                    f"Aurora cluster {identifier} does not exist in this account and region.",
                    next_step="check snapshot.aurora_cluster and snapshot.region in the playbook (aws rds "
                    "describe-db-clusters lists the clusters).",
                ) from exc
            raise


def writer_of(cluster: dict[str, Any]) -> str | None:
    for member in cluster.get("DBClusterMembers") or []:
        if member.get("IsClusterWriter"):
            return str(member["DBInstanceIdentifier"])
    return None


def read_source(rds: Any, kind: str, identifier: str) -> Source:
    """The instance or cluster as a ``Source``."""
    if kind == INSTANCE:
        instance = describe_instance(rds, identifier)
        endpoint = instance.get("Endpoint") or {}
        endpoints: tuple[Endpoint, ...] = (
            (Endpoint("instance endpoint", str(endpoint["Address"]), endpoint.get("Port")),)
            if endpoint.get("Address")
            else ()
        )
        return Source(
            kind=INSTANCE,
            identifier=identifier,
            arn=str(instance.get("DBInstanceArn", "")),
            status=str(instance.get("DBInstanceStatus", "unknown")),
            engine=str(instance.get("Engine", "unknown")),
            endpoints=endpoints,
            pending=tuple(sorted(instance.get("PendingModifiedValues") or {})),
            cluster=instance.get("DBClusterIdentifier"),
        )
    cluster = describe_cluster(rds, identifier)
    port = cluster.get("Port")
    found = [
        Endpoint(role, str(cluster[key]), port)
        for role, key in (("cluster endpoint", "Endpoint"), ("reader endpoint", "ReaderEndpoint"))
        if cluster.get(key)
    ]
    pending = [f"cluster {name}" for name in sorted(cluster.get("PendingModifiedValues") or {})]
    writer = writer_of(cluster)
    if writer is not None:
        instance = describe_instance(rds, writer)
        address = (instance.get("Endpoint") or {}).get("Address")
        if address:
            found.append(Endpoint("writer instance endpoint", str(address), instance["Endpoint"].get("Port")))
        pending += [f"writer {name}" for name in sorted(instance.get("PendingModifiedValues") or {})]
    return Source(
        kind=CLUSTER,
        identifier=identifier,
        arn=str(cluster.get("DBClusterArn", "")),
        status=str(cluster.get("Status", "unknown")),
        engine=str(cluster.get("Engine", "unknown")),
        endpoints=tuple(found),
        pending=tuple(pending),
        writer=writer,
    )
