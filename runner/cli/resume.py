"""``runner resume``: continue a halted or killed run from its audit log, as ``apply`` would run it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from runner.cli.common import DatabaseUrlOption, DebugOption, JsonOption, boundary, resolve_target


def resume(
    audit_log: Annotated[Path, typer.Option("--audit-log", help="The audit log of the run to continue.")],
    run: Annotated[str | None, typer.Option("--run", help="Which run (default: the log's last).")] = None,
    database_url: DatabaseUrlOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Don't ask for confirmation.")] = False,
    confirm_target: Annotated[
        str | None,
        typer.Option("--confirm-target", help="The target's name, to confirm without a prompt."),
    ] = None,
    new_snapshot: Annotated[
        bool,
        typer.Option(
            "--new-snapshot",
            help="Take a new snapshot instead of reusing the one the run took (when that one is gone or too old).",
        ),
    ] = False,
    override_window: Annotated[
        str | None,
        typer.Option(
            "--override-window",
            metavar="REASON",
            help="Run outside the playbook's maintenance window; the reason is written to the audit log.",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Continue a run that halted or died, from where the database is, with the same playbook and guards."""
    from runner.cli.apply import (
        ask,
        interactive,
        report,
        show_preview,
        watch_on_console,
        window_override,
    )
    from runner.cli.common import stderr
    from runner.cli.output import command_line
    from runner.commands import Interaction
    from runner.commands import resume as run_resume
    from runner.request import Confirmation

    with boundary(debug, json_output=json_output):
        interaction = Interaction(
            show=(lambda preview: None) if json_output else show_preview,
            prompt=ask if interactive() and not json_output else None,
            watch=lambda audit: watch_on_console(audit, json_output),
            snapshot_progress=lambda progress: stderr.print(f"  {progress.describe()}", markup=False),
        )
        result = run_resume(
            audit_log,
            interaction,
            run_id=run,
            target=resolve_target(database_url) if database_url else None,
            confirmation=Confirmation(yes=yes, target_name=confirm_target),
            new_snapshot=new_snapshot,
            window_override=window_override(override_window),
            command=command_line(),
        )
        report(result, audit_log, json_output)
        raise typer.Exit(int(result.exit_code))
