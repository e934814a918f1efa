"""The restore runbook as Markdown: paste-ready calls, the endpoint swap, and the honest caveats.

It is rendered only from a ``RestorePlan``, so what it tells the operator to
run is exactly what ``runner restore --execute`` would run.
"""

from __future__ import annotations

import json
import pprint
import shlex
from typing import Any

from runner.aws.restore_plan import ApiCall, RestorePlan
from runner.aws.source import CLUSTER
from runner.durations import format_ms


def _cli(call: ApiCall, region: str | None) -> str:
    payload = json.dumps(call.params, sort_keys=False, default=str)
    return f"{_rds(region)} {call.cli_command} --cli-input-json {shlex.quote(payload)}"


def _python(call: ApiCall) -> str:
    return f"rds.{call.operation}(**{pprint.pformat(call.params, sort_dicts=False, width=100)})"


def _rds(region: str | None) -> str:
    return f"aws rds --region {shlex.quote(region)}" if region else "aws rds"


def _waits(plan: RestorePlan) -> list[tuple[str, str]]:
    """(cli, python) for the waits after each call."""
    aws = _rds(plan.region)
    if plan.kind == CLUSTER:
        writer = plan.calls[1].params["DBInstanceIdentifier"]
        return [
            (
                f"{aws} wait db-cluster-available --db-cluster-identifier {plan.new_identifier}",
                f'rds.get_waiter("db_cluster_available").wait(DBClusterIdentifier="{plan.new_identifier}")',
            ),
            (
                f"{aws} wait db-instance-available --db-instance-identifier {writer}",
                f'rds.get_waiter("db_instance_available").wait(DBInstanceIdentifier="{writer}")',
            ),
        ]
    return [
        (
            f"{aws} wait db-instance-available --db-instance-identifier {plan.new_identifier}",
            f'rds.get_waiter("db_instance_available").wait(DBInstanceIdentifier="{plan.new_identifier}")',
        )
    ]


def render_runbook(plan: RestorePlan, *, audit_log: str | None = None, url_env: str | None = None) -> str:
    """The runbook as Markdown."""
    noun = "cluster" if plan.kind == CLUSTER else "instance"
    lines = [
        f"# Restore runbook: {plan.source_label} from snapshot {plan.snapshot_id}",
        "",
        f"A restore does not bring back {plan.original} itself: it creates a new {noun}, "
        f"**{plan.new_identifier}**, from snapshot {plan.snapshot_id}, with the original's settings copied. "
        f"{plan.original} is left exactly as it is: nothing here deletes, renames or modifies it.",
        "",
        f"- Snapshot: {plan.snapshot_id} ({plan.snapshot_status})",
        f"- Original: {plan.source_label}{f', endpoint {plan.endpoint}' if plan.endpoint else ''}",
        f"- Region: {plan.region or 'the profile default'}",
        "",
    ]
    lines += _warnings(plan)
    lines += [f"## 1. Create the new {noun}", "", f"Settings copied from {plan.original}:", ""]
    lines += ["| Setting | Value |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in plan.copied] or ["| (none could be read) | |"]
    waits = _waits(plan)
    lines += ["", "With the AWS CLI:", "", "```sh"]
    for call, (wait_cli, _py) in zip(plan.calls, waits, strict=True):
        lines += [f"# {call.purpose}", _cli(call, plan.region), wait_cli]
    lines += ["```", "", "With boto3:", "", "```python"]
    for call, (_cli_wait, wait_py) in zip(plan.calls, waits, strict=True):
        lines += [_python(call), wait_py]
    lines += ["```", ""]
    execute = f"runner restore --audit-log {audit_log or 'RUN.jsonl'} --execute --yes --new-identifier {plan.new_identifier}"
    lines += [f"Or let the runner make exactly these calls and wait for them: `{execute}`", ""]
    if plan.readers:
        lines += [
            f"The original cluster also has reader instances ({', '.join(plan.readers)}); once the writer is "
            f"available, create readers the same way (create-db-instance --db-cluster-identifier "
            f"{plan.new_identifier}) if the application needs them.",
            "",
        ]
    lines += _warming(plan)
    lines += _swap(plan, url_env)
    lines += _timing(plan)
    return "\n".join(lines) + "\n"


def _warnings(plan: RestorePlan) -> list[str]:
    found = []
    if plan.snapshot_status != "available":
        found.append(
            f"**The snapshot is {plan.snapshot_status}**: a restore needs it available. Look at it before anything "
            "else (aws rds describe-db-snapshots / describe-db-cluster-snapshots)."
        )
    if not plan.original_found:
        found.append(
            f"**{plan.source_label} could not be read** (it no longer exists, or the runner may not describe it), so "
            "its settings are not copied: add the instance class, subnet group, security groups and parameter "
            "group to the calls below yourself. `runner restore --execute` refuses until they can be read."
        )
    return [*(f"> {text}" for text in found), *([""] if found else [])]


def _warming(plan: RestorePlan) -> list[str]:
    if plan.kind == CLUSTER:
        how = "The restored cluster starts with an empty buffer cache, so every first read goes to storage"
    else:
        how = (
            "The restored instance's volume loads its blocks lazily from S3: until a block has been read once, "
            "reading it is much slower than usual"
        )
    return [
        "## 2. Expect slow first reads",
        "",
        f"{how}, so the first queries after the swap can take many times longer. Warm the hot tables before "
        "sending traffic: `CREATE EXTENSION IF NOT EXISTS pg_prewarm;` then `SELECT pg_prewarm('TABLE');` for "
        "each hot table and its indexes, or read them through once (`SELECT count(*) FROM TABLE;`).",
        "",
    ]


def _swap(plan: RestorePlan, url_env: str | None) -> list[str]:
    old = f"{plan.original}-old"
    aws = _rds(plan.region)
    if plan.kind == CLUSTER:
        rename = (
            "modify-db-cluster --db-cluster-identifier {} --new-db-cluster-identifier {} --apply-immediately"
        )
        wait = "wait db-cluster-available --db-cluster-identifier {}"
    else:
        rename = "modify-db-instance --db-instance-identifier {} --new-db-instance-identifier {} --apply-immediately"
        wait = "wait db-instance-available --db-instance-identifier {}"
    where = f"the URL in ${url_env}" if url_env else "the application's database URL"
    return [
        "## 3. Swap the endpoints",
        "",
        f"Either rename, so {where} keeps working unchanged: the endpoint name follows the identifier, and "
        "moves to the new one a few minutes after the second rename (clients reconnect as DNS catches up):",
        "",
        "```sh",
        f"{aws} {rename.format(plan.original, old)}",
        f"{aws} {wait.format(old)}",
        f"{aws} {rename.format(plan.new_identifier, plan.original)}",
        f"{aws} {wait.format(plan.original)}",
        "```",
        "",
        f"or point {where} (or the CNAME the application uses) at {plan.new_identifier}'s endpoint once it is "
        "available. Either way the old one keeps running, and costing, until you delete it yourself; "
        "deletion protection was copied with the other settings.",
        "",
    ]


def _timing(plan: RestorePlan) -> list[str]:
    if plan.measured_ms is not None:
        said = f"A rehearsal measured this restore at {format_ms(plan.measured_ms)} until available"
        return ["## 4. How long", "", f"{said}; the swap and the warming come on top.", ""]
    return [
        "## 4. How long",
        "",
        "No rehearsal has measured a restore yet: time one (runner restore --execute against the rehearsal's "
        "snapshot) before relying on this path in a window.",
        "",
    ]


def plan_as_dict(plan: RestorePlan) -> dict[str, Any]:
    """The structured runbook, for --json."""
    return {
        "kind": plan.kind,
        "snapshot_id": plan.snapshot_id,
        "snapshot_status": plan.snapshot_status,
        "original": plan.original,
        "new_identifier": plan.new_identifier,
        "region": plan.region,
        "original_found": plan.original_found,
        "endpoint": plan.endpoint,
        "readers": list(plan.readers),
        "measured_ms": plan.measured_ms,
        "copied": dict(plan.copied),
        "calls": [{"operation": c.operation, "params": c.params, "purpose": c.purpose} for c in plan.calls],
    }
