"""``runner status``: current revision(s), heads and the pending chain."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from runner.cli.common import (
    DEFAULT_CONFIG,
    ConfigOption,
    DatabaseUrlOption,
    DebugOption,
    JsonOption,
    VersionTableOption,
    WrapperOption,
    boundary,
    print_json,
    resolve_target,
    stdout,
)
from runner.cli.output import command_line
from runner.cli.plain import show_table
from runner.errors import ConfigError

if TYPE_CHECKING:
    from runner.planning.status import Status

_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def status(
    config: ConfigOption = DEFAULT_CONFIG,
    database_url: DatabaseUrlOption = None,
    json_output: JsonOption = False,
    debug: DebugOption = False,
    env_py_wrapper: WrapperOption = None,
    version_table: VersionTableOption = "alembic_version",
    env: Annotated[
        list[str] | None,
        typer.Option(
            "--env",
            metavar="NAME=VARIABLE",
            help="An environment and the variable holding its database URL (repeatable): where each stands. "
            "Never a URL here: passwords stay out of the command line.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Show where the database stands against the code, and what an upgrade would apply."""
    from runner.commands import status as read
    from runner.request.flags import from_flags

    with boundary(debug, json_output=json_output):
        if env:
            show_environments(config, env, env_py_wrapper, version_table, json_output)
            return
        request = from_flags(
            config=config,
            target=resolve_target(database_url),
            to="heads",  # status lists every head
            env_py_wrapper=env_py_wrapper,
            version_table=version_table,
            command=command_line(),
        )
        found = read(request)
        if json_output:
            print_json(found.as_json())
        else:
            show_status(found)


def show_status(found: Status) -> None:
    stdout.print(f"Target   {found.target}", markup=False)
    stdout.print(f"Current  {', '.join(found.current) or '<base> (no version table)'}", markup=False)
    stdout.print(f"Heads    {', '.join(found.heads)}", markup=False)
    if found.in_progress is not None:
        stdout.print(
            f"Running  a migration run holds the run lock: {found.in_progress.describe()}", markup=False
        )
    for run in found.unfinished:
        stdout.print(f"Unfinished  {run.describe()}", markup=False)
        stdout.print(f"            Next: {run.next_step()}", markup=False)
    if found.up_to_date:
        stdout.print("Up to date: nothing to apply.")
        return
    stdout.print(f"Pending  {len(found.pending)} revision(s), in apply order:")
    rows = [
        [str(number), r.revision, r.down_revision or "<base>", str(r.downgrade), r.message]
        for number, r in enumerate(found.pending, start=1)
    ]
    show_table(stdout, ("#", "revision", "from", "downgrade", "message"), rows)


def show_environments(
    config: Path, specs: list[str], wrapper: str | None, version_table: str, json_output: bool
) -> None:
    from runner.commands import environments
    from runner.drift.render import environments_text
    from runner.request.flags import from_flags

    variables: dict[str, str] = {}
    for spec in specs:
        name, sep, variable = spec.partition("=")
        if not sep or not name.strip() or not _VARIABLE.fullmatch(variable.strip()):
            raise ConfigError(
                f"--env {spec!r} is not NAME=VARIABLE: give the name of the environment variable that holds the "
                "database URL (--env production=PROD_DATABASE_URL), never the URL itself."
            )
        variables[name.strip()] = variable.strip()
    request = from_flags(
        config=config,
        target=None,
        env_py_wrapper=wrapper,
        version_table=version_table,
        command=command_line(),
    )
    found = environments(request, variables)
    if json_output:
        print_json(found.as_json())
        return
    for line in environments_text(found):
        stdout.print(line, markup=False)
