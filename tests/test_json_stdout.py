"""--json: stdout is exactly one JSON document, whatever the application writes to it.

The noisy project prints at import and in its migrations, writes to file descriptor 1
directly, runs ``echo`` in a subprocess, and binds logging handlers to ``sys.stdout``,
in env.py, in its revisions and in its --env-py-wrapper. All of that must reach
stderr; stdout must parse, whole, as one document.
"""

from __future__ import annotations

import json

import pytest

from tests import pg
from tests.cli import run_cli
from tests.conftest import PROJECTS

NOISY = str(PROJECTS / "noisy" / "alembic.ini")
WRAPPER = ("--env-py-wrapper", "tests.projects.noisy.app:in_app")
NOISE = [
    "noisy print from the wrapper",
    "noisy os.write from the wrapper",
    "noisy subprocess from the wrapper",
    "noisy print from env.py",
    "noisy os.write from env.py",
    "noisy subprocess from env.py",
    "noisy logging handler bound to sys.stdout at import",
    "noisy print at the import of revision n1",
]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (("status",), {"current": [], "heads": ["n2"]}),
        (("plan",), {"current": [], "to": ["n2"]}),
        (("plan", "--sql"), {"current": [], "to": ["n2"]}),
        (("lint",), {"current": [], "to": ["n2"]}),
    ],
)
def test_reading_commands_print_one_json_document(new_db, command, expected):
    """status, plan and lint --json: the application's output goes to stderr, stdout parses whole."""
    proc = run_cli(*command, "-c", NOISY, "--json", *WRAPPER, env={"DATABASE_URL": pg.url_for(new_db())})
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert {key: document[key] for key in expected} == expected
    for noise in NOISE:
        assert noise in proc.stderr
        assert noise not in proc.stdout


def test_apply_prints_one_json_document_while_migrations_print(new_db, tmp_path):
    """apply --json: upgrade() output and Alembic's own INFO log lines (to a stdout handler) go to stderr."""
    database = new_db()
    proc = run_cli(
        "apply",
        "-c",
        NOISY,
        "--yes",
        "--json",
        "--audit-log",
        str(tmp_path / "audit.jsonl"),
        *WRAPPER,
        env={"DATABASE_URL": pg.url_for(database)},
    )
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document["applied"] == ["n1", "n2"] and document["status"] == "done"
    for noise in [*NOISE, "noisy print from upgrade() of n2", "noisy subprocess from upgrade() of n1"]:
        assert noise in proc.stderr
    assert "noisy-log INFO [alembic.runtime.migration] Running upgrade n1 -> n2" in proc.stderr
    assert pg.heads(database) == ["n2"]


def test_playbook_validate_prints_one_json_document(tmp_path):
    """playbook validate --json runs env.py too (to find its version locations): its noise goes to stderr."""
    playbook = tmp_path / "noisy.yaml"
    playbook.write_text(
        "version: 1\n"
        f"project: {{alembic_config: {NOISY}, target_revision: n2, env_py_wrapper: 'tests.projects.noisy.app:in_app'}}\n"
        "target: {name: rehearsal, environment: rehearsal, url_env: NOISY_URL_NOT_SET}\n"
    )
    proc = run_cli("playbook", "validate", str(playbook), "--no-env-check", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"valid": True, "errors": [], "warnings": [], "steps": ["n1", "n2"]}
    assert "noisy print from env.py" in proc.stderr
