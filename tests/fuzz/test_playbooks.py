"""Fuzzed playbooks: refused with a RunnerError naming the file, or loaded; never anything else, never a change.

In-process, every case goes through the loader (YAML, shape, consistency), then
what a loaded playbook means against the example project, the request built
from it, its guard policy and its window. A sample goes through the real
command line: ``runner playbook validate`` and ``runner apply --playbook``
against a real database, which must be unchanged whenever the run was refused.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import example, given

from runner.errors import RunnerError
from runner.planning.project import AlembicProject
from runner.playbook import InvalidPlaybook, load_playbook
from runner.playbook.problems import Severity, render_all
from runner.playbook.validate import meaning
from runner.request.playbook import from_playbook
from tests.fuzz.budget import COMMAND_LINE, IN_PROCESS, tally
from tests.fuzz.playbook_cases import PlaybookCase, playbook_cases, seed_case
from tests.fuzz.target import URL_ENV, FuzzTarget, finish, start_cli

# A fuzzed file may define one anchor twice: YAML allows it, ruamel warns, the loader keeps the second.
pytestmark = pytest.mark.filterwarnings("ignore::ruamel.yaml.error.ReusedAnchorWarning")
INSTANTS = (datetime(2026, 2, 10, 7, 30, tzinfo=UTC), datetime(2026, 3, 8, 6, 59, tzinfo=UTC))
ENVIRON = {URL_ENV: "postgresql://fuzz@127.0.0.1:5432/fuzz"}

# Crashes the fuzzer found, kept as regression examples (each was an exit 70 before its fix).
HUGE_INTEGER = PlaybookCase(b"version: " + b"9" * 5000 + b"\n")
DEEP_NESTING = PlaybookCase(b"version: 1\ndescription: " + b"[" * 400 + b"]" * 400 + b"\n")
IMPOSSIBLE_DATE = PlaybookCase(b"version: 1\nwindow: {dates: [2026-13-45]}\n")
HUGE_DURATION = PlaybookCase(b"version: 1\nguards: {lock_timeout: " + b"9" * 400 + b"s}\n")


def _outcome(path: Path, project: AlembicProject) -> str:
    """Load and interpret the playbook at ``path`` as every command does; the tally label for the case."""
    try:
        book = load_playbook(path)
    except InvalidPlaybook as exc:
        assert exc.problems and all(p.startswith(str(path)) for p in exc.problems), exc.problems
        return "refused"
    problems = meaning(book, project, environ=ENVIRON)
    render_all(problems, book.source, book.locations)
    try:
        from_playbook(book)
    except RunnerError:
        return "refused by the request"
    book.guard_policy()
    if book.window is not None:
        for now in INSTANTS:
            book.window.closed_message(now)
            book.window.current(now)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    return "loaded, wrong for the project" if errors else "valid"


@IN_PROCESS
@given(case=playbook_cases())
@example(case=HUGE_INTEGER)
@example(case=DEEP_NESTING)
@example(case=IMPOSSIBLE_DATE)
@example(case=HUGE_DURATION)
def test_a_fuzzed_playbook_loads_or_is_refused_with_a_runner_error(
    case: PlaybookCase, fuzz_dir: Path, example_project: AlembicProject
) -> None:
    """Any bytes given as a playbook load, or raise InvalidPlaybook whose every problem names the file."""
    path = fuzz_dir / "playbook.yaml"
    path.write_bytes(case.data)
    tally("playbooks in-process", _outcome(path, example_project))


@COMMAND_LINE
@given(case=playbook_cases(safe=True))
@example(case=HUGE_INTEGER)
@example(
    case=seed_case("credentialmate-production")
)  # refused (exit 4): no one confirms the production target
def test_a_fuzzed_playbook_on_the_command_line(
    case: PlaybookCase, fuzz_dir: Path, fuzz_target: FuzzTarget
) -> None:
    """validate and apply --playbook exit with a documented code, no traceback, and a refusal changes nothing."""
    path = fuzz_dir / "cli-playbook.yaml"
    path.write_bytes(case.data)
    validate_args = ["playbook", "validate", str(path)]
    apply_args = ["apply", "--playbook", str(path)]
    validating = start_cli(validate_args, fuzz_dir, fuzz_target.env)
    applying = start_cli(apply_args, fuzz_dir, fuzz_target.env)
    validated, applied = finish(validating, validate_args), finish(applying, apply_args)
    validated.check()
    applied.check()
    tally("playbooks: runner playbook validate", f"exit {validated.exit_code}")
    tally("playbooks: runner apply --playbook", fuzz_target.settle(applied))
