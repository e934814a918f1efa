"""``plan``: the steps an apply would take, the limits each runs under, their risk and their SQL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from runner.commands._lint import lint_pending, pending_status
from runner.commands.project import Opened, within_project
from runner.guards import StepSettings
from runner.planning.offline import RenderedStep, render
from runner.planning.status import Status
from runner.request import RunRequest

if TYPE_CHECKING:
    from runner.lint import LintReport
    from runner.playbook.book import Playbook
    from runner.playbook.schedule import Schedule


@dataclass(frozen=True)
class PlanResult:
    status: Status
    settings: Mapping[str, StepSettings]  # each pending step's limits and retries, and where they came from
    report: LintReport | None = None  # None with lint=False
    rendered: tuple[RenderedStep, ...] = ()  # each step's offline SQL, with sql=True
    playbook: Playbook | None = None
    schedule: Schedule | None = None  # the playbook's window and estimates
    warnings: tuple[str, ...] = field(default=())


def plan(request: RunRequest, *, sql: bool = False, lint: bool = True) -> PlanResult:
    def planned(opened: Opened) -> PlanResult:
        found = pending_status(request, opened)
        pending = list(found.pending)
        rendered = render(opened.project, pending) if (sql or lint) and pending else []
        report = lint_pending(request, opened, found, rendered) if lint and pending else None
        settings = {
            r.revision: request.guards.for_step(
                r.revision, report.profile_for(r.revision) if report else None
            )
            for r in pending
        }
        return PlanResult(
            found,
            settings,
            report,
            tuple(rendered) if sql else (),
            request.playbook,
            _schedule(request),
            opened.warnings,
        )

    return within_project(request, planned, need_target=False)


def _schedule(request: RunRequest) -> Schedule | None:
    if request.playbook is None:
        return None
    from runner.playbook.schedule import Schedule
    from runner.playbook.timings import Estimator

    return Schedule(request.playbook.window, Estimator(request.playbook))
