"""Fuzz fixtures: the example project, real audit logs, a database the command line may change, the tally."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runner.planning.project import AlembicProject
from tests import pg
from tests.conftest import EXAMPLE_INI, PRODUCTION_REVISION
from tests.fuzz.audit_cases import RealLogs, write_real_logs
from tests.fuzz.budget import CASES
from tests.fuzz.target import FuzzTarget


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fuzzing reads input before any engine is made: one environment is enough."""
    for item in items:
        if item.path.is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.once)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The number of cases each fuzz target ran, and how they ended, at the end of every session."""
    if not CASES:
        return
    terminalreporter.write_sep("-", "fuzz cases")
    for target, outcomes in sorted(CASES.items()):
        detail = ", ".join(f"{outcome} {count}" for outcome, count in outcomes.most_common())
        terminalreporter.write_line(f"{target}: {sum(outcomes.values())} cases ({detail})")


@pytest.fixture(scope="session")
def example_project() -> AlembicProject:
    return AlembicProject.load(EXAMPLE_INI)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where a module's fuzz cases are written (hypothesis can't use function-scoped tmp_path)."""
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def fuzz_target(template_at: Callable[[str], str]) -> Iterator[FuzzTarget]:
    """A database at production's revision; put back after any case that changed it."""
    target = FuzzTarget(template_at(PRODUCTION_REVISION))
    yield target
    target.drop()


@pytest.fixture(scope="session")
def real_audit_logs(
    tmp_path_factory: pytest.TempPathFactory, template_at: Callable[[str], str]
) -> Iterator[RealLogs]:
    """Audit logs written by real runs of the example chain (see ``audit_cases.write_real_logs``)."""
    made: list[str] = []

    def new_database(revision: str) -> str:
        made.append(pg.create_database(template_at(revision)))
        return made[-1]

    yield write_real_logs(tmp_path_factory.mktemp("real-logs"), new_database)
    for name in made:
        pg.drop_database(name)
