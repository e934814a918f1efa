"""Live progress on the console, drawn from the audit events as they are written.

Every line here is derived from an event that is already in the audit log, so
the console never says anything the log doesn't.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console

from runner.audit import Event


def console_listener(console: Console) -> Callable[[Event], None]:
    def show(event: Event) -> None:
        line = describe(event)
        if line:
            console.print(line, markup=False)

    return show


def _heads(heads: object) -> str:
    return ", ".join(heads) if isinstance(heads, list) and heads else "<base>"


def _blockers(event: Event) -> str:
    blockers = event.get("blockers") or []
    who = "; ".join(f"pid {b['pid']} ({b['state']}, holds {b['mode']} on {b['relation']})" for b in blockers)
    queued = event.get("queued_behind_max")
    behind = f"; {queued} session(s) were queued behind it" if queued else ""
    return (who or "the blocking session had already gone") + behind


def _step_line(event: Event) -> str:
    verb = "applied" if event.name == "step_applied" else "reverted"
    waited = f" (waited {event['lock_waited_ms']} ms for locks)" if event.get("lock_waited_ms") else ""
    return f"  {verb} {event['revision']} in {event['duration_ms']} ms{waited}"


def _started_line(event: Event) -> str:
    attempt = f" (attempt {event['attempt']})" if event["attempt"] > 1 else ""
    verb = "applying" if event["direction"] == "upgrade" else "reverting"
    return f"  {verb} {event['revision']}{attempt}: {event['message']}"


_LINES: dict[str, Callable[[Event], str | None]] = {
    "run_started": lambda e: f"run {e['run_id']} on {e['target']}: {e['guards']}",
    "playbook_loaded": lambda e: f"playbook {e['path']} ({e['environment']} target {e['target']})",
    "target_confirmed": lambda e: f"target {e['target']} confirmed ({e['how']})",
    "window_checked": lambda e: (
        f"window {e['window']}: {'open until ' + str(e['closes']) if e['open'] else 'closed'}"
    ),
    "window_overridden": lambda e: f"window {e['window']} overridden by {e['operator']}: {e['reason']}",
    "revision_recorded": lambda e: f"prior revision recorded: {_heads(e['prior_heads'])}",
    "plan_made": lambda e: f"plan: {len(e['steps'])} step(s) to {', '.join(e['to'])}",
    "risk_assessed": lambda e: (
        f"risk: {e['counts'].get('block', 0)} block, {e['counts'].get('warn', 0)} warn, "
        f"{e['counts'].get('info', 0)} info finding(s)"
    ),
    "finding_acknowledged": lambda e: f"  acknowledged {e['code']} on {e['revision']}: {e['reason']}",
    "step_started": _started_line,
    "step_applied": _step_line,
    "step_reverted": _step_line,
    "guards_changed": lambda e: f"  {e['revision']} runs with its own timeouts: {e['timeouts']}",
    "lock_timeout_hit": lambda e: (
        f"  lock_timeout ({e['lock_timeout']}) hit on {e['revision']}; blocked by {_blockers(e)}"
    ),
    "retry_scheduled": lambda e: (
        f"  retrying {e['revision']} in {e['wait_s']}s (attempt {e['attempt']} of {e['max_attempts']})"
    ),
    "step_failed": lambda e: f"  FAILED {e.get('revision')}: {e.get('message')}",
    "step_deferred": lambda e: f"  not starting {e['revision']}: it may not finish before the window closes",
    "check_failed": lambda e: (
        f"  check failed after {e.get('revision')}: {e.get('check')}: expected {e.get('expected')}, "
        f"found {e.get('found')}"
    ),
    "decision_made": lambda e: f"decision: {e['action']} ({e['reason']})",
    "rollback_started": lambda e: f"rolling back: {', '.join(e['revisions'])}",
    "rollback_refused": lambda e: f"rollback refused at {e['revision']}: {e['reason']}",
    "state_mismatch": lambda e: f"WARNING: version table reads {e['found']}, expected {e['expected']}",
}


def describe(event: Event) -> str | None:
    render = _LINES.get(event.name)
    return render(event) if render else None
