"""``runner audit``: check an audit log's hash chain."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from runner.audit import verify_file
from runner.cli.common import DebugOption, JsonOption, boundary, print_json, report_error, stdout
from runner.errors import ConfigError, ExitCode

app = typer.Typer(help="Audit log tools.", no_args_is_help=True)


@app.command("verify")
def verify(
    log: Annotated[Path, typer.Argument(help="The audit log (JSON lines).")],
    json_output: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Check the hash chain; name the first line that was edited, removed or reordered."""
    with boundary(debug):
        if not log.is_file():
            raise ConfigError(f"Audit log {log} does not exist.")
        result = verify_file(log)
        if json_output:
            print_json(
                {
                    "path": result.path,
                    "ok": result.ok,
                    "lines": result.lines,
                    "bad_line": result.bad_line,
                    "problem": result.problem,
                    "last_hash": result.last_hash,
                }
            )
        elif result.ok:
            stdout.print(result.describe(), markup=False)
        else:
            report_error(result.describe())
        if not result.ok:
            raise typer.Exit(int(ExitCode.REFUSED))
