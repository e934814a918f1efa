"""Failures in the application's own files, said with the file and line to fix.

env.py, the revision scripts and alembic.ini are the application's code; when one of
them can't be used, the operator needs the file and the line, not Alembic's or
Python's wording ("use the 'init' command", a bare "'SECRET_KEY'").
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from pathlib import Path

import alembic
import sqlalchemy
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from runner.errors import ConfigError, RunnerError
from runner.redact import redact


class EnvPyFailed(ConfigError):
    """The application's env.py raised before Alembic ran a single revision."""


def env_py_failed(script: ScriptDirectory, exc: Exception) -> RunnerError:
    """Why env.py could not run, naming its line (and the imported file that raised, if any)."""
    if isinstance(exc, RunnerError):
        return exc  # the runner's own verdict (a wrapper that never called env.py, ...)
    env_py = Path(script.env_py_location).resolve()
    where = failing_file(exc, lambda name: Path(name).resolve() == env_py) or shown_path(str(env_py))
    inner = failing_frame(exc, _application_file)
    origin = ""
    if inner is not None and Path(inner[0]).resolve() != env_py:  # raised in a module env.py imports
        origin = f" (raised at {shown_path(inner[0])} line {inner[1]})"
    reason = error_text(exc)
    return EnvPyFailed(
        f"{where}: env.py failed before Alembic ran any revision: {reason}{origin}. No revision could be "
        "rendered or checked.",
        next_step="fix env.py or what it imports (or run the runner in the application's own environment, with "
        "the settings and --env-py-wrapper env.py needs), then run the same command again.",
    )


_NOT_APPLICATION = tuple(
    str(Path(folder).resolve()) + os.sep
    for folder in (
        Path(str(alembic.__file__)).parent,
        Path(str(sqlalchemy.__file__)).parent,
        Path(__file__).parents[1],
    )
)


def _application_file(name: str) -> bool:
    """A frame of the application's code: not Python's import machinery, Alembic, SQLAlchemy or the runner."""
    if name.startswith("<"):
        return False
    return not str(Path(name).resolve()).startswith(_NOT_APPLICATION)


def script_directory(path: Path, config: Config) -> ScriptDirectory:
    """The project's script directory, or a ConfigError saying what is wrong with script_location."""
    location = config.get_main_option("script_location")
    if not location:
        raise ConfigError(
            f"{path} has no script_location in its [{config.config_ini_section}] section, so the runner can't find "
            "env.py and the revisions; add script_location = %(here)s/migrations (the directory that holds env.py)."
        )
    try:
        return ScriptDirectory.from_config(config)
    except CommandError as exc:
        if not Path(location).is_dir() and ":" not in location:  # Alembic resolves "package:dir" itself
            relative = (
                ""
                if Path(location).is_absolute()
                else " (a relative path is read from the current directory)"
            )
            raise ConfigError(
                f"{path}: script_location is {location}, which is not a directory{relative}; point it at the "
                "directory that holds env.py, such as %(here)s/migrations."
            ) from None
        raise ConfigError(f"{path}: {redact(str(exc))}") from None


def revision_load_error(script: ScriptDirectory, config: Config, exc: BaseException) -> str:
    """What went wrong loading the revision scripts, naming the file (and line) that failed to import."""
    where = failing_file(exc, lambda name: any(_is_under(name, d) for d in _version_dirs(script)))
    if where is not None:
        return (
            f"{where}: the revision script can't be imported ({error_text(exc)}), so the project's revisions "
            "can't be loaded."
        )
    return f"{config.config_file_name}: the revision scripts can't be loaded: {redact(str(exc))}"


def failing_file(exc: BaseException, wanted: Callable[[str], bool]) -> str | None:
    """'FILE line N' of the innermost traceback frame in a file ``wanted`` accepts."""
    frame = failing_frame(exc, wanted)
    return f"{shown_path(frame[0])} line {frame[1]}" if frame else None


def failing_frame(exc: BaseException, wanted: Callable[[str], bool]) -> tuple[str, int] | None:
    """(file, line) of the innermost traceback frame in a file ``wanted`` accepts (a SyntaxError's own file first)."""
    if isinstance(exc, SyntaxError) and exc.filename and wanted(exc.filename):
        return exc.filename, exc.lineno or 0
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if wanted(f.filename)]
    if not frames:
        return None
    return frames[-1].filename, frames[-1].lineno or 0


def shown_path(path: str) -> str:
    """A path relative to the working directory when it is below it, else absolute."""
    absolute = Path(path).resolve()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def _is_under(path: str, directory: str) -> bool:
    try:
        return Path(path).resolve().is_relative_to(Path(directory).resolve())
    except OSError:
        return False


def _version_dirs(script: ScriptDirectory) -> list[str]:
    """Where the revision files are: version_locations, else the script directory's versions/."""
    return [str(location) for location in script.version_locations or []] or [
        str(Path(script.dir) / "versions")
    ]


def error_text(exc: BaseException) -> str:
    """'KeyError: 'SECRET_KEY'': the type and the first line, without a closing period (sentences add one)."""
    text = str(exc).strip()
    first = text.splitlines()[0].rstrip(". ") if text else ""
    return redact(f"{type(exc).__name__}: {first}" if first else type(exc).__name__)
