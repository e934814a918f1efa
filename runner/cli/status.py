"""``runner status``: current revision(s), heads and the pending chain."""

from __future__ import annotations

from rich.table import Table

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
from runner.planning.status import Status


def status(
    config: ConfigOption = DEFAULT_CONFIG,
    database_url: DatabaseUrlOption = None,
    json_output: JsonOption = False,
    debug: DebugOption = False,
    env_py_wrapper: WrapperOption = None,
    version_table: VersionTableOption = "alembic_version",
) -> None:
    """Show where the database stands against the code, and what an upgrade would apply."""
    from runner.commands import status as read
    from runner.request.flags import from_flags

    with boundary(debug, json_output=json_output):
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
    table = Table(show_edge=False, pad_edge=False, box=None)
    for column in ("#", "revision", "from", "downgrade", "message"):
        table.add_column(column)
    for number, revision in enumerate(found.pending, start=1):
        table.add_row(
            str(number),
            revision.revision,
            revision.down_revision or "<base>",
            str(revision.downgrade),
            revision.message,
        )
    stdout.print(table)
