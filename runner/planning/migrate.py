"""Moving a throwaway database through the application's own env.py, exactly the revisions asked for.

For the databases the runner makes for itself, not a guarded run: the code head
that drift compares with, a rehearsal's starting state, and the rollback drill's
downgrades and re-upgrade. Alembic is handed one ``MigrationStep`` per revision
(a custom ``fn``, as in the run), so a branch point never applies two, and each
revision commits on its own. env.py must hand Alembic a connection to the very
database it was given: that is checked before any migration runs, so an env.py
that reads its own URL can never migrate another database in the runner's name.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationStep

from runner.errors import EnvPyError
from runner.planning.environment import GuardedEnvironment
from runner.planning.project import AlembicProject, make_config
from runner.target import DatabaseTarget

UPGRADE, DOWNGRADE = "upgrade", "downgrade"


def for_target(project: AlembicProject, target: DatabaseTarget) -> AlembicProject:
    """The same project (script directory, wrapper, version locations) with env.py pointed at ``target``."""
    config = make_config(Path(str(project.config.config_file_name)), target.for_alembic())
    locations = project.config.get_main_option("version_locations")
    if locations:
        config.set_main_option("version_locations", locations)
    config.attributes.update(project.config.attributes)
    return AlembicProject(config, project.script, project.wrapper)


def migrate(
    project: AlembicProject,
    target: DatabaseTarget,
    revisions: Sequence[str],
    *,
    direction: str = UPGRADE,
    purpose: str,
) -> None:
    """Apply (or, with ``direction="downgrade"``, undo) exactly ``revisions``, in the order given, in one env.py run.

    ``purpose`` ends the refusal's first sentence: "so {purpose}; nothing was migrated".
    """
    if not revisions:
        return
    pointed = for_target(project, target)
    script = project.script
    make = MigrationStep.upgrade_from_script if direction == UPGRADE else MigrationStep.downgrade_from_script

    def steps(_heads: Any, _context: Any) -> Iterator[Any]:
        for revision in revisions:
            yield make(script.revision_map, script.get_revision(revision))

    def check(connection: Any) -> None:
        began = not connection.in_transaction()
        reached = connection.exec_driver_sql("SELECT current_database()").scalar()
        if began and connection.in_transaction():  # SQLAlchemy 2 began one: leave the connection as it was
            connection.rollback()
        if reached != target.database:
            raise EnvPyError(
                f"env.py connected to database {reached!r} instead of the throwaway database "
                f"{target.database!r} it was given, so {purpose}; nothing was migrated. env.py must use the "
                "URL in sqlalchemy.url (or config.attributes['connection'])."
            )

    with GuardedEnvironment(pointed.config, script, fn=steps, on_connection=check, destination_rev=None):
        pointed.run_env()


def upgrade_to(
    project: AlembicProject,
    target: DatabaseTarget,
    to: str = "heads",
    *,
    current: Sequence[str] = (),
    purpose: str,
) -> tuple[str, ...]:
    """Upgrade ``target`` from ``current`` (base by default) to ``to``; the revisions applied, in order."""
    revisions = tuple(r.revision for r in project.pending(current, to))
    migrate(project, target, revisions, purpose=purpose)
    return revisions
