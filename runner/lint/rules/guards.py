"""GD: migrations that switch off or replace the limits the runner sets for a step."""

from __future__ import annotations

from collections.abc import Iterator

from runner.durations import parse_ms
from runner.lint.context import StepContext
from runner.lint.findings import Finding, Severity
from runner.lint.ops import Op, OpKind
from runner.lint.rules.code import block, py
from runner.lint.rules.registry import rule

_CONSEQUENCES = {
    "lock_timeout": "a statement waiting for a lock waits with no limit, and every query queued behind it waits too",
    "statement_timeout": "a statement can run with no time limit",
    "idle_in_transaction_session_timeout": "a stalled runner keeps its transaction, and its locks, open with no limit",
    "transaction_timeout": "the step's transaction can stay open with no limit",
}


def _guard_settings(ctx: StepContext) -> Iterator[tuple[Op, str, int | None]]:
    """(op, setting, value in ms) for each change to a guarded setting; None means RESET/DEFAULT."""
    for _, op in ctx.ops_of(OpKind.SET_SETTING):
        name = (op.name or "").lower()
        if name not in _CONSEQUENCES:
            continue
        if op.value is None:
            yield op, name, None
            continue
        try:
            yield op, name, parse_ms(op.value.strip())
        except ValueError:
            yield op, name, -1  # unparseable: the server decides; treat as an override


def _touches_live_table(ctx: StepContext) -> bool:
    for number, _ in enumerate(ctx.ops):
        for use in ctx.uses(number):
            if not ctx.is_exempt(use.table, number) and not ctx.size(use.table).empty:
                return True
    return False


def _help(op: Op) -> str:
    return (
        "Remove it; if the step needs a longer limit, set it for this step in the playbook, where the run "
        "checks and records it:\n" + block(f"# remove: op.execute({py(op.sql)})")
    )


@rule(
    "GD101",
    "timeout-disabled",
    summary="The migration sets lock_timeout, statement_timeout or idle_in_transaction_session_timeout to 0 "
    "(no limit), or resets it.",
    explanation="""
The runner sets lock_timeout, statement_timeout and idle_in_transaction_session_timeout on the very
connection Alembic uses, reads them back, and never uses 0. A migration that sets one of them to 0,
or RESETs it to the server default (usually 0), removes that guard for the rest of the step: an ALTER
stuck behind a long query then waits forever while every query on the table queues behind it.
Severity is block when the step touches a table with rows here (or with no database to ask), info
otherwise. Remove the statement and give the step a longer limit in the playbook if it needs one.
""",
)
def timeout_disabled(ctx: StepContext) -> Iterator[Finding]:
    for op, name, value in _guard_settings(ctx):
        if value not in (None, 0):
            continue
        consequence = _CONSEQUENCES[name]
        if value is None:
            message = (
                f"{op.sql} resets the {name} the runner set for this step to the server default, usually 0 "
                f"(no limit), so for the rest of the step {consequence}."
            )
        else:
            message = f"{op.sql} turns off the {name} the runner set for this step, so for the rest of the step {consequence}."
        severity = Severity.BLOCK if _touches_live_table(ctx) else Severity.INFO
        yield ctx.finding("GD101", severity, message, _help(op), op=op)


@rule(
    "GD102",
    "timeout-overridden",
    summary="The migration replaces a timeout the runner set for the step.",
    explanation="""
A SET lock_timeout (or statement_timeout, idle_in_transaction_session_timeout) inside the migration
replaces the value the runner set and recorded in the audit log, for the rest of the step, so the log
no longer says what the step ran under. It is a note: move the value into the playbook's timeouts for
the step, where it is validated and recorded.
""",
)
def timeout_overridden(ctx: StepContext) -> Iterator[Finding]:
    for op, name, value in _guard_settings(ctx):
        if value in (None, 0):
            continue
        message = (
            f"{op.sql} replaces the {name} the runner set for this step with {op.value} for the rest of the step; "
            "the audit log shows the runner's value, not this one."
        )
        yield ctx.finding("GD102", Severity.INFO, message, _help(op), op=op)
