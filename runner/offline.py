"""Each revision's SQL, rendered offline (Alembic's --sql mode), one block per revision.

All revisions are rendered in one env.py run: the runner's migration function
hands Alembic one step at a time and notes where each step's output starts and
ends. A revision that can't be rendered offline (it reads data or inspects the
database) is reported with the reason, and rendering goes on after it in the
same env.py run, so env.py (and anything it builds) runs once, not once per
revision that fails.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import alembic
import sqlalchemy
from alembic.runtime.migration import MigrationStep
from alembic.script import ScriptDirectory

import runner
from runner.errors import ConfigError, RunnerError
from runner.guarded_env import GuardedEnvironment
from runner.project import AlembicProject, Revision, failing_file, failing_frame, shown_path
from runner.redact import redact

OFFLINE_URL = "postgresql://offline/offline"


@dataclass(frozen=True)
class RenderedStep:
    revision: str
    direction: str  # "upgrade" or "downgrade"
    sql: str | None
    error: str | None = None  # why it could not be rendered offline

    @property
    def autocommit(self) -> bool:
        """True when part of the step runs outside its transaction (autocommit_block)."""
        return bool(self.sql) and _has_inner_commit(self.sql or "")


def render(
    project: AlembicProject, revisions: Sequence[Revision], direction: str = "upgrade"
) -> list[RenderedStep]:
    """Render ``revisions`` in the order given, as if each earlier one had been applied.

    One env.py run renders them all: a revision whose migration function fails
    offline is recorded with the reason and the next one is rendered in the same
    run. env.py failing before Alembic was handed any revision means env.py itself
    can't run (a missing module, a setting read at import): EnvPyFailed, exit 3.
    """
    rendered: list[RenderedStep] = []
    start = 0
    while start < len(revisions):
        chunk, failed_at = _render_from(project, revisions[start:], direction)
        rendered.extend(chunk)
        if failed_at is None:
            break
        start += len(chunk)
    return rendered


class EnvPyFailed(ConfigError):
    """The application's env.py raised before Alembic ran a single revision."""


def _render_from(
    project: AlembicProject, revisions: Sequence[Revision], direction: str
) -> tuple[list[RenderedStep], int | None]:
    buffer = io.StringIO()
    spans: list[tuple[str, int, int, str | None]] = []
    current: list[str] = []
    started: list[bool] = []
    script = project.script
    first = revisions[0]
    starting = first.down_revisions if direction == "upgrade" else (first.revision,)

    def steps(_heads: Any, _context: Any) -> Iterator[Any]:
        started.append(True)
        for revision in revisions:
            found = script.get_revision(revision.revision)
            if direction == "upgrade":
                step = MigrationStep.upgrade_from_script(script.revision_map, found)
            else:
                step = MigrationStep.downgrade_from_script(script.revision_map, found)
            failure: list[str] = []
            step.migration_fn = _recording(step.migration_fn, failure)
            begin = buffer.tell()
            current[:] = [revision.revision]
            yield step
            spans.append((revision.revision, begin, buffer.tell(), failure[0] if failure else None))
            current.clear()

    config = project.config
    previous_buffer = config.output_buffer
    config.output_buffer = buffer
    if not config.get_main_option("sqlalchemy.url"):
        config.set_main_option("sqlalchemy.url", OFFLINE_URL)
    error: str | None = None
    try:
        environment = GuardedEnvironment(
            config, script, fn=steps, as_sql=True, starting_rev=list(starting) or None, destination_rev=None
        )
        with environment:
            project.run_env()
    except Exception as exc:  # user code: env.py, or Alembic's own bookkeeping around a step
        if not started:
            raise _env_py_failed(script, exc) from None
        error = _describe(exc)
    finally:
        config.output_buffer = previous_buffer
    text = buffer.getvalue()
    rendered = [
        RenderedStep(rev, direction, None if failed else text[begin:end].strip() + "\n", failed)
        for rev, begin, end, failed in spans
    ]
    if error is None:
        return rendered, None
    if current:  # Alembic's own work around a step failed
        failed = current[0]
    elif len(rendered) < len(revisions):  # env.py failed between steps
        failed = revisions[len(rendered)].revision
    else:  # every revision was rendered; env.py failed after the last one
        return rendered, None
    rendered.append(RenderedStep(failed, direction, None, error))
    return rendered, len(rendered) - 1


def _recording(migration_fn: Callable[..., Any], failure: list[str]) -> Callable[..., Any]:
    """The revision's upgrade()/downgrade(), with a failure offline noted instead of ending the env.py run."""

    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return migration_fn(*args, **kwargs)
        except Exception as exc:  # a data migration, an inspector, a setting only present online
            failure.append(_describe(exc))
            return None

    return run


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return redact(f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}")


def _env_py_failed(script: ScriptDirectory, exc: Exception) -> RunnerError:
    if isinstance(exc, RunnerError):
        return exc  # the runner's own verdict (a wrapper that never called env.py, ...)
    env_py = Path(script.env_py_location).resolve()
    where = failing_file(exc, lambda name: Path(name).resolve() == env_py) or shown_path(str(env_py))
    inner = failing_frame(exc, _application_file)
    origin = ""
    if inner is not None and Path(inner[0]).resolve() != env_py:  # raised in a module env.py imports
        origin = f" (raised at {shown_path(inner[0])} line {inner[1]})"
    reason = _describe(exc).rstrip(": ")
    return EnvPyFailed(
        f"{where}: env.py failed before Alembic ran any revision: {reason}{origin}. No revision could be "
        "rendered or checked.",
        next_step="fix env.py or what it imports (or run the runner in the application's own environment, with "
        "the settings and --env-py-wrapper env.py needs), then run the same command again.",
    )


_NOT_APPLICATION = tuple(
    str(Path(module.__file__).resolve().parent) + os.sep for module in (alembic, sqlalchemy, runner)
)


def _application_file(name: str) -> bool:
    """A frame of the application's code: not Python's import machinery, Alembic, SQLAlchemy or the runner."""
    if name.startswith("<"):
        return False
    return not str(Path(name).resolve()).startswith(_NOT_APPLICATION)


def _has_inner_commit(sql: str) -> bool:
    lines = [line.strip().upper() for line in sql.splitlines() if line.strip() and not line.startswith("--")]
    return any(line == "COMMIT;" for line in lines[:-1])
