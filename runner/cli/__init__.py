"""The ``runner`` command line."""

from __future__ import annotations

import typer

from runner.cli import apply, audit, plan, status

app = typer.Typer(
    name="runner",
    help="Guarded production migrations for Alembic projects on PostgreSQL.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # tracebacks only with --debug, and never with local variables
    rich_markup_mode=None,
)
app.command("status")(status.status)
app.command("plan")(plan.plan)
app.command("apply")(apply.apply)
app.add_typer(audit.app, name="audit")


def main() -> None:
    app()
