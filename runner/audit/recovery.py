"""The way back from a run, as exact commands: the schema rollback, and the restore from its snapshot.

Worked out from the log alone. A rollback with Alembic can only go down as far
as the newest one-way step the run applied (its ``risk_assessed`` verdict, or the
drill's): past it, the way back is the snapshot. The restore commands name the
run's own log, since ``runner restore`` reads the snapshot from it and copies the
original's settings from AWS into the calls it prints and makes (the log alone
does not hold those settings, so a bare ``aws rds restore-...`` call would miss them).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import UTC, datetime

from runner.audit.normal import readable_time, timestamp
from runner.audit.run_record import RunRecord, heads_text
from runner.aws import identifiers

CONFIG_PLACEHOLDER = "alembic.ini"


@dataclass(frozen=True)
class Recovery:
    rollback: str | None  # the command, or None when Alembic can't roll this run back
    rollback_note: str
    restore: tuple[str, ...]  # commands, in order; () without a snapshot
    restore_note: str


def _applied(record: RunRecord) -> list[str]:
    """The revisions this run left applied, oldest first."""
    applied: list[str] = []
    for event in record.named("step_applied", "step_reverted"):
        revision = str(event.get("revision"))
        if event["event"] == "step_applied":
            applied.append(revision)
        elif revision in applied:
            applied.remove(revision)
    return applied


def _one_way(record: RunRecord) -> set[str]:
    found = {step.revision for step in record.chain() if step.one_way}
    drill = record.drill or {}
    found.update(s.get("revision") for s in drill.get("steps") or [] if s.get("status") == "one_way")
    return found


def recovery(record: RunRecord, *, log: str | None = None) -> Recovery:
    config = record.config
    alembic = f"alembic -c {shlex.quote(config or CONFIG_PLACEHOLDER)} downgrade"
    where = "" if config else f" ({CONFIG_PLACEHOLDER}: the project's own; the log does not name it)"
    target = record.started.get("target") or "the target"
    applied, prior = _applied(record), record.prior_heads or []
    one_way = [r for r in applied if r in _one_way(record)]
    snapshot = record.snapshot
    if snapshot and snapshot.get("snapshot_id"):
        after = "restore the snapshot (below)"
    else:
        after = "restore a backup: this run took no snapshot"
    if not applied:
        rollback, note = (
            None,
            f"Nothing to roll back: this run left no step applied; {target} is at {heads_text(prior)}.",
        )
    elif len(prior) > 1:
        rollback = None
        note = (
            f"The database had several heads before the run ({heads_text(prior)}): roll each branch back by hand "
            f"with alembic downgrade, or {after}."
        )
    elif one_way and one_way[-1] == applied[-1]:
        rollback = None
        note = (
            f"{one_way[-1]} is one-way and the newest step this run applied: Alembic can't roll it back. To go back "
            f"to {heads_text(prior)}, {after}."
        )
    elif one_way:
        rollback = f"{alembic} {one_way[-1]}"
        undone = ", ".join(reversed(applied[applied.index(one_way[-1]) + 1 :]))
        note = (
            f"Undoes {undone} on {target}{where}. {one_way[-1]} is one-way: to go back to {heads_text(prior)}, "
            f"{after}."
        )
    else:
        rollback = f"{alembic} {prior[0] if prior else 'base'}"
        note = f"Undoes {', '.join(reversed(applied))} on {target}{where}, back to {heads_text(prior)}."
    restore, restore_note = _restore(record, log)
    return Recovery(rollback, note, restore, restore_note)


def _restore(record: RunRecord, log: str | None) -> tuple[tuple[str, ...], str]:
    snapshot = record.snapshot
    if not snapshot or not snapshot.get("snapshot_id"):
        return (), "No snapshot was taken for this run: there is nothing to restore from."
    source = str(snapshot.get("source") or "the-database")
    taken = str(snapshot.get("ts"))
    new = identifiers.restored_identifier(
        source, timestamp(taken) if readable_time(taken) else datetime.now(UTC)
    )
    path = shlex.quote(log or "RUN.jsonl")
    noun = "cluster" if snapshot.get("snapshot_kind") == "db-cluster-snapshot" else "instance"
    return (
        f"runner restore --audit-log {path}",
        f"runner restore --audit-log {path} --execute --yes --new-identifier {new}",
    ), (
        f"From snapshot {snapshot['snapshot_id']} of {source}: the first prints the runbook (the calls, with the "
        f"original's settings read from AWS); the second makes them. A restore creates a new {noun}, {new}; "
        f"{source} itself is left as it is."
    )
