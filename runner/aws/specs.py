"""What the AWS side of a run is asked to do: which database to snapshot and how, whom to notify.

A playbook's ``snapshot:`` and ``notify:`` sections become these values
(``runner.playbook.book``); everything in ``runner.aws`` takes them, so the AWS
library needs nothing from the playbook package.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.aws.identifiers import DEFAULT_TEMPLATE as DEFAULT_SNAPSHOT_NAME


@dataclass(frozen=True)
class SnapshotSpec:
    required: bool
    rds_instance: str | None
    aurora_cluster: str | None
    region: str | None
    wait_ceiling_ms: int
    tags: tuple[tuple[str, str], ...]
    identifier: str = DEFAULT_SNAPSHOT_NAME  # a template (runner.aws.identifiers)
    endpoint_aliases: tuple[str, ...] = ()
    reuse_snapshot_id: str | None = None
    reuse_max_age_ms: int | None = None
    reason: str | None = None  # why required is false

    def describe(self) -> str:
        what = (
            f"RDS instance {self.rds_instance}"
            if self.rds_instance
            else f"Aurora cluster {self.aurora_cluster}"
        )
        return f"{what} in {self.region}"


@dataclass(frozen=True)
class NotifySpec:
    sns_topic_arn: str | None
    webhook_url_env: str | None
    required: bool = False
