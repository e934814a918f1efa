"""DB snapshots and DB cluster snapshots: the same steps, different API names, in one table.

Everything that differs between an RDS instance snapshot and an Aurora cluster
snapshot (the create call, the waiter, the describe call and its keys, the
error codes, the length limit) is data here, so ``snapshot`` and ``restore``
read as one path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from runner.aws import identifiers
from runner.aws.failures import aws_call, error_code
from runner.aws.source import CLUSTER, INSTANCE, label
from runner.aws.waiting import Reader, first_item

if TYPE_CHECKING:
    from runner.aws.specs import SnapshotSpec


@dataclass(frozen=True)
class SnapshotKind:
    name: str  # "db-snapshot" or "db-cluster-snapshot", as recorded in the audit log
    noun: str
    source_kind: str  # INSTANCE or CLUSTER
    cluster: bool
    create_operation: str
    source_param: str
    id_param: str
    arn_key: str
    source_key: str
    result_key: str
    list_key: str
    describe_operation: str
    describe_cli: str
    waiter: str
    max_length: int
    not_found_codes: tuple[str, ...]
    already_exists_codes: tuple[str, ...]

    @property
    def read(self) -> Reader:
        return first_item(self.list_key, "Status")

    def source_label(self, source: str) -> str:
        return label(self.source_kind, source)

    def create(self, rds: Any, identifier: str, source: str, tags: list[dict[str, str]]) -> dict[str, Any]:
        method = getattr(rds, self.create_operation)
        answer = method(**{self.id_param: identifier, self.source_param: source, "Tags": tags})
        return dict(answer[self.result_key])

    def describe(self, rds: Any, identifier: str) -> dict[str, Any] | None:
        """The snapshot as AWS describes it; None when there is none."""
        method = getattr(rds, "describe_db_cluster_snapshots" if self.cluster else "describe_db_snapshots")
        with aws_call(f"describing {self.noun} {identifier}"):
            try:
                found = method(**{self.id_param: identifier})[self.list_key]
            except ClientError as exc:
                if error_code(exc) in self.not_found_codes:
                    return None
                raise
        return dict(found[0]) if found else None


DB_SNAPSHOT = SnapshotKind(
    name="db-snapshot",
    noun="DB snapshot",
    source_kind=INSTANCE,
    cluster=False,
    create_operation="create_db_snapshot",
    source_param="DBInstanceIdentifier",
    id_param="DBSnapshotIdentifier",
    arn_key="DBSnapshotArn",
    source_key="DBInstanceIdentifier",
    result_key="DBSnapshot",
    list_key="DBSnapshots",
    describe_operation="DescribeDBSnapshots",
    describe_cli="describe-db-snapshots --db-snapshot-identifier",
    waiter="db_snapshot_available",
    max_length=identifiers.DB_SNAPSHOT_MAX,
    not_found_codes=("DBSnapshotNotFound", "DBSnapshotNotFoundFault"),
    already_exists_codes=("DBSnapshotAlreadyExists", "DBSnapshotAlreadyExistsFault"),
)
DB_CLUSTER_SNAPSHOT = SnapshotKind(
    name="db-cluster-snapshot",
    noun="DB cluster snapshot",
    source_kind=CLUSTER,
    cluster=True,
    create_operation="create_db_cluster_snapshot",
    source_param="DBClusterIdentifier",
    id_param="DBClusterSnapshotIdentifier",
    arn_key="DBClusterSnapshotArn",
    source_key="DBClusterIdentifier",
    result_key="DBClusterSnapshot",
    list_key="DBClusterSnapshots",
    describe_operation="DescribeDBClusterSnapshots",
    describe_cli="describe-db-cluster-snapshots --db-cluster-snapshot-identifier",
    waiter="db_cluster_snapshot_available",
    max_length=identifiers.CLUSTER_SNAPSHOT_MAX,
    not_found_codes=("DBClusterSnapshotNotFoundFault", "DBClusterSnapshotNotFound"),
    already_exists_codes=("DBClusterSnapshotAlreadyExistsFault", "DBClusterSnapshotAlreadyExists"),
)
KINDS = {kind.name: kind for kind in (DB_SNAPSHOT, DB_CLUSTER_SNAPSHOT)}


def kind_for(spec: SnapshotSpec) -> SnapshotKind:
    return DB_CLUSTER_SNAPSHOT if spec.aurora_cluster else DB_SNAPSHOT
