"""``runner audit``: check an audit log's hash chain, and turn a run into a runbook report."""

from __future__ import annotations

import sys
from contextlib import closing
from pathlib import Path
from typing import Annotated

import typer

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
    from runner.audit import verify_file
    from runner.audit.anchor import anchor_problems
    from runner.database import connections
    from runner.database.history import TABLE as HISTORY_TABLE
    from runner.database.reads import refusing_when_blocked

    with boundary(debug, json_output=json_output):
        result = verify_file(log)
        anchored = 0
        problems: list[str] = []
        target = resolve_target(database_url, required=False)
        if result.ok and target is not None:
            with (
                closing(connections.connect(target)) as conn,
                refusing_when_blocked(conn, f"the recorded run hashes from {HISTORY_TABLE}", [HISTORY_TABLE]),
            ):
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


@app.command("report")
def report(
    log: Annotated[Path, typer.Argument(help="The audit log (JSON lines).")],
    run: Annotated[
        str | None, typer.Option("--run", help="Which run (default: the last one in the log).")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here.")] = None,
    html: Annotated[
        bool, typer.Option("--html", help="A standalone HTML page, with the steps drawn on a timeline.")
    ] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Markdown (the default).")] = False,
    debug: DebugOption = False,
) -> None:
    """Write the runbook report of one run, made only from the audit log."""
    from runner.audit.html_report import render_html
    from runner.audit.private_file import write_private
    from runner.audit.reader import events_of, read_lines
    from runner.audit.report import render_markdown, runs_in
    from runner.audit.verify import verify_lines

    with boundary(debug):
        if html and markdown:
            raise ConfigError(
                "--html and --markdown can't be given together: the report is one or the other."
            )
        lines = read_lines(log)
        checked = verify_lines(str(log), lines)
        events = events_of(lines)
        runs = runs_in(events)
        if not runs:
            raise ConfigError(f"Audit log {log} holds no runs.")
        run_id = run or runs[-1]
        if run_id not in runs:
            raise ConfigError(f"Run {run_id} is not in {log}; it holds {', '.join(runs)}.")
        note = (
            f"The chain of {checked.lines} lines in {log} verified intact."
            if checked.ok
            else f"WARNING: the chain is broken: {checked.describe()}"
        )
        render = render_html if html else render_markdown
        text = render(events, run_id, chain_note=note, log=str(log))
        if output:
            write_private(output, text, option="--output", log=log)
            stdout.print(f"Report of run {run_id} written to {output}.", markup=False)
        else:
            sys.stdout.write(text)
        if not checked.ok:
            raise typer.Exit(int(ExitCode.REFUSED))
