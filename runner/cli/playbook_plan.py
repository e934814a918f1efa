"""``runner plan --playbook``: the steps, each with the playbook's rules and risks, and the window ahead.

Planning needs no database when the playbook says where it starts
(``from_revision``) and its URL variable is not set; with the variable set the
plan starts where the database really is. Lint findings are shown with the
playbook's acknowledgements applied, so what the plan calls unacknowledged is
what apply would refuse.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from runner.cli.common import print_json
from runner.cli.plan import add_sql, show_sql
from runner.cli.playbook import Opened, open_playbook, print_warnings, refuse_overlaps
from runner.cli.playbook_view import playbook_json, show_playbook
from runner.cli.status import show_status
from runner.database.connections import VersionTable
from runner.errors import ConfigError
from runner.plan import offline
from runner.plan.offline import RenderedStep
from runner.plan.project import Revision
from runner.plan.status import Status, read_status
from runner.playbook.schedule import Schedule
from runner.playbook.timings import Estimator

PLAN_OPTIONS = {
    "config": ("--config", "project.alembic_config"),
    "database_url": ("--database-url", "target.url_env"),
    "to": ("--to", "project.target_revision"),
    "env_py_wrapper": ("--env-py-wrapper", "project.env_py_wrapper"),
    "version_table": ("--version-table", "project.version_table"),
}


def plan_playbook(
    ctx: typer.Context,
    path: Path,
    *,
    from_revision: str | None,
    sql: bool,
    json_output: bool,
    lint_steps: bool = True,
) -> None:
    refuse_overlaps(ctx, PLAN_OPTIONS)
    open_playbook(
        path,
        lambda opened: _plan(
            opened, from_revision=from_revision, sql=sql, json_output=json_output, lint_steps=lint_steps
        ),
        need_target=False,
    )


def _plan(
    opened: Opened, *, from_revision: str | None, sql: bool, json_output: bool, lint_steps: bool
) -> None:
    if not json_output:
        print_warnings(opened)
    found = _status(opened, from_revision)
    book, project = opened.playbook, opened.project
    pending = list(found.pending)
    schedule = Schedule(book.window, Estimator(book))
    rendered = offline.render(project, pending) if (sql or lint_steps) and pending else []
    report = _lint(opened, pending, rendered) if lint_steps and pending else None
    shown_sql = rendered if sql else []
    if json_output:
        payload = found.as_json()
        payload["playbook"] = playbook_json(book, pending, schedule)
        if report is not None:
            from runner.cli.lint_view import add_risks

            add_risks(payload, report)
        if sql:
            add_sql(payload, shown_sql)
        print_json(payload)
        return
    show_status(found)
    show_playbook(book, pending, schedule)
    if report is not None:
        from runner.cli.lint_view import show_risks

        show_risks(report)
    show_sql(shown_sql)


def _status(opened: Opened, from_revision: str | None) -> Status:
    book, project = opened.playbook, opened.project
    to = book.project.target_revision
    if opened.target is not None and from_revision is None:
        table = VersionTable.parse(book.project.version_table)
        return read_status(project, opened.target, to=to, version_table=table)
    start = from_revision or book.project.from_revision
    if start is None:
        raise ConfigError(
            f"The playbook has no from_revision and ${book.target.url_env} is not set, so there is nothing to "
            "plan from; set the variable, or pass --from REVISION."
        )
    return read_status(project, None, to=to, from_revision=start)


def _lint(opened: Opened, pending: list[Revision], rendered: list[RenderedStep]) -> Any:
    """The lint report with the playbook's acknowledgements, or None when runner.lint is not there."""
    try:
        from runner.cli.lint_view import read_target_stats
        from runner.lint import Acknowledgement, analyse
    except ImportError:  # lint is a separate part of the runner; the plan stands without it
        return None
    book = opened.playbook
    return analyse(
        opened.project,
        pending,
        stats=read_target_stats(opened.target),
        acknowledgements=[Acknowledgement(a.code, a.revision, a.reason) for a in book.acknowledgements],
        version_table=book.project.version_table,
        rendered=rendered or None,
    )
