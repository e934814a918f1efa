"""``runner audit``: check an audit log's hash chain."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Annotated

import typer

from runner import db
from runner.audit import verify_file
from runner.audit.anchor import anchor_problems
from runner.cli.common import (
    DatabaseUrlOption,
    DebugOption,
    JsonOption,
    boundary,
    print_json,
    report_error,
    resolve_target,
    stdout,
)
from runner.errors import ConfigError, ExitCode

app = typer.Typer(help="Audit log tools.", no_args_is_help=True)


@app.command("verify")
def verify(
    log: Annotated[Path, typer.Argument(help="The audit log (JSON lines).")],
    database_url: DatabaseUrlOption = None,
    json_output: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Check the hash chain; name the first line that was edited, removed or reordered.

    With a database URL, also check each run's last hash against the one the
    target recorded in runner_history.
    """
    with boundary(debug):
        if not log.is_file():
            raise ConfigError(f"Audit log {log} does not exist.")
        result = verify_file(log)
        anchored, problems = 0, []
        target = resolve_target(database_url, required=False)
        if result.ok and target is not None:
            with closing(db.connect(target)) as conn:
                anchored, problems = anchor_problems(conn, log)
        if json_output:
            print_json(
                {
                    "path": result.path,
                    "ok": result.ok,
                    "lines": result.lines,
                    "bad_line": result.bad_line,
                    "problem": result.problem,
                    "last_hash": result.last_hash,
                    "runs_checked_against_database": anchored,
                    "database_problems": problems,
                }
            )
        elif not result.ok:
            report_error(result.describe())
        elif problems:
            report_error(f"{log}: chain intact, but " + " ".join(problems))
        else:
            anchors = f" {anchored} run(s) match the hashes recorded in the database." if anchored else ""
            stdout.print(result.describe() + anchors, markup=False)
        if not result.ok or problems:
            raise typer.Exit(int(ExitCode.REFUSED))
