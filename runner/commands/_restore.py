"""``restore``: the way back, from the snapshot a run recorded in its audit log.

Without ``execute`` it only reads: the snapshot from the log's
``snapshot_available`` event, the original instance (or cluster) from AWS, and
writes the exact runbook (the AWS calls with the original's settings copied,
how to swap endpoints, the honest note on lazy loading). With ``execute`` it
makes those calls into a **new** identifier, waits with progress, and writes
every call to the audit log; it never deletes, renames or modifies the original.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.audit import AuditLog
from runner.audit.reader import read_events
from runner.commands._apply import refusals_audited
from runner.errors import InvalidInput, Refused
from runner.run.result import new_run_id

if TYPE_CHECKING:
    from runner.aws.clients import ClientFactory
    from runner.aws.restore import RestoreOutcome
    from runner.aws.restore_plan import RestorePlan
    from runner.aws.snapshot import SnapshotRecord
    from runner.aws.waiting import Progress


@dataclass(frozen=True)
class RestoreResult:
    run_id: str  # the run whose snapshot this restores
    plan: RestorePlan
    runbook: str  # Markdown
    outcome: RestoreOutcome | None = None  # what was done, with execute


def snapshot_of(audit_log: Path, run_id: str | None = None) -> tuple[str, SnapshotRecord]:
    """The snapshot a run was anchored on, from its audit log (the last anchored run by default)."""
    from runner.aws.snapshot import SnapshotRecord

    found = [e for e in read_events(audit_log) if e.get("event") == "snapshot_available"]
    if run_id is not None:
        found = [e for e in found if e.get("run_id") == run_id]
    if not found:
        which = f"run {run_id}" if run_id else "any run"
        raise InvalidInput(
            f"The audit log {audit_log} records no snapshot for {which} (no snapshot_available event): there is "
            "nothing to restore from.",
            next_step=f"runner audit report {audit_log} shows what the run did.",
        )
    event = found[-1]
    return str(event["run_id"]), SnapshotRecord.from_event(event)


def restore(
    audit_log: Path,
    *,
    run_id: str | None = None,
    execute: bool = False,
    confirmed: bool = False,
    new_identifier: str | None = None,
    region: str | None = None,
    aws: ClientFactory | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> RestoreResult:
    from runner.aws.clients import AwsSettings, BotoClients
    from runner.aws.restore_plan import plan_restore
    from runner.aws.runbook import render_runbook

    restored_run, snapshot = snapshot_of(audit_log, run_id)
    clients = aws or BotoClients(AwsSettings.resolve(region=region or _region_of(snapshot.arn)))
    plan = plan_restore(clients("rds"), snapshot, new_identifier=new_identifier, region=region)
    runbook = render_runbook(plan, audit_log=str(audit_log))
    if not execute:
        return RestoreResult(restored_run, plan, runbook)
    if not confirmed:
        raise Refused(
            f"runner restore --execute creates {plan.new_identifier} from snapshot {snapshot.identifier}; it needs "
            "--yes to say that was meant. Nothing was done.",
            next_step="read the runbook (the same command without --execute), then add --yes.",
        )
    return RestoreResult(
        restored_run, plan, runbook, _execute(audit_log, restored_run, plan, clients, progress)
    )


def _execute(
    audit_log: Path,
    restored_run: str,
    plan: RestorePlan,
    clients: ClientFactory,
    progress: Callable[[Progress], None] | None,
) -> RestoreOutcome:
    from runner.aws.restore import execute_restore

    with AuditLog(audit_log, new_run_id()) as audit, refusals_audited(audit):
        audit.emit(
            "restore_started",
            restores_run=restored_run,
            snapshot_id=plan.snapshot_id,
            new_identifier=plan.new_identifier,
            original=plan.original,
            calls=[call.operation for call in plan.calls],
        )
        outcome = execute_restore(
            clients("rds"),
            plan,
            on_progress=progress,
            on_call=lambda made: audit.emit("restore_call_made", **_call_fields(made)),
        )
        audit.emit(
            "restore_finished",
            new_identifier=outcome.new_identifier,
            endpoint=outcome.endpoint,
            elapsed_ms=outcome.elapsed_ms,
        )
        return outcome


def _call_fields(made: Any) -> dict[str, Any]:
    return {"operation": made.operation, "ok": made.ok, "detail": made.detail, "params": made.params}


def _region_of(arn: str) -> str | None:
    """arn:aws:rds:REGION:ACCOUNT:snapshot:NAME -> REGION."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else None
