"""The ``runner`` command line."""

from __future__ import annotations

import signal

import typer

from runner.cli import apply, audit, drift, lint, plan, rehearse, restore, resume, status
from runner.cli import playbook as playbook_cli
from runner.cli.common import own_process
from runner.run import interrupts

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
app.command("lint")(lint.lint)
app.command("restore")(restore.restore)
app.command("resume")(resume.resume)
app.command("rehearse")(rehearse.rehearse)
app.command("drift")(drift.drift)
app.add_typer(audit.app, name="audit")
app.add_typer(playbook_cli.app, name="playbook")


def main() -> None:
    # SIGTERM (systemd, Kubernetes, CI) and SIGHUP (a closed terminal) mean what Ctrl-C means.
    interrupts.install_handlers()
    # Past a file-size limit (ulimit -f), a write fails with EFBIG instead of killing the process,
    # so the audit log can say the run stopped and why.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    own_process()
    app()
