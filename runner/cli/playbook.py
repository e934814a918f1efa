"""``runner playbook validate|schema``, and opening a playbook for ``apply`` and ``plan``.

Opening a playbook is always the same three stages: the file's shape, its
consistency, then its meaning against the Alembic project and the environment.
Errors stop the command with exit code 3 (every problem listed, one paragraph
each); warnings are printed and the command goes on.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from runner.cli.common import DebugOption, JsonOption, PlaybookOption, boundary, print_json, stderr, stdout
from runner.errors import ConfigError, RunnerError

if TYPE_CHECKING:  # the playbook package loads pydantic models: only import it when a playbook is used
    from runner.plan.project import AlembicProject, Revision
    from runner.playbook import Playbook
    from runner.target import DatabaseTarget

__all__ = ["Opened", "PlaybookOption", "app", "open_playbook", "print_warnings", "refuse_overlaps"]

app = typer.Typer(
    help="Declarative playbooks: check one against the project, or print their JSON Schema.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@dataclass(frozen=True)
class Opened:
    playbook: Playbook
    project: AlembicProject
    target: DatabaseTarget | None
    warnings: tuple[str, ...]


def open_playbook(
    path: Path, then: Callable[[Opened], Any] | None = None, *, need_target: bool = True
) -> Any:
    """Load and validate ``path``, then run ``then`` with it (by default, return it).

    InvalidPlaybook (exit 3) lists every error. Validation and ``then`` run inside
    the project's --env-py-wrapper, entered once for both.
    """
    from runner.playbook import InvalidPlaybook, load_playbook
    from runner.playbook.problems import Severity, render_all
    from runner.playbook.validate import load_project, meaning
    from runner.target import DatabaseTarget

    playbook = load_playbook(path)
    raw_url = os.environ.get(playbook.target.url_env)
    target: DatabaseTarget | None = None
    if raw_url:
        try:
            target = DatabaseTarget.parse(raw_url, source=f"${playbook.target.url_env}")
        except RunnerError:
            target = None  # meaning() reports it, at the line of url_env
    project = load_project(playbook, database_url=target.for_alembic() if target else None)

    def opened() -> Any:
        problems = meaning(playbook, project, check_env=need_target)
        errors = [p for p in problems if p.severity is Severity.ERROR]
        if errors:
            raise InvalidPlaybook(playbook.source, render_all(errors, playbook.source, playbook.locations))
        warnings = [p for p in problems if p.severity is Severity.WARNING]
        rendered = tuple(render_all(warnings, playbook.source, playbook.locations))
        found = Opened(playbook, project, target, rendered)
        return then(found) if then is not None else found

    return project.within_wrapper(opened)


def refuse_overlaps(ctx: typer.Context, options: dict[str, tuple[str, str]]) -> None:
    """Refuse command-line options the playbook sets itself, so the run does what was reviewed."""
    for name, (option, key) in options.items():
        source = ctx.get_parameter_source(name)
        if source is not None and source.name == "COMMANDLINE":
            raise ConfigError(
                f"{option} can't be combined with --playbook: the playbook sets it ({key}). Change the playbook "
                "instead, so the run does what was reviewed."
            )


def print_warnings(opened: Opened) -> None:
    for warning in opened.warnings:
        stderr.print(f"warning: {warning}", markup=False)


@app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="The playbook to check.", show_default=False)],
    no_env_check: Annotated[
        bool,
        typer.Option(
            "--no-env-check",
            help="Don't require the environment variable holding the database URL (for CI, where it isn't set).",
        ),
    ] = False,
    json_output: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Check a playbook's shape, then its meaning against the Alembic project and the environment."""
    from runner.playbook import InvalidPlaybook

    with boundary(debug, json_output=json_output):

        def steps_of(opened: Opened) -> tuple[Opened, list[Revision]]:
            book = opened.playbook
            start = (book.project.from_revision,) if book.project.from_revision else ()
            return opened, opened.project.pending(start, book.project.target_revision)

        try:
            opened, steps = open_playbook(file, steps_of, need_target=not no_env_check)
        except InvalidPlaybook as exc:
            if json_output:
                print_json({"valid": False, "errors": exc.problems, "warnings": []})
            raise
        book = opened.playbook
        if json_output:
            print_json(
                {
                    "valid": True,
                    "errors": [],
                    "warnings": list(opened.warnings),
                    "steps": [s.revision for s in steps],
                }
            )
            return
        print_warnings(opened)
        start = book.project.from_revision or "<base>"
        stdout.print(
            f"{book.source} is valid: {book.target.environment} target {book.target.name!r}, "
            f"{len(steps)} step(s) from {start} to {book.project.target_revision}, "
            f"{len(opened.warnings)} warning(s).",
            markup=False,
        )


@app.command("schema")
def schema() -> None:
    """Print the playbook's JSON Schema (for editor completion and CI checks)."""
    from runner.playbook.model import PlaybookModel

    document = PlaybookModel.model_json_schema()
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "migration-runner playbook"
    sys.stdout.write(json.dumps(document, indent=2) + "\n")
