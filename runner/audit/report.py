"""A readable runbook report, made only from the audit log: the Markdown one (``html_report`` draws the other).

Nothing here asks the database or the runner's memory: whatever the report
says, the hash-chained log says too, so the report can be regenerated and
checked long after the run. What to say is ``run_record``'s; this lays it out.
"""

from __future__ import annotations

from collections.abc import Sequence

from runner.audit.normal import Event
from runner.audit.recovery import recovery
from runner.audit.run_record import RunRecord, runs_in
from runner.redact import redact

__all__ = ["render_markdown", "runs_in"]


def render_markdown(
    events: Sequence[Event], run_id: str, *, chain_note: str | None = None, log: str | None = None
) -> str:
    """The runbook report of one run, as Markdown."""
    record = RunRecord.of(events, run_id)
    lines = [f"# Migration run {run_id}", ""]
    lines += [f"- **{name}**: {value}" for name, value in record.summary()] + [""]
    lines += _steps(record)
    lines += _attention(record)
    lines += _drill(record)
    lines += _statements(record)
    if record.ending.get("next_step"):
        lines += ["## Next step", "", str(record.ending["next_step"]), ""]
    lines += _way_back(record, log)
    first, last = record.events[0], record.last
    lines += ["## Integrity", ""]
    lines.append(f"Events {first['seq']}-{last['seq']} of this run; the last one hashes to `{last['hash']}`.")
    if chain_note:
        lines.append(chain_note)
    return redact("\n".join(lines).rstrip() + "\n")


def _steps(record: RunRecord) -> list[str]:
    rows = record.step_rows()
    if not rows and record.named("step_started"):
        return [f"The log ends while the run was in progress: it {record.where_it_stopped()}.", ""]
    if not rows:
        return ["No step was started.", ""]
    lines = [
        "## Steps",
        "",
        "| # | revision | direction | result | attempts | duration | lock wait |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        waited = f"{row.lock_waited_ms} ms" if row.lock_waited_ms else ""
        duration = f"{row.duration_ms} ms" if row.duration_ms is not None else ""
        lines.append(
            f"| {row.number} | {row.revision} | {row.direction} | {row.result} | {row.attempts} | {duration} | "
            f"{waited} |"
        )
    return [*lines, ""]


def _attention(record: RunRecord) -> list[str]:
    notes = ["- " + " ".join(part for part in (ts, text) if part) for ts, text in record.attention()]
    return ["## What needed attention", "", *notes, ""] if notes else []


def _drill(record: RunRecord) -> list[str]:
    drill = record.drill
    if drill is None:
        return []
    verdict = (
        "every downgrade restored its schema"
        if drill.get("clean")
        else "a downgrade did not restore its schema"
    )
    lines = ["## Rollback drill", "", f"Result: {verdict}.", ""]
    for step in drill.get("steps") or []:
        reason = f" ({step['reason']})" if step.get("reason") else ""
        lines.append(f"- {step['revision']}: {step['status'].replace('_', '-')}{reason}")
        lines += [f"  - {text}" for text in step.get("differences") or []]
    again = drill.get("upgrade_again") or {}
    error = f" ({again['error']})" if again.get("error") else ""
    lines.append(f"- upgraded again: {again.get('status')}{error}")
    lines += [f"  - {text}" for text in again.get("differences") or []]
    return [*lines, ""]


def _statements(record: RunRecord) -> list[str]:
    blocks = record.statements()
    if not blocks:
        return []
    lines = ["## Statements", ""]
    for event, statements in blocks:
        lines += [f"### {event.get('revision')} ({event['event']})", "", "```sql"]
        lines += [f"{s['sql'].rstrip(';')};  -- {s['ms']} ms" for s in statements]
        lines += ["```", ""]
    return lines


def _way_back(record: RunRecord, log: str | None) -> list[str]:
    if not record.named(*("step_applied", "step_reverted")) and record.snapshot is None:
        return []
    way = recovery(record, log=log)
    lines = ["## The way back", ""]
    if way.rollback:
        lines += ["Roll the schema back:", "", "```sh", way.rollback, "```", ""]
    lines += [way.rollback_note, ""]
    if way.restore:
        lines += ["Restore from the snapshot:", "", "```sh", *way.restore, "```", ""]
    return [*lines, way.restore_note, ""]
