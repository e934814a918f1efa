"""Performing a restore plan: into a new identifier only, waited on, every call reported.

The only calls made are the plan's (``restore_db_instance_from_db_snapshot``,
or ``restore_db_cluster_from_snapshot`` and ``create_db_instance`` for the
writer), the waiters, and reads. Nothing deletes, renames or modifies the
original: the endpoint swap is left to the operator, as the runbook says.
Before the first call the new identifier must be free and the snapshot
available, and the plan must have read the original's settings; otherwise
``Refused`` and nothing is created.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError, WaiterError

from runner.aws.failures import aws_call, not_found, translate
from runner.aws.restore_plan import ApiCall, RestorePlan, plan_restore
from runner.aws.runbook import plan_as_dict, render_runbook
from runner.aws.source import CLUSTER
from runner.aws.waiting import ProgressCallback, WaitPlan, first_item, last_status, wait_for
from runner.durations import format_ms
from runner.errors import Refused, RunnerError

DEFAULT_RESTORE_CEILING_MS = 2 * 60 * 60 * 1000  # large restores take an hour or more

__all__ = ["CallMade", "RestoreOutcome", "execute_restore", "plan_as_dict", "plan_restore", "render_runbook"]


@dataclass(frozen=True)
class CallMade:
    """One AWS call of a restore, for the audit log (restore_call_made)."""

    operation: str
    params: dict[str, Any]
    ok: bool
    detail: str  # the new resource's ARN, or why it failed


@dataclass(frozen=True)
class RestoreOutcome:
    kind: str
    new_identifier: str
    endpoint: str | None
    calls: tuple[CallMade, ...]
    elapsed_ms: int

    def describe(self) -> str:
        where = f" at {self.endpoint}" if self.endpoint else ""
        noun = "cluster" if self.kind == CLUSTER else "instance"
        return f"restored into new {noun} {self.new_identifier}{where} in {format_ms(self.elapsed_ms)}"


def _exists(rds: Any, kind: str, identifier: str) -> bool:
    try:
        if kind == CLUSTER:
            return bool(rds.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"])
        return bool(rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"])
    except Exception as exc:
        if not_found(exc, "DBClusterNotFoundFault", "DBInstanceNotFound", "DBInstanceNotFoundFault"):
            return False
        raise


def _preflight(rds: Any, plan: RestorePlan) -> None:
    noun = "cluster" if plan.kind == CLUSTER else "instance"
    if not plan.original_found:
        raise Refused(
            f"{plan.source_label} could not be read, so the restore can't copy its settings (subnet group, "
            f"security groups, parameter group, class); nothing was created.",
            next_step="run the runbook's calls by hand with those settings filled in (runner restore without "
            "--execute prints them).",
        )
    if plan.snapshot_status != "available":
        raise Refused(
            f"Snapshot {plan.snapshot_id} is {plan.snapshot_status}, not available, so nothing can be restored "
            "from it; nothing was created.",
            next_step="look at it with aws rds describe-db-snapshots (or describe-db-cluster-snapshots).",
        )
    names = [plan.new_identifier] + [c.params["DBInstanceIdentifier"] for c in plan.calls[1:]]
    with aws_call(f"checking that {', '.join(names)} is free"):
        taken = [
            name
            for index, name in enumerate(names)
            if _exists(rds, plan.kind if index == 0 else "instance", name)
        ]
    if taken:
        raise Refused(
            f"{'A cluster' if taken[0] == plan.new_identifier and noun == 'cluster' else 'An instance'} named "
            f"{taken[0]} already exists, and a "
            "restore only ever creates new identifiers; nothing was created.",
            next_step="pass another --new-identifier.",
        )


def execute_restore(
    rds: Any,
    plan: RestorePlan,
    *,
    wait_ceiling_ms: int = DEFAULT_RESTORE_CEILING_MS,
    on_progress: ProgressCallback | None = None,
    on_call: Callable[[CallMade], object] | None = None,
    delay_s: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> RestoreOutcome:
    """Make the plan's calls, waiting after each until the new resource is available."""
    _preflight(rds, plan)
    started = clock()
    made: list[CallMade] = []
    for call in plan.calls:
        _call(rds, call, made, on_call)
        left = wait_ceiling_ms - round((clock() - started) * 1000)
        _wait(rds, call, WaitPlan.within(left, delay_s), on_progress, clock)
    with aws_call(f"reading the endpoint of {plan.new_identifier}"):
        endpoint = _new_endpoint(rds, plan)
    return RestoreOutcome(
        plan.kind, plan.new_identifier, endpoint, tuple(made), round((clock() - started) * 1000)
    )


def _new_endpoint(rds: Any, plan: RestorePlan) -> str | None:
    endpoint: str | None  # boto3 answers are untyped dicts
    if plan.kind == CLUSTER:
        endpoint = rds.describe_db_clusters(DBClusterIdentifier=plan.new_identifier)["DBClusters"][0].get(
            "Endpoint"
        )
        return endpoint
    found = rds.describe_db_instances(DBInstanceIdentifier=plan.new_identifier)["DBInstances"][0]
    endpoint = (found.get("Endpoint") or {}).get("Address")
    return endpoint


def _call(
    rds: Any, call: ApiCall, made: list[CallMade], on_call: Callable[[CallMade], object] | None
) -> None:
    target = call.params.get("DBInstanceIdentifier") or call.params.get("DBClusterIdentifier")
    try:
        with aws_call(f"{call.purpose} ({call.operation})", next_step=_after_failure(made)):
            answer = getattr(rds, call.operation)(**call.params)
    except RunnerError as exc:
        record = CallMade(call.operation, call.params, False, exc.message)
        made.append(record)
        if on_call is not None:
            on_call(record)
        raise
    resource = answer.get("DBInstance") or answer.get("DBCluster") or {}
    arn = resource.get("DBInstanceArn") or resource.get("DBClusterArn") or str(target)
    record = CallMade(call.operation, call.params, True, str(arn))
    made.append(record)
    if on_call is not None:
        on_call(record)


def _after_failure(made: list[CallMade]) -> str:
    if not made:
        return "nothing was created; fix the cause and run the same command again."
    created = ", ".join(
        str(c.params.get("DBClusterIdentifier") or c.params["DBInstanceIdentifier"]) for c in made
    )
    return f"{created} was already created; finish by hand with the runbook's remaining calls."


def _wait(
    rds: Any, call: ApiCall, plan: WaitPlan, on_progress: ProgressCallback | None, clock: Callable[[], float]
) -> None:
    if call.operation == "restore_db_cluster_from_snapshot":
        name = call.params["DBClusterIdentifier"]
        waiter, arguments, what = "db_cluster_available", {"DBClusterIdentifier": name}, f"cluster {name}"
        read, operation = first_item("DBClusters", "Status"), "DescribeDBClusters"
    else:
        name = call.params["DBInstanceIdentifier"]
        waiter, arguments, what = "db_instance_available", {"DBInstanceIdentifier": name}, f"instance {name}"
        read, operation = first_item("DBInstances", "DBInstanceStatus"), "DescribeDBInstances"
    try:
        wait_for(
            rds,
            waiter,
            arguments,
            plan,
            what=what,
            operation=operation,
            read=read,
            on_progress=on_progress,
            clock=clock,
        )
    except WaiterError as exc:
        if "Error" in (exc.last_response or {}):
            raise translate(
                ClientError(dict(exc.last_response), operation), f"waiting for the restored {what}"
            ) from exc
        status, _percent = last_status(exc, read)
        raise Refused(
            f"The restored {what} was not available in time (last status {status}); it exists and is left as it is.",
            next_step=f"watch it with aws rds wait {waiter.replace('_', '-')} and finish the runbook by hand.",
        ) from exc
    except Exception as exc:
        raise translate(exc, f"waiting for the restored {what}") from exc
