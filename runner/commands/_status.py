"""``status``: where the database stands against the code, and any run that did not finish."""

from __future__ import annotations

from runner.commands.project import within_project
from runner.planning.status import Status, read_status
from runner.request import RunRequest


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
