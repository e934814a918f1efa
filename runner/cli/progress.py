"""Live progress on the console, drawn from the audit events as they are written."""

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


def describe(event: Event) -> str | None:
    name = event.name
    if name == "run_started":
        return f"run {event['run_id']} on {event['target']}: {event['guards']}"
    if name == "plan_made":
        return f"plan: {len(event['steps'])} step(s) to {', '.join(event['to'])}"
    if name == "revision_recorded":
        return f"prior revision recorded: {', '.join(event['prior_heads']) or '<base>'}"
    if name == "step_started":
        attempt = f" (attempt {event['attempt']})" if event["attempt"] > 1 else ""
        verb = "applying" if event["direction"] == "upgrade" else "reverting"
        return f"  {verb} {event['revision']}{attempt}: {event['message']}"
    if name in ("step_applied", "step_reverted"):
        verb = "applied" if name == "step_applied" else "reverted"
        waited = f" (waited {event['lock_waited_ms']} ms for locks)" if event.get("lock_waited_ms") else ""
        return f"  {verb} {event['revision']} in {event['duration_ms']} ms{waited}"
    if name == "lock_timeout_hit":
        blockers = event.get("blockers") or []
        who = (
            "; ".join(
                f"pid {b['pid']} ({b['state']}, holds {b['mode']} on {b['relation']})" for b in blockers
            )
            or "the blocking session had already gone"
        )
        queued = event.get("queued_behind_max")
        behind = f"; {queued} session(s) were queued behind it" if queued else ""
        return (
            f"  lock_timeout ({event['lock_timeout']}) hit on {event['revision']}; blocked by {who}{behind}"
        )
    if name == "retry_scheduled":
        return f"  retrying {event['revision']} in {event['wait_s']}s (attempt {event['attempt']} of {event['max_attempts']})"
    if name == "step_failed":
        return f"  FAILED {event.get('revision')}: {event.get('message')}"
    if name == "check_failed":
        return f"  check failed after {event.get('revision')}: {event.get('check')}: expected {event.get('expected')}, found {event.get('found')}"
    if name == "decision_made":
        return f"decision: {event['action']} ({event['reason']})"
    if name == "rollback_started":
        return f"rolling back: {', '.join(event['revisions'])}"
    return None
