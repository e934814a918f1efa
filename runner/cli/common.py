"""What every command shares: options, the error boundary, and output."""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from runner.cli.output import GuardedStream
from runner.errors import ConfigError, ExitCode, RunnerError
from runner.interrupts import Interrupted
from runner.project import AlembicProject
from runner.redact import redact
from runner.target import DatabaseTarget

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="The application's alembic.ini.", show_default=True)
]
DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="DATABASE_URL",
        show_default=False,
        help="Target database; defaults to $DATABASE_URL. Keep passwords out of the command line "
        "(use DATABASE_URL, PGPASSWORD or ~/.pgpass).",
    ),
]
ToOption = Annotated[
    str,
    typer.Option(
        "--to",
        help="Target revision: an id, head (refused when the history has several heads) or heads (every branch).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
DebugOption = Annotated[bool, typer.Option("--debug", help="Show tracebacks for internal errors.")]
WrapperOption = Annotated[
    str | None,
    typer.Option(
        "--env-py-wrapper",
        help="MODULE:FUNCTION that receives a zero-argument callable and calls it inside the context "
        "env.py needs (an application context, a worker thread).",
    ),
]
VersionTableOption = Annotated[
    str, typer.Option("--version-table", help="Alembic's version table, as [SCHEMA.]NAME.")
]

PIPE_WIDTH = 160  # a log file or CI output is not an 80-column terminal


def _console(*, to_stderr: bool) -> Console:
    stream = GuardedStream("stderr" if to_stderr else "stdout")
    console = Console(file=stream, highlight=False, soft_wrap=True)  # type: ignore[arg-type]
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(file=stream, highlight=False, soft_wrap=True, width=PIPE_WIDTH)  # type: ignore[arg-type]
    return console


PlaybookOption = Annotated[
    Path | None,
    typer.Option(
        "--playbook",
        help="A YAML playbook: the project, target, guards, checks, failure policies and window. With it, "
        "the options the playbook sets can't be given on the command line.",
    ),
]


stdout = _console(to_stderr=False)
stderr = _console(to_stderr=True)


@contextmanager
def boundary(debug: bool) -> Iterator[None]:
    """Turn every failure into one paragraph and a documented exit code; tracebacks only with --debug."""
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except RunnerError as exc:
        report_error(str(exc))
        if debug:
            traceback.print_exc()
        raise typer.Exit(int(exc.exit_code)) from None
    except KeyboardInterrupt as exc:
        how = (
            exc.signal_name
            if isinstance(exc, Interrupted) and exc.signal_name != "SIGINT"
            else "the operator"
        )
        report_error(f"Interrupted by {how} before any change was made.")
        raise typer.Exit(int(ExitCode.HALTED)) from None
    except Exception as exc:
        report_error(
            f"Internal error ({type(exc).__name__}: {redact(str(exc))}). This is a bug in the runner; "
            "run the same command with --debug for the traceback and report it."
        )
        if debug:
            traceback.print_exc()
        raise typer.Exit(int(ExitCode.INTERNAL)) from None


def report_error(message: str) -> None:
    stderr.print(f"error: {redact(message)}", markup=False)


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(redact(payload), indent=2, default=str) + "\n")


def resolve_target(
    database_url: str | None,
    *,
    required: bool = True,
    option: str = "--database-url",
    instead: str = "Put the URL in DATABASE_URL, or the password in PGPASSWORD or ~/.pgpass.",
) -> DatabaseTarget | None:
    """The target a URL names; one with a password typed on the command line is refused.

    ``option`` names where the URL was given (``--database-url`` also reads
    DATABASE_URL; any other option or argument is always the command line), and
    ``instead`` says where the password belongs.
    """
    if not database_url:
        if required:
            raise ConfigError(
                "No target database: pass --database-url or set DATABASE_URL (the runner never falls back "
                "to the sqlalchemy.url in alembic.ini)."
            )
        return None
    from_command_line = option != "--database-url" or database_url != os.environ.get("DATABASE_URL")
    target = DatabaseTarget.parse(database_url, source=option if from_command_line else "DATABASE_URL")
    if from_command_line and target.has_password:
        raise ConfigError(
            f"{option} {target.display} carries a password on the command line, where the process "
            f"list and shell history keep it. {instead}"
        )
    return target


def load_project(config: Path, target: DatabaseTarget | None, wrapper: str | None) -> AlembicProject:
    return AlembicProject.load(
        config, database_url=target.for_alembic() if target else None, env_py_wrapper=wrapper
    )
