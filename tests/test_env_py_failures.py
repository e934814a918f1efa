"""An application whose env.py, alembic.ini or revision files can't be used: exit 3, naming the file.

Before, an env.py that could not even be imported was taken for seven revisions that
"probably read data", and plan and lint exited 0.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import pg
from tests.cli import run_cli
from tests.projects.generate import write_project

REVISIONS = [
    (f"e{n}", f'op.execute("CREATE TABLE t{n} (id int)")', f'op.execute("DROP TABLE t{n}")') for n in range(3)
]
NEXT = (
    "Next: fix env.py or what it imports (or run the runner in the application's own environment, with the "
    "settings and --env-py-wrapper env.py needs), then run the same command again."
)


def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "app", REVISIONS)


def break_env_py(ini: Path, line: str) -> Path:
    """Add ``line`` to env.py right after its Alembic import; returns env.py's path."""
    env_py = ini.parent / "migrations" / "env.py"
    source = env_py.read_text()
    env_py.write_text(
        source.replace("from alembic import context\n", f"from alembic import context\n{line}\n", 1)
    )
    return env_py.resolve()


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if text in line)


def only_error(proc) -> str:
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, proc.stdout + proc.stderr
    return lines[0].removeprefix("error: ")


@pytest.mark.parametrize("command", ["plan", "lint"])
def test_env_py_importing_a_missing_module_is_invalid_input(tmp_path, command):
    """ModuleNotFoundError at import: exit 3 naming env.py and its line, not seven AN101 warnings and exit 0."""
    ini = project(tmp_path)
    env_py = break_env_py(ini, "import myapp.settings")
    proc = run_cli(command, "-c", str(ini), "--from", "base")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert only_error(proc) == (
        f"{env_py} line {line_of(env_py, 'import myapp.settings')}: env.py failed before Alembic ran any "
        "revision: ModuleNotFoundError: No module named 'myapp'. No revision could be rendered or checked. "
        + NEXT
    )
    assert "AN101" not in proc.stdout


def test_a_key_error_in_a_module_env_py_imports_names_both_files(tmp_path):
    """A setting read at import by the application's own module: env.py's line, and where it was raised."""
    ini = project(tmp_path)
    settings = (ini.parent / "app_settings_for_env.py").resolve()
    settings.write_text('import os\n\nSECRET_KEY = os.environ["APP_SECRET_KEY"]\n')
    env_py = break_env_py(ini, "import app_settings_for_env")
    proc = run_cli("lint", "-c", str(ini), "--from", "base", "--json")
    assert proc.returncode == 3
    assert proc.stdout == ""
    assert only_error(proc) == (
        f"{env_py} line {line_of(env_py, 'import app_settings_for_env')}: env.py failed before Alembic ran any "
        f"revision: KeyError: 'APP_SECRET_KEY' (raised at {settings} line 3). No revision could be rendered or "
        "checked. " + NEXT
    )


def test_apply_with_an_env_py_that_fails_at_import_is_refused_before_any_step(tmp_path, new_db):
    """apply: the risk assessment finds env.py broken (exit 3, run_refused); nothing is applied."""
    ini = project(tmp_path)
    env_py = break_env_py(ini, "import os\nAPP_SECRET = os.environ['APP_SECRET_KEY']")
    database = new_db()
    log = tmp_path / "audit.jsonl"
    proc = run_cli(
        "apply", "-c", str(ini), "--yes", "--audit-log", str(log), env={"DATABASE_URL": pg.url_for(database)}
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    message = (
        f"{env_py} line {line_of(env_py, 'APP_SECRET =')}: env.py failed before Alembic ran any revision"
    )
    assert only_error(proc).startswith(message + ": KeyError: 'APP_SECRET_KEY'.")
    refused = json.loads(log.read_text().splitlines()[-1])
    assert refused["event"] == "run_refused" and refused["exit_code"] == 3
    assert refused["reason"].startswith(message)
    assert pg.heads(database) == []


def test_alembic_ini_without_script_location_says_so(tmp_path):
    """Not Alembic's "No 'script_location' key found" or "use the 'init' command": what is missing, and the fix."""
    ini = project(tmp_path)
    ini.write_text(ini.read_text().replace("script_location = %(here)s/migrations\n", ""))
    proc = run_cli("plan", "-c", str(ini), "--from", "base")
    assert proc.returncode == 3
    assert only_error(proc) == (
        f"{ini} has no script_location in its [alembic] section, so the runner can't find env.py and the "
        "revisions; add script_location = %(here)s/migrations (the directory that holds env.py)."
    )


def test_script_location_that_is_not_a_directory_says_so(tmp_path):
    ini = project(tmp_path)
    ini.write_text(ini.read_text().replace("%(here)s/migrations", "%(here)s/migratoins"))
    proc = run_cli("status", "-c", str(ini), env={"DATABASE_URL": pg.url_for("postgres")})
    assert proc.returncode == 3
    assert only_error(proc) == (
        f"{ini}: script_location is {ini.parent}/migratoins, which is not a directory; point it at the directory "
        "that holds env.py, such as %(here)s/migrations."
    )
    assert "init" not in proc.stderr


def test_a_revision_file_failing_at_import_is_named(tmp_path):
    """A module-level KeyError in a revision: the file and line, not a bare "'REVISION_SETTING'"."""
    ini = project(tmp_path)
    revision = sorted((ini.parent / "migrations" / "versions").glob("*.py"))[1].resolve()
    revision.write_text(
        revision.read_text().replace(
            "from alembic import op\n",
            'from alembic import op\nimport os\nSETTING = os.environ["REVISION_SETTING"]\n',
        )
    )
    proc = run_cli("plan", "-c", str(ini), "--from", "base")
    assert proc.returncode == 3
    assert only_error(proc) == (
        f"{revision} line {line_of(revision, 'SETTING =')}: the revision script can't be imported "
        "(KeyError: 'REVISION_SETTING'), so the project's revisions can't be loaded."
    )
