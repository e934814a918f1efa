"""``runner restore``: the exact way back from a run's snapshot; with ``--execute``, taken into a new identifier."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from runner.cli.common import DebugOption, JsonOption, boundary, print_json, stderr


def restore(
    audit_log: Annotated[Path, typer.Option("--audit-log", help="The audit log of the run to restore from.")],
    run: Annotated[
        str | None, typer.Option("--run", help="Which run (default: the last one with a snapshot).")
    ] = None,
    execute: Annotated[
        bool, typer.Option("--execute", help="Restore into a new instance or cluster (needs --yes).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm --execute.")] = False,
    new_identifier: Annotated[
        str | None, typer.Option("--new-identifier", help="The restored instance's (or cluster's) name.")
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="AWS region (default: the snapshot's).")
    ] = None,
    json_output: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Print the restore runbook for a run's snapshot; --execute --yes performs it into a new identifier."""
    from runner.commands._restore import restore as run_restore
    from runner.redact import redact

    with boundary(debug, json_output=json_output):
        result = run_restore(
            audit_log,
            run_id=run,
            execute=execute,
            confirmed=yes,
            new_identifier=new_identifier,
            region=region,
            progress=lambda p: stderr.print(f"  {p.describe()}", markup=False),
        )
        if json_output:
            from runner.aws.runbook import plan_as_dict

            print_json(
                {
                    "run_id": result.run_id,
                    "plan": plan_as_dict(result.plan),
                    "runbook": result.runbook,
                    "executed": result.outcome is not None,
                    "new_identifier": result.plan.new_identifier,
                    "endpoint": result.outcome.endpoint if result.outcome else None,
                }
            )
            return
        sys.stdout.write(str(redact(result.runbook)).rstrip() + "\n")
        if result.outcome is not None:
            stderr.print(
                f"Restored into {result.outcome.new_identifier} ({result.outcome.endpoint}); the original is "
                "untouched. Point the application at the new endpoint as the runbook says.",
                markup=False,
            )
