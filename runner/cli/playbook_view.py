"""What an operator sees of a playbook before a run: each step's rules, the window, the policy.

The same picture is shown by ``runner plan --playbook`` ahead of time and by
``runner apply --playbook`` right before it asks for confirmation, so what is
confirmed is what was reviewed.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table

from runner.cli.common import stdout
from runner.durations import format_ms
from runner.planning.revisions import Revision
from runner.playbook import Playbook
from runner.playbook.rollbacks import irreversible
from runner.playbook.schedule import Schedule


def show_playbook(playbook: Playbook, pending: list[Revision], schedule: Schedule) -> None:
    target = playbook.target
    stdout.print(f"Playbook {playbook.source} ({target.environment} target {target.name!r})", markup=False)
    if pending:
        table = Table(show_edge=False, pad_edge=False, box=None)
        for column in ("#", "revision", "on failure", "lock / statement", "estimate", "checks", "notes"):
            table.add_column(column)
        for number, revision in enumerate(pending, start=1):
            row = step_row(playbook, revision, schedule)
            table.add_row(
                str(number),
                row["revision"],
                row["on_failure"],
                f"{row['lock_timeout']} / {row['statement_timeout']}",
                row["estimate_short"],
                str(len(row["checks"])),
                "; ".join(row["notes"]),
            )
        stdout.print(table)
    stdout.print(f"Window   {schedule.status(pending)}", markup=False)
    stdout.print(
        f"Policy   on failure {playbook.policy.describe()} unless a step says otherwise", markup=False
    )
    checks = playbook.checks
    stdout.print(
        f"Checks   {len(checks.before)} before, {len(checks.after_each)} after each step, "
        f"{len(checks.after_all)} after the last (plus the revision and INVALID-index checks, always)",
        markup=False,
    )
    snapshot = playbook.snapshot
    if snapshot is not None:
        required = "required" if snapshot.required else "not required"
        stdout.print(f"Snapshot {snapshot.describe()}, {required}", markup=False)


def step_row(playbook: Playbook, revision: Revision, schedule: Schedule) -> dict[str, Any]:
    rules = playbook.rules_for(revision.revision)
    estimate = schedule.estimator.estimate(revision.revision)
    notes = []
    one_way = irreversible(playbook, revision)
    if one_way:
        notes.append("one-way (marked in the playbook)" if rules.irreversible else f"one-way ({one_way})")
    if rules.profile:
        notes.append(f"profile {rules.profile}" + (" (non-transactional)" if rules.non_transactional else ""))
    acknowledged = [a.code for a in playbook.acknowledgements if a.revision == revision.revision]
    if acknowledged:
        notes.append(f"acknowledged {', '.join(acknowledged)}")
    return {
        "revision": revision.revision,
        "message": revision.message,
        "on_failure": rules.policy.describe(),
        "lock_timeout": format_ms(rules.guards.lock_timeout_ms),
        "statement_timeout": format_ms(rules.guards.statement_timeout_ms),
        "retry_attempts": rules.retry.attempts,
        "estimate": estimate.describe(),
        "estimate_short": estimate.short(),
        "estimate_ms": estimate.ms,
        "checks": [c.label for c in rules.checks],
        "irreversible": one_way,
        "notes": notes,
    }


def playbook_json(playbook: Playbook, pending: list[Revision], schedule: Schedule) -> dict[str, Any]:
    return {
        "path": playbook.source,
        "sha256": playbook.digest,
        "target": playbook.target.name,
        "environment": playbook.target.environment,
        "on_failure": playbook.policy.describe(),
        "window": schedule.status(pending),
        "estimated_total_ms": schedule.total_ms(pending),
        "steps": [step_row(playbook, r, schedule) for r in pending],
    }
