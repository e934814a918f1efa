"""AN: parts of a step the linter could not see, said out loud rather than passed over."""

from __future__ import annotations

from collections.abc import Iterator

from runner.lint.context import StepContext
from runner.lint.findings import Finding, Severity
from runner.lint.rules.code import block
from runner.lint.rules.registry import rule


@rule(
    "AN101",
    "cannot-analyse",
    summary="The revision can't be rendered offline, so its statements were not checked.",
    explanation="""
The linter checks the SQL each revision really runs, rendered with Alembic's offline (--sql) mode.
A revision that reads data (op.get_bind().execute(...)), inspects the database, or needs a setting
only present online can't be rendered, so nothing in it was checked and its lock and time estimates
are unknown. Keep such code to online runs behind context.is_offline_mode(), so the schema changes
around it can still be checked, and rehearse the step on a copy of production to measure it.
""",
)
def cannot_analyse(ctx: StepContext) -> Iterator[Finding]:
    error = ctx.step.render_error
    if error is None:
        return
    message = (
        f"{ctx.revision} can't be rendered offline ({error}), so none of its statements were checked; it "
        "probably reads data or inspects the database while it runs."
    )
    help = (
        "Keep data-dependent code to online runs, so the rest of the revision renders offline, and rehearse the "
        "step to measure it:\n"
        + block(
            "from alembic import context",
            "",
            "if not context.is_offline_mode():",
            '    rows = op.get_bind().execute(sa.text("SELECT ...")).all()  # online only',
        )
    )
    yield ctx.finding("AN101", Severity.WARN, message, help)


@rule(
    "AN102",
    "cannot-parse",
    summary="Part of the revision's SQL could not be parsed, so it was not checked.",
    explanation="""
The linter parses each step's SQL with pglast, which embeds PostgreSQL's own parser. A statement it
can't parse is either invalid (the step will fail) or newer than the parser; either way it was not
checked, while the rest of the step was. Rehearse the step, and review the statement by hand.
""",
)
def cannot_parse(ctx: StepContext) -> Iterator[Finding]:
    for error in ctx.step.parse_errors:
        message = f"The SQL of {ctx.revision} could not be parsed: {error}. That part was not checked; the rest of the step was."
        help = (
            "Rehearse the step on a copy of the database to see whether PostgreSQL accepts it, and review the statement by hand:\n"
            + block("# runner plan --sql shows the statement as Alembic renders it")
        )
        yield ctx.finding("AN102", Severity.WARN, message, help)
