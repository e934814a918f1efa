"""``lint``: the risk of every pending step, from the SQL it really runs and the real table sizes."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runner.commands.project import Opened, within_project
from runner.errors import ConfigError
from runner.planning.status import Status, read_status
from runner.request import RunRequest
from runner.target import DatabaseTarget

if TYPE_CHECKING:
    from runner.lint import LintReport, Stats
    from runner.planning.offline import RenderedStep


@dataclass(frozen=True)
class LintResult:
    status: Status
    report: LintReport
    warnings: tuple[str, ...] = ()  # the playbook's, already rendered with file and line


def lint(request: RunRequest) -> LintResult:
    """Lint the pending steps; blocking findings are in ``report.blocking()`` (apply would refuse them)."""

    def linted(opened: Opened) -> LintResult:
        found = pending_status(request, opened)
        return LintResult(found, lint_pending(request, opened, found), opened.warnings)

    return within_project(request, linted, need_target=False)


def pending_status(request: RunRequest, opened: Opened) -> Status:
    """Where planning starts: the database (when there is one and no --from), else --from or the playbook's."""
    project = opened.project
    if request.target is not None and request.from_revision is None:
        return read_status(project, request.target, to=request.to, version_table=request.version_table)
    start = request.from_revision or (request.playbook.project.from_revision if request.playbook else None)
    if start is None:
        where = (
            f"${request.playbook.target.url_env} is not set"
            if request.playbook
            else "no database URL was given"
        )
        raise ConfigError(
            f"There is nothing to plan from: {where} and no revision to start at. Set the database URL, or pass "
            "--from REVISION ('base' for an empty database)."
        )
    return read_status(project, None, to=request.to, from_revision=start)


def lint_pending(
    request: RunRequest, opened: Opened, found: Status, rendered: Sequence[RenderedStep] | None = None
) -> LintReport:
    from runner.lint import analyse
    from runner.lint.estimate import read_calibration

    sized = request.target if request.from_revision is None else None
    return analyse(
        opened.project,
        list(found.pending),
        stats=target_stats(sized),
        acknowledgements=request.acknowledgements,
        calibration=read_calibration(request.rehearsal_log) if request.rehearsal_log else None,
        version_table=str(request.version_table),
        rendered=rendered or None,
    )


def target_stats(target: DatabaseTarget | None) -> Stats | None:
    """Table sizes from the target, on the runner's own short-lived connection; None without a target."""
    if target is None:
        return None
    from runner.database import connections
    from runner.database.reads import refusing_when_blocked
    from runner.lint import read_stats

    with (
        closing(connections.connect(target, application_name="migration-runner lint")) as conn,
        refusing_when_blocked(conn, "table sizes from the catalog"),
    ):
        return read_stats(conn)
