"""``runner playbook validate|schema``: check a playbook, or print the JSON Schema editors use.

Checking is the same three stages every command that opens a playbook goes
through: the file's shape, its consistency, then its meaning against the Alembic
project and the environment (``runner.commands.project``). Errors stop the
command with exit code 3 (every problem listed, one paragraph each); warnings
are printed and the command goes on.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from runner.cli.common import DebugOption, JsonOption, PlaybookOption, boundary, print_json, stderr, stdout

if TYPE_CHECKING:  # the playbook package loads pydantic models: only import it when a playbook is used
    from runner.planning.revisions import Revision

__all__ = ["PlaybookOption", "app", "print_warnings"]

app = typer.Typer(
    help="Declarative playbooks: check one against the project, or print their JSON Schema.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


def print_warnings(warnings: tuple[str, ...]) -> None:
    for warning in warnings:
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
        from runner.commands.project import Opened, within_project
        from runner.playbook import load_playbook
        from runner.request.playbook import from_playbook

        book = load_playbook(file)
        request = from_playbook(book)

        def steps_of(opened: Opened) -> tuple[tuple[str, ...], list[Revision]]:
            start = (book.project.from_revision,) if book.project.from_revision else ()
            return opened.warnings, opened.project.pending(start, book.project.target_revision)

        try:
            warnings, steps = within_project(request, steps_of, need_target=not no_env_check)
        except InvalidPlaybook as exc:
            if json_output:
                print_json({"valid": False, "errors": exc.problems, "warnings": []})
            raise
        if json_output:
            print_json(
                {
                    "valid": True,
                    "errors": [],
                    "warnings": list(warnings),
                    "steps": [s.revision for s in steps],
                }
            )
            return
        print_warnings(warnings)
        start = book.project.from_revision or "<base>"
        stdout.print(
            f"{book.source} is valid: {book.target.environment} target {book.target.name!r}, "
            f"{len(steps)} step(s) from {start} to {book.project.target_revision}, "
            f"{len(warnings)} warning(s).",
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
