"""``runner plan``: the steps apply would take, the limits each runs under, their risk and SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from runner.cli.common import (
    DEFAULT_CONFIG,
    ConfigOption,
    DatabaseUrlOption,
    DebugOption,
    JsonOption,
    PlaybookOption,
    ToOption,
    VersionTableOption,
    WrapperOption,
    boundary,
    given_options,
    imports_done,
    print_json,
    resolve_target,
    stderr,
    stdout,
)
from runner.cli.output import command_line
from runner.cli.plain import rule, say, show_table
from runner.durations import format_ms

if TYPE_CHECKING:
    from runner.commands import PlanResult
    from runner.planning.offline import RenderedStep

FromOption = Annotated[
    str | None,
    typer.Option(
        "--from", help="Plan from this revision without reading the database's ('base' for an empty one)."
    ),
]


def plan(
    ctx: typer.Context,
    config: ConfigOption = DEFAULT_CONFIG,
    database_url: DatabaseUrlOption = None,
    to: ToOption = "head",
    from_revision: FromOption = None,
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
    from runner.commands import plan as make_plan
    from runner.lint import analyse  # noqa: F401  (loaded before imports_done: it lives as long as the process)
    from runner.request.flags import from_flags

    imports_done()
    with boundary(debug, json_output=json_output):
        if playbook is not None:
            from runner.playbook import load_playbook
            from runner.request.playbook import from_playbook

            request = from_playbook(
                load_playbook(playbook),
                given=given_options(ctx),
                from_revision=from_revision,
                command=command_line(),
            )
        else:
            request = from_flags(
                config=config,
                target=resolve_target(database_url, required=from_revision is None),
                to=to,
                from_revision=from_revision,
                env_py_wrapper=env_py_wrapper,
                version_table=version_table,
                command=command_line(),
            )
        result = make_plan(request, sql=sql, lint=lint_steps)
        if json_output:
            print_json(plan_json(result))
            return
        show_plan(result)


def plan_json(result: PlanResult) -> dict[str, Any]:
    payload = result.status.as_json()
    for step in payload["pending"]:
        settings = result.settings[step["revision"]]
        step["guards"] = {
            **{name: ms for name, ms in settings.guards.settings_ms().items()},
            "attempts": settings.retry.attempts,
            "source": settings.source,
        }
    if result.playbook is not None and result.schedule is not None:
        from runner.cli.playbook_view import playbook_json

        payload["playbook"] = playbook_json(result.playbook, list(result.status.pending), result.schedule)
    if result.report is not None:
        from runner.cli.lint_view import add_risks

        add_risks(payload, result.report)
    if result.rendered:
        add_sql(payload, list(result.rendered))
    return payload


def show_plan(result: PlanResult) -> None:
    from runner.cli.status import show_status

    for warning in result.warnings:
        stderr.print(f"warning: {warning}", markup=False)
    show_status(result.status)
    if result.playbook is not None and result.schedule is not None:
        from runner.cli.playbook_view import show_playbook

        show_playbook(result.playbook, list(result.status.pending), result.schedule)
    if result.status.pending:
        show_guards(result)
    if result.report is not None:
        from runner.cli.lint_view import show_risks

        show_risks(result.report)
    show_sql(list(result.rendered))


def show_guards(result: PlanResult) -> None:
    """Each step's limits and retries, and where they came from (runner.request.guards: one order)."""
    stdout.print("")
    stdout.print(
        "Guards   lowest first: runner defaults, then the command line or the playbook's guards, then lint's "
        "profile for steps that need more, then the playbook's own settings for a step",
        markup=False,
    )
    rows = []
    for revision in result.status.pending:
        settings = result.settings[revision.revision]
        guards = settings.guards
        rows.append(
            [
                revision.revision,
                format_ms(guards.lock_timeout_ms),
                format_ms(guards.statement_timeout_ms),
                str(settings.retry.attempts),
                settings.source,
            ]
        )
    show_table(stdout, ("revision", "lock_timeout", "statement_timeout", "attempts", "from"), rows)


def add_sql(payload: dict[str, Any], rendered: list[RenderedStep]) -> None:
    """Each pending step's offline SQL (or why it can't be rendered) in plan's JSON."""
    by_revision = {r.revision: r for r in rendered}
    for step in payload["pending"]:
        done = by_revision.get(step["revision"])
        step["sql"] = done.sql if done else None
        step["sql_error"] = done.error if done else None


def show_sql(rendered: list[RenderedStep]) -> None:
    for step in rendered:
        rule(stdout, f"{step.revision} ({step.direction})")
        if step.error:
            say(stdout, f"-- cannot render offline: {step.error}")
        else:
            say(stdout, step.sql or "", end="")
