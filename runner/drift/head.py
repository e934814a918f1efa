"""A throwaway database at the code head, for ``runner drift SOURCE --against-head``.

A seam kept small on purpose (the rehearsal work will bring a richer provider):
``throwaway_head(project)`` starts a local throwaway cluster, creates a database
with a random name in it, and upgrades it to the project's head(s) through the
application's own env.py (and ``--env-py-wrapper``). env.py must hand Alembic a
connection to that database: the connection is checked before any migration
runs, so an env.py that reads its own URL can never migrate another database in
the name of a comparison. Nothing is ever created on the compared servers.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationStep

from runner.database import connections as db
from runner.errors import EnvPyError, InvalidInput, RunnerError, Unreachable
from runner.planning.environment import GuardedEnvironment
from runner.planning.project import AlembicProject, make_config
from runner.redact import redact
from runner.rehearsal.throwaway import LocalCluster
from runner.target import DatabaseTarget

HeadDatabase = Callable[[AlembicProject], AbstractContextManager[DatabaseTarget]]


class HeadUnavailable(Unreachable):
    """No database at the code head could be made: nothing to compare with."""


@contextmanager
def throwaway_head(
    project: AlembicProject, *, cluster_factory: Callable[[], Any] = LocalCluster
) -> Iterator[DatabaseTarget]:
    """Yield a database migrated to the project's head(s); it is gone when the block ends."""
    cluster = cluster_factory()
    try:
        try:
            server = DatabaseTarget.parse(cluster.start(), source="the throwaway cluster")
            name = f"runner_head_{secrets.token_hex(4)}"
            with closing(db.connect(server, "migration-runner drift")) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            target = DatabaseTarget(server.url.set(database=name))
            migrate_to_heads(project, target)
        except RunnerError as error:
            if isinstance(error, InvalidInput | EnvPyError):
                raise
            raise HeadUnavailable(f"No throwaway database could be made for the code head: {error}") from None
        except Exception as error:  # the application's migrations or env.py failed
            first = (str(error).strip().splitlines() or [""])[0]
            raise HeadUnavailable(
                f"The code head could not be built in a throwaway database: {type(error).__name__}: "
                f"{redact(first)}. Nothing was compared.",
                next_step="run runner apply on a scratch database to see the failing revision.",
            ) from None
        yield target
    finally:
        cluster.stop()


def migrate_to_heads(project: AlembicProject, target: DatabaseTarget) -> None:
    """Upgrade the empty ``target`` to every head, refusing an env.py that connects elsewhere."""
    config = make_config(Path(str(project.config.config_file_name)), target.for_alembic())
    locations = project.config.get_main_option("version_locations")
    if locations:
        config.set_main_option("version_locations", locations)
    config.attributes.update(project.config.attributes)
    at_head = AlembicProject(config, project.script, project.wrapper)
    script = project.script
    revisions = at_head.pending((), "heads")

    def steps(_heads: Any, _context: Any) -> Iterator[Any]:
        for revision in revisions:
            yield MigrationStep.upgrade_from_script(
                script.revision_map, script.get_revision(revision.revision)
            )

    def check(connection: Any) -> None:
        began = not connection.in_transaction()
        reached = connection.exec_driver_sql("SELECT current_database()").scalar()
        if began and connection.in_transaction():  # SQLAlchemy 2 began one: leave the connection as it was
            connection.rollback()
        if reached != target.database:
            raise EnvPyError(
                f"env.py connected to database {reached!r} instead of the throwaway database "
                f"{target.database!r} it was given, so the code head can't be built for the comparison; "
                "nothing was migrated. env.py must use the URL in sqlalchemy.url (or "
                "config.attributes['connection'])."
            )

    with GuardedEnvironment(config, script, fn=steps, on_connection=check, destination_rev=None):
        at_head.run_env()
