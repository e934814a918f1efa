"""Every use of Alembic's private (or only implicitly public) API, in one module.

The runner hands Alembic one revision at a time through ``EnvironmentContext``'s
``fn`` protocol, which means building Alembic's own step objects; and it stands
between env.py and Alembic by subclassing ``EnvironmentContext``. Each such use
is here, named for what it does, and ``tests/test_alembic_compat.py`` pins the
Alembic releases this was checked against (``CHECKED_RELEASES``) and proves each
use still behaves on the installed one.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, MigrationStep, RevisionStep, StampStep
from alembic.script import ScriptDirectory
from sqlalchemy import literal_column
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.elements import BinaryExpression, ColumnClause

CHECKED_RELEASES = ("1.12", "1.13", "1.14", "1.15", "1.16", "1.17", "1.18", "1.19", "1.20")


def upgrade_step(script: ScriptDirectory, revision: str) -> MigrationStep:
    """The step object ``run_migrations`` applies for ``revision`` (upgrade)."""
    return MigrationStep.upgrade_from_script(script.revision_map, script.get_revision(revision))


def downgrade_step(script: ScriptDirectory, revision: str) -> MigrationStep:
    """The step object ``run_migrations`` applies to revert ``revision`` (``downgrade_from_script``'s own)."""
    return _DowngradeStep(script.revision_map, script.get_revision(revision), False)


class _DowngradeStep(RevisionStep):
    """Alembic's downgrade step, answering "does it delete the version row?" without walking the chain.

    With the revision the only head and one revision below it, the row moves down
    and is never deleted; Alembic finds that out by collecting every ancestor of the
    revision below, once per step, which a long chain pays for quadratically.
    """

    def should_delete_branch(self, heads: set[str]) -> bool:
        if len(self.revision._normalized_down_revisions) == 1 and heads == {self.revision.revision}:
            return False
        return super().should_delete_branch(heads)


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


_NEW, _OLD = "\x00runner-new\x00", "\x00runner-old\x00"


def write_version_updates_from_template(context: MigrationContext) -> None:
    """Offline, write each step's version-table UPDATE from one compiled template, not a compile per step.

    Alembic builds the same UPDATE for every step, differing only in two quoted
    revision literals, and compiles it anew each time (a third of offline
    rendering). Any other statement, or an UPDATE of another shape, goes to
    Alembic's own ``_exec`` unchanged; the text written is the same either way.
    """
    impl = context.impl
    version = context._version
    original = impl._exec
    compile_kw: dict[str, Any] = {"compile_kwargs": {"literal_binds": True}} if impl.literal_binds else {}
    sample = (
        version.update()
        .values(version_num=literal_column(_NEW))
        .where(version.c.version_num == literal_column(_OLD))
    )
    text = str(sample.compile(dialect=impl.dialect, **compile_kw)).replace("\t", "    ").strip()
    head, _, rest = (text + impl.command_terminator).partition(_NEW)
    middle, _, tail = rest.partition(_OLD)
    if _NEW in tail or _OLD in head + middle + tail or not rest:
        return  # a dialect that renders it in another order: leave Alembic to it

    def _exec(construct: Any, *args: Any, **kwargs: Any) -> Any:
        literals = _update_literals(construct, version) if not args and not kwargs else None
        if literals is None:
            return original(construct, *args, **kwargs)
        impl.static_output(head + literals[0] + middle + literals[1] + tail)
        return None

    impl._exec = _exec  # type: ignore[method-assign]


def _update_literals(construct: Any, version: Any) -> tuple[str, str] | None:
    """(new, old) literal texts of ``UPDATE version SET version_num=<new> WHERE version_num = <old>``, else None."""
    if not isinstance(construct, Update) or construct.table is not version:
        return None
    values: dict[Any, Any] = dict(construct._values or {})
    new = values.get("version_num") if len(values) == 1 else None
    where = construct.whereclause
    if not (isinstance(new, ColumnClause) and new.is_literal and isinstance(where, BinaryExpression)):
        return None
    old = where.right
    if where.operator is not operator.eq or where.left is not version.c.version_num:
        return None
    criteria = construct._where_criteria
    if (
        not (isinstance(old, ColumnClause) and old.is_literal)
        or len(criteria) != 1
        or criteria[0] is not where
    ):
        return None
    return new.name, old.name
