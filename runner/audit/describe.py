"""One sentence for each audit event: what the console prints as it happens, and the report repeats.

Every console line and every line of a report's "what needed attention" comes
from here, so both say the same thing in the same words. Step-level events are
indented (the console shows them under their run); the report strips that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Fields = Mapping[str, Any]


def _heads(heads: object) -> str:
    return ", ".join(heads) if isinstance(heads, list) and heads else "<base>"


def _blockers(event: Fields) -> str:
    blockers = event.get("blockers") or []
    who = "; ".join(
        f"pid {b['pid']} ({b.get('state')}, {b.get('transaction_age_s')}s transaction, {b.get('mode')} on "
        f"{b.get('relation')}): `{str(b.get('query') or '')[:200]}`"
        for b in blockers
    )
    queued = event.get("queued_behind_max")
    behind = f"; {queued} session(s) were queued behind it" if queued else ""
    return (who or "the blocking session had already gone") + behind


def _in_the_way(sessions: object) -> str:
    """Sessions before a step: 'pid 41 (report-job, idle in transaction, 12.0s) holds ... on ...'."""
    lines = []
    for s in sessions if isinstance(sessions, list) else [sessions]:
        if not isinstance(s, Mapping):
            continue
        if s.get("autovacuum"):
            who = "autovacuum" + (" to prevent wraparound" if s.get("wraparound") else ", which gives way")
        else:
            who = f"{s.get('application_name') or 'no application_name'}, {s.get('state')}"
        lines.append(
            f"pid {s.get('pid')} ({who}, {s.get('transaction_age_s')}s) holds {s.get('mode')} on {s.get('relation')}"
        )
    return "; ".join(lines) or "nobody"


def _step_line(event: Fields) -> str:
    verb = "applied" if event["event"] == "step_applied" else "reverted"
    waited = f" (waited {event['lock_waited_ms']} ms for locks)" if event.get("lock_waited_ms") else ""
    return f"  {verb} {event['revision']} in {event['duration_ms']} ms{waited}"


def _waiting_line(event: Fields) -> str:
    blockers = event.get("blockers") or []
    who = "; ".join(
        f"pid {b['pid']} ({b.get('state')}, {b.get('transaction_age_s')}s transaction): {str(b.get('query') or '')[:80]}"
        for b in blockers
    )
    return (
        f"  still waiting for a lock after {event['waited_ms'] / 1000:.1f}s; blocked by {who or 'unknown'}; "
        f"{event['queued_behind']} session(s) queued behind this step"
    )


def _started_line(event: Fields) -> str:
    attempt = f" (attempt {event['attempt']})" if event["attempt"] > 1 else ""
    verb = "applying" if event["direction"] == "upgrade" else "reverting"
    return f"  {verb} {event['revision']}{attempt}: {event['message']}"


def _drill_line(event: Fields) -> str:
    steps = event.get("steps") or []
    parts = [f"{sum(1 for s in steps if s.get('status') == 'reverted')} step(s) reverted cleanly"]
    for step in steps:
        if step.get("status") == "mismatch":
            parts.append(
                f"{step['revision']} did not restore the schema ({'; '.join(step.get('differences') or [])})"
            )
        elif step.get("status") == "failed":
            parts.append(f"{step['revision']} failed to downgrade ({step.get('reason')})")
    if event.get("stopped_before"):
        parts.append(f"stopped before one-way {event['stopped_before']}")
    again = event.get("upgrade_again") or {}
    detail = "; ".join(again.get("differences") or []) or again.get("error")
    return f"rollback drill: {', '.join(parts)}; upgraded again: {again.get('status')}" + (
        f" ({detail})" if detail else ""
    )


_LINES: dict[str, Callable[[Fields], str | None]] = {
    "run_refused": lambda e: f"refused: {e.get('reason')}",
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
    "queue_limit_hit": lambda e: (
        f"  {e['revision']} gave way: {e.get('queued_behind_max')} session(s) queued behind its lock wait; "
        f"blocked by {_blockers(e)}"
    ),
    "blockers_found": lambda e: (
        f"  in the way of {e['revision']}: {_in_the_way(e.get('sessions'))}; "
        + (f"waiting up to {e['wait_ms']} ms" if e.get("wait_ms") else "the lock_timeout decides")
    ),
    "blocker_terminated": lambda e: f"  ended {_in_the_way(e.get('session'))} (blockers.terminate)",
    "blocker_not_terminated": lambda e: f"  could not end {_in_the_way(e.get('session'))}: {e.get('why')}",
    "blockers_cleared": lambda e: f"  the way to {e['revision']} cleared after {e['waited_ms']} ms",
    "blockers_remain": lambda e: (
        f"  still in the way of {e['revision']} after {e['waited_ms']} ms: {_in_the_way(e.get('sessions'))}; "
        + ("halting before it" if e.get("then") == "halt" else "going ahead; the lock_timeout decides")
    ),
    "rehearsal_prepared": lambda e: (
        f"rehearsal on {e['target']}: "
        + "; ".join(str(n) for n in e.get("notes") or [])
        + (f"; {e['held_lock']}" if e.get("held_lock") else "")
    ),
    "drill_skipped": lambda e: f"rollback drill skipped: {e['reason']}",
    "run_resumed": lambda e: (
        f"resuming run {e['resumed_run_id']} ({e['ended']}"
        + (f", stopped in {e['step_in_flight']}" if e.get("step_in_flight") else "")
        + ")"
    ),
    "dead_run_session_ended": lambda e: f"  ended the dead run's session {e['session'].get('pid')}",
    "leftover_index_dropped": lambda e: (
        f"  dropped {'the' if e.get('valid') else 'the INVALID'} index {e['index']} on {e['table']}: {e['why']}"
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
    "state_unreadable": lambda e: f"WARNING: the database stopped answering: {e['error']}",
    "lock_waiting": _waiting_line,
    "unfinished_run_found": lambda e: f"NOTICE: {e['run']['description']}",
    "unfinished_runs_closed": lambda e: f"unfinished run(s) {', '.join(e['runs'])} marked abandoned",
    "history_table_ready": lambda e: (
        f"{e['table']} created or upgraded ({len(e['statements'])} statement(s))"
    ),
    "statements_outside_step": lambda e: (
        f"  env.py's connection ran {len(e['statements'])} change(s) outside a step"
    ),
    "transaction_mode_changed": lambda e: (
        f"NOTICE: env.py asked for {e['env_py_asked']}; the runner uses {e['runner_uses']}: {e['implication']}"
    ),
    "signal_handlers_reclaimed": lambda e: f"NOTICE: {e['detail']}",
    "step_session_ended": lambda e: f"  the step's session (pid {e['backend_pid']}) {e['how']}",
    "history_unwritten": lambda e: f"WARNING: runner_history could not be written: {e['error']}",
    "console_lost": lambda e: f"NOTICE: {e['detail']}",
    "drill_finished": _drill_line,
}


def describe(event: Fields) -> str | None:
    """The event in one sentence; None for an event nobody needs to read as it happens.

    None too for an event whose fields are not what the runner writes (a damaged
    or hand-made log whose chain was re-hashed): the report then names the event.
    """
    render = _LINES.get(str(event.get("event")))
    if render is None:
        return None
    try:
        return render(event)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return None
