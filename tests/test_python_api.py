"""The Python API a deploy script or a pytest fixture uses: the command layer, without the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import Confirmation, DatabaseTarget, ExitCode, RunRequest, RunStatus, commands
from runner.errors import Refused
from tests import pg
from tests.conftest import EXAMPLE_HEAD, EXAMPLE_PENDING, PRODUCTION_REVISION


def request_for(example_ini: Path, database: str, tmp_path: Path, **extra) -> RunRequest:
    return RunRequest(
        config=example_ini,
        target=DatabaseTarget.parse(pg.url_for(database)),
        audit_log=tmp_path / "audit.jsonl",
        **extra,
    )


def test_status_plan_lint_and_apply_from_python(example_ini, production_db, tmp_path):
    """One request, four commands, typed results: the seed's four pending steps planned, linted, applied."""
    request = request_for(example_ini, production_db, tmp_path, confirmation=Confirmation(yes=True))

    found = commands.status(request)
    assert found.current == (PRODUCTION_REVISION,)
    assert [r.revision for r in found.pending] == EXAMPLE_PENDING

    planned = commands.plan(request, sql=True)
    assert [s.revision for s in planned.rendered] == EXAMPLE_PENDING
    assert planned.settings["20260131_0000"].source == "runner defaults"
    assert planned.report is not None and planned.report.sized

    linted = commands.lint(request)
    assert not linted.report.blocking()

    result = commands.apply(request)
    assert result.status is RunStatus.DONE and result.exit_code is ExitCode.DONE
    assert [s.revision for s in result.applied] == EXAMPLE_PENDING
    assert result.final_heads == (EXAMPLE_HEAD,)
    assert pg.heads(production_db) == [EXAMPLE_HEAD]


def test_apply_without_a_confirmation_is_refused_and_audited(example_ini, production_db, tmp_path):
    """No prompt function and no confirmation: the refusal is raised, written to the log, nothing applied."""
    request = request_for(example_ini, production_db, tmp_path)
    with pytest.raises(Refused, match="apply needs confirmation"):
        commands.apply(request)
    assert pg.heads(production_db) == [PRODUCTION_REVISION]
    assert '"event": "run_refused"' in (tmp_path / "audit.jsonl").read_text()


def test_a_prompt_function_confirms_by_the_database_name(example_ini, production_db, tmp_path):
    """A caller's own prompt is asked for the database's name, as the terminal would be."""
    from runner.commands import Interaction

    asked: list[str] = []

    def prompt(question: str) -> str:
        asked.append(question)
        return production_db

    result = commands.apply(request_for(example_ini, production_db, tmp_path), Interaction(prompt=prompt))
    assert result.status is RunStatus.DONE
    assert asked == [f"Type the database name ({production_db}) to apply 4 step(s) to it"]
