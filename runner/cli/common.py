"""What every command shares: options, the error boundary, and output."""

from __future__ import annotations

import gc
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from runner.cli.output import GuardedStream
from runner.errors import ConfigError, ExitCode, RunnerError
from runner.redact import redact, redactor
from runner.run.interrupts import Interrupted

if TYPE_CHECKING:  # imported where used: starting the command line doesn't load Alembic or SQLAlchemy
    from runner.planning.project import AlembicProject
    from runner.target import DatabaseTarget

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="The application's alembic.ini.", show_default=True)
]
DEFAULT_CONFIG = Path("alembic.ini")
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
    # rich annotates file as IO[str]; it uses only write/flush/isatty/fileno/encoding, which GuardedStream has.
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
def boundary(debug: bool, *, json_output: bool = False) -> Iterator[None]:
    """Turn every failure into one paragraph and a documented exit code; tracebacks only with --debug.

    With ``json_output``, whatever the application writes to stdout while the command
    runs goes to stderr, so stdout carries only the JSON document (``json_stdout``).
    """
    with json_stdout(json_output), _errors_reported(debug):
        yield


@contextmanager
def _errors_reported(debug: bool) -> Iterator[None]:
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


class _Process:
    owned = False  # set by runner.cli.main: the command runs once and the process ends with it


def own_process() -> None:
    _Process.owned = True


def imports_done() -> None:
    """Tell the garbage collector that what was imported so far lives as long as the process.

    lint and plan make hundreds of thousands of short-lived objects on a long chain; without
    this, each full collection also walks every object of SQLAlchemy, Alembic and the runner.
    Only in the ``runner`` process itself: a program or a test that calls the app again and
    again would keep every earlier call's garbage for good. The youngest generation is
    collected every 10,000 allocations rather than 700: the thousand revision modules and
    the SQL of each step are made after the freeze, and each collection walks them again.
    """
    if _Process.owned:
        gc.freeze()
        gc.set_threshold(10_000, *gc.get_threshold()[1:])


def report_error(message: str) -> None:
    stderr.print(f"error: {redact(message)}", markup=False)


class _JsonOut:
    """Where the JSON document goes while application output is sent to stderr."""

    fd: int | None = None  # a duplicate of the real stdout's file descriptor
    stream: Any = None  # the stdout object, when it is not backed by file descriptor 1 (in-process tests)


@contextmanager
def json_stdout(enabled: bool) -> Iterator[None]:
    """Send everything written to stdout to stderr, at the file-descriptor level, while the block runs.

    env.py, migrations and wrappers print, configure logging handlers bound to
    ``sys.stdout``, start subprocesses and load C extensions that write to fd 1:
    with fd 1 pointing at fd 2 and ``sys.stdout`` rebound to ``sys.stderr``, all of
    it reaches stderr, and ``print_json`` writes the one document to the real stdout.
    """
    if not enabled or _JsonOut.fd is not None or _JsonOut.stream is not None:
        yield
        return
    previous = sys.stdout
    previous.flush()
    try:
        on_fd_1 = previous.fileno() == 1
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation: a stream without a descriptor
        on_fd_1 = False
    if on_fd_1:
        _JsonOut.fd = os.dup(1)
        os.dup2(2, 1)
    else:
        _JsonOut.stream = previous
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        sys.stderr.flush()
        sys.stdout = previous
        if _JsonOut.fd is not None:
            os.dup2(_JsonOut.fd, 1)
            os.close(_JsonOut.fd)
        _JsonOut.fd = _JsonOut.stream = None


def print_json(payload: Any) -> None:
    from runner.cli.json_text import json_text

    text = json_text(payload, redactor().text) + "\n"  # json.dumps(redact(payload), indent=2, default=str)
    if _JsonOut.fd is not None:
        data = text.encode("utf-8")
        while data:  # os.write may write less than it was given
            data = data[os.write(_JsonOut.fd, data) :]
        return
    stream = _JsonOut.stream or sys.stdout
    stream.write(text)
    stream.flush()


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
    from runner.target import DatabaseTarget

    from_command_line = option != "--database-url" or database_url != os.environ.get("DATABASE_URL")
    target = DatabaseTarget.parse(database_url, source=option if from_command_line else "DATABASE_URL")
    if from_command_line and target.has_password:
        raise ConfigError(
            f"{option} {target.display} carries a password on the command line, where the process "
            f"list and shell history keep it. {instead}"
        )
    return target


def url_option(spec: str, option: str) -> DatabaseTarget:
    """``env:VAR`` (the variable holds the URL) or a URL without a password, as an option's value."""
    from runner.drift.command import ENV_PREFIX, resolve

    if spec.startswith(ENV_PREFIX):
        return resolve(spec)
    found = resolve_target(
        spec,
        option=option,
        instead="Put the URL in an environment variable and pass env:VAR, or the password in PGPASSWORD or "
        "~/.pgpass.",
    )
    assert found is not None
    return found


def given_options(ctx: typer.Context) -> list[str]:
    """The options the operator typed on the command line (not defaults, not the environment)."""
    given = []
    for name in ctx.params:
        source = ctx.get_parameter_source(name)
        if source is not None and source.name == "COMMANDLINE":
            given.append(name)
    return given


def load_project(config: Path, target: DatabaseTarget | None, wrapper: str | None) -> AlembicProject:
    from runner.planning.project import AlembicProject

    return AlembicProject.load(
        config, database_url=target.for_alembic() if target else None, env_py_wrapper=wrapper
    )
