"""``status``: where the database stands against the code, any run that did not finish, and every environment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from runner.commands.project import within_project
from runner.planning.status import Status, read_status
from runner.request import RunRequest

if TYPE_CHECKING:
    from runner.drift.environments import EnvironmentsStatus


def status(request: RunRequest) -> Status:
    return within_project(
        request,
        lambda opened: read_status(
            opened.project,
            request.target,
            to=request.to,
            version_table=request.version_table,
            from_revision=request.from_revision,
        ),
    )


def environments(request: RunRequest, variables: Mapping[str, str]) -> EnvironmentsStatus:
    """For each environment (name -> the variable holding its URL): its revision and how far behind it is.

    An unreachable environment is reported as such; the others still are.
    """
    from runner.drift.environments import environments_status

    return within_project(
        request,
        lambda opened: environments_status(opened.project, variables, version_table=request.version_table),
    )
