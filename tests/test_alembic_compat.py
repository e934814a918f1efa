"""runner.alembic_compat against the installed Alembic: a checked release, and each private use still working.

Each use runs inside Alembic's own machinery on a tiny real project (a branch and a merge), so a
change in Alembic's private API fails here rather than in a production run.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import alembic
import pytest
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, MigrationStep
from alembic.script import ScriptDirectory
from sqlalchemy.sql.dml import Update

from runner.alembic_compat import (
    CHECKED_RELEASES,
    downgrade_step,
    share_context_module,
    stamp_step,
    upgrade_step,
    would_apply,
    wrap_migration_function,
    write_version_updates_from_template,
)
from tests.conftest import PROJECTS

INI = PROJECTS / "branches" / "alembic.ini"  # a -> b1, a -> b2, (b1, b2) -> m -> c


@pytest.fixture(scope="module")
def config() -> Config:
    return Config(str(INI))


@pytest.fixture(scope="module")
def script(config) -> ScriptDirectory:
    return ScriptDirectory.from_config(config)


def offline_sql(
    script: ScriptDirectory,
    steps: Callable[[], Sequence[Any]],
    *,
    starting_rev: str | None = None,
    destination_rev: str,
    version_table_schema: str | None = None,
    after_configure: Callable[[MigrationContext], None] | None = None,
) -> str:
    """What Alembic renders when its ``fn`` hands it ``steps()``, as ``alembic upgrade --sql`` would."""
    buffer = io.StringIO()
    with EnvironmentContext(
        Config(str(INI)),
        script,
        fn=lambda _heads, _context: steps(),
        as_sql=True,
        starting_rev=starting_rev,
        destination_rev=destination_rev,
    ) as environment:
        environment.configure(
            dialect_name="postgresql",
            output_buffer=buffer,
            transaction_per_migration=True,
            version_table_schema=version_table_schema,
        )
        if after_configure is not None:
            after_configure(environment.get_context())
        environment.run_migrations()
    return buffer.getvalue()


def test_the_installed_alembic_is_a_release_this_module_was_checked_against():
    """A new Alembic release fails here until each use in runner/alembic_compat.py is checked against it."""
    release = ".".join(alembic.__version__.split(".")[:2])
    assert release in CHECKED_RELEASES, (
        f"Alembic {alembic.__version__} is not in runner.alembic_compat.CHECKED_RELEASES: check each use "
        "there against it (this file's tests are the start), then add it."
    )


def test_upgrade_and_downgrade_steps_are_what_alembic_runs_for_one_revision(script):
    """The merge's steps: from both parents to it and back, calling its own upgrade() and downgrade()."""
    module = script.get_revision("m").module
    up, down = upgrade_step(script, "m"), downgrade_step(script, "m")

    assert (up.is_upgrade, up.from_revisions, up.to_revisions) == (True, ("b1", "b2"), ("m",))
    assert up.migration_fn is module.upgrade
    assert (down.is_upgrade, down.from_revisions, down.to_revisions) == (False, ("m",), ("b1", "b2"))
    assert down.migration_fn is module.downgrade


def test_alembic_applies_the_steps_it_is_fed_one_transaction_each(script):
    """Fed through ``fn``, the steps run their revisions' SQL and move the version table, one each."""
    sql = offline_sql(
        script, lambda: [upgrade_step(script, "a"), upgrade_step(script, "b1")], destination_rev="b1"
    )

    assert sql.count("BEGIN;") == 2 and sql.count("COMMIT;") == 2
    assert "CREATE TABLE steps (n serial, revision text, txid bigint);" in sql
    assert "INSERT INTO alembic_version (version_num) VALUES ('a')" in sql
    assert "UPDATE alembic_version SET version_num='b1' WHERE alembic_version.version_num = 'a';" in sql

    sql = offline_sql(script, lambda: [downgrade_step(script, "b1")], starting_rev="b1", destination_rev="a")
    assert "DELETE FROM steps WHERE revision = 'b1';" in sql
    assert "UPDATE alembic_version SET version_num='a' WHERE alembic_version.version_num = 'b1';" in sql


def test_a_stamp_moves_the_version_table_to_a_revision_that_is_not_next(script):
    """Between downgrades that don't follow each other, a stamp adds the row (none left) or moves it, nothing else."""
    sql = offline_sql(
        script,
        lambda: [
            downgrade_step(script, "a"),
            stamp_step(script, (), "b1"),
            downgrade_step(script, "b1"),
            stamp_step(script, ("a",), "c"),
            downgrade_step(script, "c"),
        ],
        starting_rev="a",
        destination_rev="a",
    )

    assert "DELETE FROM alembic_version WHERE alembic_version.version_num = 'a';" in sql
    assert "INSERT INTO alembic_version (version_num) VALUES ('b1')" in sql
    assert "UPDATE alembic_version SET version_num='a' WHERE alembic_version.version_num = 'b1';" in sql
    assert "UPDATE alembic_version SET version_num='c' WHERE alembic_version.version_num = 'a';" in sql
    assert "UPDATE alembic_version SET version_num='m' WHERE alembic_version.version_num = 'c';" in sql
    assert (
        "DELETE FROM steps WHERE revision = 'b1';" in sql and "DELETE FROM steps WHERE revision = 'c';" in sql
    )


def test_a_wrapped_migration_function_is_the_one_alembic_calls(script):
    """The wrapper runs in place of upgrade(), around it; what it returns instead of running it counts."""
    upgrades = {revision: script.get_revision(revision).module.upgrade for revision in ("a", "b1")}
    called: list[Callable[..., Any]] = []

    def skipping_b1(upgrade: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            called.append(upgrade)
            return None if upgrade is upgrades["b1"] else upgrade(*args, **kwargs)

        return run

    def steps() -> Iterator[Any]:
        for revision in ("a", "b1"):
            yield wrap_migration_function(upgrade_step(script, revision), skipping_b1)

    sql = offline_sql(script, lambda: list(steps()), destination_rev="b1")

    assert called == [upgrades["a"], upgrades["b1"]]
    assert "VALUES ('a', txid_current())" in sql
    assert "VALUES ('b1', txid_current())" not in sql  # the wrapper, not b1's upgrade(), ran
    assert "UPDATE alembic_version SET version_num='b1'" in sql


@pytest.mark.parametrize(
    ("destination", "heads", "applied"),
    [
        ("heads", (), ["a", "b2", "b1", "m", "c"]),
        ("m", ("b1",), ["b2", "m"]),  # the other branch first, then the merge
        ("m", ("b1", "b2"), ["m"]),
        ("b2", ("b1",), ["b2"]),
    ],
)
def test_would_apply_is_alembics_own_upgrade_order(script, destination, heads, applied):
    """From heads given as a tuple (as the database reports them), in the order alembic upgrade uses."""
    assert would_apply(script, destination, heads) == applied


def test_env_py_reaches_a_shared_subclass_through_the_context_module(config, script):
    """``from alembic import context`` in env.py calls the subclass's own methods once it shares the module."""
    from alembic import context

    class Unshared(EnvironmentContext):
        def get_x_argument(self, as_dictionary: bool = False) -> Any:
            return "the subclass answered"

    with Unshared(config, script), pytest.raises((NameError, AttributeError)):
        context.get_x_argument()  # Alembic fills the module only for classes it has registered

    class Shared(EnvironmentContext):
        def get_x_argument(self, as_dictionary: bool = False) -> Any:
            return "the subclass answered"

    share_context_module(Shared)
    with Shared(config, script) as shared:
        assert context.get_x_argument() == "the subclass answered"
        assert context.config is shared.config
        shared.configure(dialect_name="postgresql", as_sql=True)
        assert isinstance(context.get_context(), MigrationContext)


@pytest.mark.parametrize("schema", [None, "Ops"])
def test_version_updates_from_the_template_are_the_text_alembic_compiles(script, schema, monkeypatch):
    """Every step's UPDATE comes from the template, byte for byte what Alembic writes; the rest is Alembic's own."""
    order = ["b1", "b2", "m", "c"]
    revisions = ["a", *order]

    def steps() -> list[Any]:
        return [upgrade_step(script, revision) for revision in revisions] + [
            downgrade_step(script, revision) for revision in ["c", "m"]
        ]

    def render(after: Callable[[MigrationContext], None] | None) -> str:
        return offline_sql(
            script, steps, destination_rev="c", version_table_schema=schema, after_configure=after
        )

    expected = render(None)
    compiled: list[str] = []
    original = Update.compile

    def counting(self: Update, *args: Any, **kwargs: Any) -> Any:
        compiled.append(type(self).__name__)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Update, "compile", counting)
    assert render(write_version_updates_from_template) == expected
    assert expected.count("UPDATE ") >= 3
    assert len(compiled) == 1  # the template itself; no step's UPDATE was compiled


def test_a_downgrade_step_deletes_the_version_row_exactly_when_alembics_own_does(script):
    """The shortcut for a lone head with one parent agrees with Alembic's ancestry walk for every head set."""
    revisions = ["a", "b1", "b2", "m", "c"]
    head_sets = [{revision} for revision in revisions] + [{"b1", "b2"}, {"a", "b1"}, {"b2", "c"}, set()]
    for revision in revisions:
        ours = downgrade_step(script, revision)
        alembics = MigrationStep.downgrade_from_script(script.revision_map, script.get_revision(revision))
        assert ours == alembics and ours.is_downgrade
        for heads in head_sets:
            assert ours.should_delete_branch(set(heads)) == alembics.should_delete_branch(set(heads)), (
                revision,
                heads,
            )
    assert downgrade_step(script, "a").should_delete_branch({"a"})  # the base: its row goes
    assert not downgrade_step(script, "c").should_delete_branch({"c"})
