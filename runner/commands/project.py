"""Opening the request's Alembic project, and running a command's work inside env.py's wrapper.

With a playbook, the project comes from the playbook (an unloadable one is a
playbook error at ``project.alembic_config``) and the playbook's meaning is
checked against it before anything else: its revisions, checks and steps must
exist in this project. The wrapper (``--env-py-wrapper``) is entered once for
all of a command's work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from runner.planning.project import AlembicProject
from runner.request import RunRequest

T = TypeVar("T")


@dataclass(frozen=True)
class Opened:
    """The project, and the playbook's warnings (already rendered with file and line)."""

    project: AlembicProject
    warnings: tuple[str, ...] = ()


def open_project(request: RunRequest) -> AlembicProject:
    url = request.target.for_alembic() if request.target is not None else None
    if request.playbook is not None:
        from runner.playbook.validate import load_project

        return load_project(request.playbook, database_url=url)
    return AlembicProject.load(request.config, database_url=url, env_py_wrapper=request.env_py_wrapper)


def within_project(request: RunRequest, work: Callable[[Opened], T], *, need_target: bool = True) -> T:
    """Run ``work`` inside the wrapper, after the playbook (if any) was checked against the project."""
    project = open_project(request)

    def checked() -> T:
        warnings: tuple[str, ...] = ()
        if request.playbook is not None:
            warnings = _checked_playbook(request, project, need_target=need_target)
        return work(Opened(project, warnings))

    return project.within_wrapper(checked)


def _checked_playbook(request: RunRequest, project: AlembicProject, *, need_target: bool) -> tuple[str, ...]:
    from runner.playbook import InvalidPlaybook
    from runner.playbook.problems import Severity, render_all
    from runner.playbook.validate import meaning

    book = request.playbook
    assert book is not None
    problems = meaning(book, project, check_env=need_target)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if errors:
        raise InvalidPlaybook(book.source, render_all(errors, book.source, book.locations))
    warnings = [p for p in problems if p.severity is Severity.WARNING]
    return tuple(render_all(warnings, book.source, book.locations))
