"""A throwaway database at the code head, for ``runner drift SOURCE --against-head``.

``throwaway_head(project)`` starts a local throwaway target, creates a database
with a random name in it, and upgrades it to the project's head(s) through the
application's own env.py (and ``--env-py-wrapper``), with ``planning.migrate``:
env.py must hand Alembic a connection to that database, so an env.py that reads
its own URL can never migrate another database in the name of a comparison.
Nothing is ever created on the compared servers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager

from runner.errors import EnvPyError, InvalidInput, RunnerError, Unreachable
from runner.planning.migrate import upgrade_to
from runner.planning.project import AlembicProject
from runner.redact import redact
from runner.target import DatabaseTarget
from runner.throwaway.targets import ThrowawayTargets, throwaway_target

HeadDatabase = Callable[[AlembicProject], AbstractContextManager[DatabaseTarget]]
PURPOSE = "the code head can't be built for the comparison"


class HeadUnavailable(Unreachable):
    """No database at the code head could be made: nothing to compare with."""


@contextmanager
def throwaway_head(
    project: AlembicProject, *, targets: ThrowawayTargets = throwaway_target
) -> Iterator[DatabaseTarget]:
    """Yield a database migrated to the project's head(s); it is gone when the block ends."""
    with ExitStack() as stack:
        with _unavailable_as_head_error():  # building it; the comparison's own errors are the caller's
            server = stack.enter_context(targets("local"))
            database = server.new_database("runner_head")
            upgrade_to(project, database, "heads", purpose=PURPOSE)
        yield database


@contextmanager
def _unavailable_as_head_error() -> Iterator[None]:
    try:
        yield
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
