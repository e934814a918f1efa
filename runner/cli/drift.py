"""``runner drift``: how two schemas really differ, and what of it matters to the pending plan.

Exit codes: 0 no drift, 8 drift found (a difference, or a pending step the
source's schema makes fail or act differently), 6 a database unreachable, 3
unusable input. The work is ``runner.drift.command.drift``; this only parses,
calls and renders.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from runner.cli.common import (
    DEFAULT_CONFIG,
    ConfigOption,
    DebugOption,
    JsonOption,
    VersionTableOption,
    WrapperOption,
    boundary,
    print_json,
    stdout,
    url_option,
)
from runner.errors import ConfigError
from runner.redact import redact

if TYPE_CHECKING:
    from runner.planning.project import AlembicProject
    from runner.target import DatabaseTarget

_SIDE_HELP = "env:VAR (an environment variable that holds the URL) or a URL without a password"


def drift(
    source: Annotated[
        str,
        typer.Argument(metavar="SOURCE", help=f"The database examined: {_SIDE_HELP}.", show_default=False),
    ],
    target: Annotated[
        str | None,
        typer.Argument(
            metavar="[TARGET]",
            help=f"What it should match: {_SIDE_HELP}. Or --against-head, --against-models.",
            show_default=False,
        ),
    ] = None,
    against_head: Annotated[
        bool,
        typer.Option("--against-head", help="Compare with a throwaway database migrated to the code head."),
    ] = False,
    against_models: Annotated[
        str | None,
        typer.Option(
            "--against-models",
            metavar="MODULE:METADATA",
            help="Compare with SQLAlchemy models (Alembic's autogenerate comparison).",
        ),
    ] = None,
    config: ConfigOption = DEFAULT_CONFIG,
    json_output: JsonOption = False,
    debug: DebugOption = False,
    env_py_wrapper: WrapperOption = None,
    version_table: VersionTableOption = "alembic_version",
) -> None:
    """Compare SOURCE's schema with TARGET's, the code head's or the models'; SQL suggested where simple."""
    with boundary(debug):
        from runner.database.connections import VersionTable
        from runner.drift.command import drift as compare_schemas

        source_target = _side(source, "SOURCE")
        target_target = _side(target, "TARGET") if target is not None else None
        project = _project(config, source_target, env_py_wrapper, required=against_head)
        result = compare_schemas(
            source_target,
            target_target,
            project=project,
            against_head=against_head,
            against_models=against_models,
            labels=(_label(source, source_target), _label(target, target_target)),
            version_table=VersionTable.parse(version_table),
        )
        if json_output:
            print_json(result.as_json())
        else:
            from runner.drift.render import drift_text

            for line in drift_text(result):
                stdout.print(redact(line), markup=False, highlight=False)
    raise typer.Exit(int(result.exit_code))


def _side(spec: str, name: str) -> DatabaseTarget:
    return url_option(spec, name)


def _label(spec: str | None, target: DatabaseTarget | None) -> str:
    if spec is None or target is None:
        return ""
    return spec if spec.startswith("env:") else target.display


def _project(
    config: Path, source: DatabaseTarget, wrapper: str | None, *, required: bool
) -> AlembicProject | None:
    """The Alembic project, when there is one: needed for --against-head, used for the plan check."""
    if not required and not config.is_file():
        return None
    from runner.cli.common import load_project

    if required and not config.is_file():
        raise ConfigError(
            f"--against-head builds the code head from the Alembic project, but {config} does not exist; "
            "pass -c PATH/TO/alembic.ini."
        )
    return load_project(config, source, wrapper)
