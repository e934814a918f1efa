"""``runner lint``: the risk of every pending step, from its real SQL and the real table sizes.

Exit codes: 0 when no unacknowledged ``block`` finding remains, 4 (refused) when
one does (apply would refuse that step), 3 for unusable input, as everywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from runner.cli.common import (
    DEFAULT_CONFIG,
    ConfigOption,
    DatabaseUrlOption,
    DebugOption,
    JsonOption,
    ToOption,
    VersionTableOption,
    WrapperOption,
    boundary,
    given_options,
    imports_done,
    print_json,
    resolve_target,
    stderr,
    stdout,
)
from runner.cli.output import command_line
from runner.errors import ExitCode

AcknowledgeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--acknowledge",
        help="CODE:REVISION of a finding to accept as it is; repeatable, each with a --reason.",
        show_default=False,
    ),
]
ReasonOption = Annotated[
    list[str] | None,
    typer.Option(
        "--reason",
        help="Why the acknowledged risk is accepted (one per --acknowledge, or one for all).",
        show_default=False,
    ),
]
RehearsalLogOption = Annotated[
    Path | None,
    typer.Option(
        "--rehearsal-log",
        help="Audit log of a rehearsal on a production-sized copy: its measured step times calibrate the estimates.",
        show_default=False,
    ),
]


def lint(
    ctx: typer.Context,
    config: ConfigOption = DEFAULT_CONFIG,
    playbook: Annotated[
        Path | None,
        typer.Option("--playbook", help="Playbook to read the project and acknowledgements from."),
    ] = None,
    database_url: DatabaseUrlOption = None,
    from_revision: Annotated[
        str | None,
        typer.Option(
            "--from", help="Lint from this revision without reading the database's ('base' for empty)."
        ),
    ] = None,
    to: ToOption = "head",
    acknowledge: AcknowledgeOption = None,
    reason: ReasonOption = None,
    rehearsal_log: RehearsalLogOption = None,
    explain_code: Annotated[
        str | None,
        typer.Option("--explain", help="Explain a rule (code or slug) and exit; 'list' lists every rule."),
    ] = None,
    json_output: JsonOption = False,
    debug: DebugOption = False,
    env_py_wrapper: WrapperOption = None,
    version_table: VersionTableOption = "alembic_version",
) -> None:
    """Lint every pending step from the SQL it runs, sized by the tables it touches."""
    from runner.cli.lint_view import parse_acknowledgements, show_report
    from runner.commands import lint as run_lint
    from runner.lint import catalogue, explain
    from runner.request.flags import from_flags

    imports_done()
    with boundary(debug, json_output=json_output):
        if explain_code is not None:
            text = catalogue() if explain_code.strip().lower() == "list" else explain(explain_code)
            stdout.print(text, markup=False, end="")
            return
        acknowledgements = parse_acknowledgements(acknowledge or [], reason or [])
        if playbook is not None:
            from runner.playbook import load_playbook
            from runner.request.playbook import from_playbook

            request = from_playbook(
                load_playbook(playbook),
                given=given_options(ctx),
                from_revision=from_revision,
                acknowledgements=acknowledgements,
                rehearsal_log=rehearsal_log,
                command=command_line(),
            )
        else:
            request = from_flags(
                config=config,
                target=resolve_target(database_url, required=from_revision is None),
                to=to,
                from_revision=from_revision,
                env_py_wrapper=env_py_wrapper,
                version_table=version_table,
                acknowledgements=acknowledgements,
                rehearsal_log=rehearsal_log,
                command=command_line(),
            )
        result = run_lint(request)
        found, report = result.status, result.report
        for warning in [] if json_output else result.warnings:
            stderr.print(f"warning: {warning}", markup=False)
        if json_output:
            print_json(
                {
                    "target": found.target,
                    "current": list(found.current),
                    "to": list(found.to),
                    **report.as_json(),
                }
            )
        else:
            show_report(found, report)
        blocking = report.blocking()
        if blocking:
            names = list(dict.fromkeys(f"{f.code}:{f.revision}" for f in blocking))
            steps = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            stderr.print(
                f"{len(blocking)} block finding(s) are not acknowledged ({steps}); apply refuses those steps. "
                "Make the migration safer, or acknowledge each with --acknowledge CODE:REVISION --reason.",
                markup=False,
            )
            raise typer.Exit(int(ExitCode.REFUSED))
