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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial, wraps
from typing import Any

from runner.alembic_compat import downgrade_step, stamp_step, upgrade_step, wrap_migration_function
from runner.planning.app_errors import env_py_failed
from runner.planning.environment import GuardedEnvironment
from runner.planning.project import AlembicProject
from runner.planning.revisions import Revision
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

    Downgrades are rendered from the revision each undoes: between two that don't follow
    each other down the chain, the version table is stamped to the next one (its SQL is
    outside every step's), so each reads as if rendered alone.

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
        below: tuple[str, ...] | None = None  # where the last downgrade left the version table
        for revision in revisions:
            if below is not None and revision.revision not in below:  # not the next one down: stamp it first
                yield stamp_step(script, below, revision.revision)
            below = revision.down_revisions if direction == "downgrade" else None
            make = upgrade_step if direction == "upgrade" else downgrade_step
            failure: list[str] = []
            step = wrap_migration_function(
                make(script, revision.revision), partial(_recording, failure=failure)
            )
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
            raise env_py_failed(script, exc) from None
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

    @wraps(migration_fn)  # Alembic names the step by the function: "-- Running upgrade a -> b"
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


def _has_inner_commit(sql: str) -> bool:
    lines = [line.strip().upper() for line in sql.splitlines() if line.strip() and not line.startswith("--")]
    return any(line == "COMMIT;" for line in lines[:-1])
