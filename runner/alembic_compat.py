"""Every use of Alembic's private (or only implicitly public) API, in one module.

The runner hands Alembic one revision at a time through ``EnvironmentContext``'s
``fn`` protocol, which means building Alembic's own step objects; and it stands
between env.py and Alembic by subclassing ``EnvironmentContext``. Each such use
is here, named for what it does, and ``tests/test_alembic_compat.py`` pins the
Alembic releases this was checked against (``CHECKED_RELEASES``) and proves each
use still behaves on the installed one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationStep, StampStep
from alembic.script import ScriptDirectory

CHECKED_RELEASES = ("1.12", "1.13", "1.14", "1.15", "1.16", "1.17", "1.18", "1.19", "1.20")


def upgrade_step(script: ScriptDirectory, revision: str) -> MigrationStep:
    """The step object ``run_migrations`` applies for ``revision`` (upgrade)."""
    return MigrationStep.upgrade_from_script(script.revision_map, script.get_revision(revision))


def downgrade_step(script: ScriptDirectory, revision: str) -> MigrationStep:
    """The step object ``run_migrations`` applies to revert ``revision``."""
    return MigrationStep.downgrade_from_script(script.revision_map, script.get_revision(revision))


def stamp_step(script: ScriptDirectory, heads: Sequence[str], revision: str) -> MigrationStep:
    """A step that only moves the version table from ``heads`` (none: no row) to ``revision``, as a stamp does."""
    return StampStep(tuple(heads), revision, True, not heads, script.revision_map)


def wrap_migration_function(
    step: MigrationStep, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]
) -> MigrationStep:
    """Put ``wrap`` around the step's upgrade()/downgrade() call (offline rendering records failures)."""
    step.migration_fn = wrap(step.migration_fn)
    return step


def would_apply(script: ScriptDirectory, destination: str, heads: tuple[str, ...]) -> list[str]:
    """The revisions ``alembic upgrade destination`` would apply from ``heads`` (Alembic's own order)."""
    # Alembic annotates current_rev as str but passes its own tuple of heads there (command.upgrade).
    steps = script._upgrade_revs(destination, heads)  # type: ignore[arg-type]
    return [step.revision.revision for step in steps]


def share_context_module(subclass: type[EnvironmentContext]) -> None:
    """Let ``from alembic import context`` in env.py reach ``subclass`` as it reaches EnvironmentContext.

    Alembic fills that proxy module per class, from a registry keyed by class;
    the subclass shares its parent's entry, and its methods resolve on the
    instance, so the runner's ``configure`` is the one env.py calls.
    """
    import alembic.context  # noqa: F401  (registers the module for EnvironmentContext)

    EnvironmentContext._setups[subclass] = EnvironmentContext._setups[EnvironmentContext]
