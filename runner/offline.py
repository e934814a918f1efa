"""Each revision's SQL, rendered offline (Alembic's --sql mode), one block per revision.

All revisions are rendered in one env.py run: the runner's migration function
hands Alembic one step at a time and notes where each step's output starts and
ends. A revision that can't be rendered offline (it reads data or inspects the
database) is reported with the reason, and rendering goes on after it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from alembic.runtime.migration import MigrationStep

from runner.guarded_env import GuardedEnvironment
from runner.project import AlembicProject, Revision
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
    """Render ``revisions`` in the order given, as if each earlier one had been applied."""
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
    spans: list[tuple[str, int, int]] = []
    current: list[str] = []
    script = project.script
    first = revisions[0]
    starting = first.down_revisions if direction == "upgrade" else (first.revision,)

    def steps(_heads: Any, _context: Any) -> Iterator[Any]:
        for revision in revisions:
            found = script.get_revision(revision.revision)
            begin = buffer.tell()
            current[:] = [revision.revision]
            if direction == "upgrade":
                yield MigrationStep.upgrade_from_script(script.revision_map, found)
            else:
                yield MigrationStep.downgrade_from_script(script.revision_map, found)
            spans.append((revision.revision, begin, buffer.tell()))
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
    except Exception as exc:  # user code: a data migration, an inspector, a missing setting
        error = redact(
            f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        )
    finally:
        config.output_buffer = previous_buffer
    text = buffer.getvalue()
    rendered = [RenderedStep(rev, direction, text[begin:end].strip() + "\n") for rev, begin, end in spans]
    if error is None:
        return rendered, None
    failed = current[0] if current else revisions[len(rendered)].revision
    rendered.append(RenderedStep(failed, direction, None, error))
    return rendered, len(rendered) - 1


def _has_inner_commit(sql: str) -> bool:
    lines = [line.strip().upper() for line in sql.splitlines() if line.strip() and not line.startswith("--")]
    return any(line == "COMMIT;" for line in lines[:-1])
