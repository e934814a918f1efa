"""``runner plan``: the steps apply would take, each with its offline SQL on request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from runner.cli.common import (
    ConfigOption,
    DatabaseUrlOption,
    DebugOption,
    JsonOption,
    PlaybookOption,
    ToOption,
    VersionTableOption,
    WrapperOption,
    boundary,
    load_project,
    print_json,
    resolve_target,
    stdout,
)
from runner.cli.status import show_status
from runner.database.connections import VersionTable
from runner.plan.status import read_status

if TYPE_CHECKING:
    from runner.lint import LintReport
    from runner.plan.offline import RenderedStep
    from runner.plan.status import Status


def plan(
    ctx: typer.Context,
    config: ConfigOption = "alembic.ini",  # type: ignore[assignment]
    database_url: DatabaseUrlOption = None,
    to: ToOption = "head",
    from_revision: Annotated[
        str | None,
        typer.Option("--from", help="Plan from this revision without a database ('base' for an empty one)."),
    ] = None,
    sql: Annotated[bool, typer.Option("--sql", help="Print each step's offline SQL for review.")] = False,
    json_output: JsonOption = False,
    debug: DebugOption = False,
    env_py_wrapper: WrapperOption = None,
    version_table: VersionTableOption = "alembic_version",
    playbook: PlaybookOption = None,
    lint_steps: Annotated[
        bool,
        typer.Option("--lint/--no-lint", help="Lint each step: risk, lock, reversible, estimated time."),
    ] = True,
) -> None:
    """Show the steps an apply would take, one revision per transaction, in order."""
    from runner.cli.lint_view import add_risks, lint_pending, show_risks
    from runner.plan import offline

    with boundary(debug, json_output=json_output):
        if playbook is not None:
            from runner.cli.playbook_plan import plan_playbook

            plan_playbook(
                ctx,
                playbook,
                from_revision=from_revision,
                sql=sql,
                json_output=json_output,
                lint_steps=lint_steps,
            )
            return
        target = resolve_target(database_url, required=from_revision is None)
        project = load_project(config, target, env_py_wrapper)

        def planned() -> tuple[Status, list[RenderedStep], LintReport | None]:
            found = read_status(
                project,
                target,
                to=to,
                version_table=VersionTable.parse(version_table),
                from_revision=from_revision,
            )
            wanted = (sql or lint_steps) and found.pending
            rendered = offline.render(project, list(found.pending)) if wanted else []
            report = None
            if lint_steps and found.pending:
                report = lint_pending(project, found, target, version_table=version_table, rendered=rendered)
            return found, rendered, report

        found, rendered, report = project.within_wrapper(planned)
        if not sql:
            rendered = []
        if json_output:
            payload = found.as_json()
            if report is not None:
                add_risks(payload, report)
            if sql:
                add_sql(payload, rendered)
            print_json(payload)
            return
        show_status(found)
        if report is not None:
            show_risks(report)
        show_sql(rendered)


def add_sql(payload: dict[str, Any], rendered: list[RenderedStep]) -> None:
    """Each pending step's offline SQL (or why it can't be rendered) in plan's JSON."""
    by_revision = {r.revision: r for r in rendered}
    for step in payload["pending"]:
        done = by_revision.get(step["revision"])
        step["sql"] = done.sql if done else None
        step["sql_error"] = done.error if done else None


def show_sql(rendered: list[RenderedStep]) -> None:
    for step in rendered:
        stdout.rule(f"{step.revision} ({step.direction})")
        if step.error:
            stdout.print(f"-- cannot render offline: {step.error}", markup=False)
        else:
            stdout.print(step.sql or "", markup=False, end="")
