"""The application's Alembic project: its config, its revisions and their order.

Everything that runs the application's env.py goes through ``AlembicProject.run_env``,
so that a project whose env.py adds version locations at run time is seen the way
Alembic itself sees it. An ``--env-py-wrapper`` (an application context) is entered
once per command: the command's body runs inside ``within_wrapper``, and every env.py
run inside it calls straight through, so an application that opens connections or
builds itself when its context is entered does so once, however many revisions or
env.py runs the command needs.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from alembic.config import Config
from alembic.script import Script, ScriptDirectory

from runner.errors import ConfigError, MultipleHeads, UnknownRevision
from runner.planning.app_errors import revision_load_error, script_directory
from runner.planning.revisions import Revision, downgrade_kind
from runner.planning.wrapper import EnvPyWrapper
from runner.redact import redact

T = TypeVar("T")


class AlembicProject:
    """An alembic.ini, its script directory, and the way to run its env.py."""

    def __init__(
        self,
        config: Config,
        script: ScriptDirectory,
        wrapper: EnvPyWrapper | None = None,
    ) -> None:
        self.config = config
        self._script = script
        self.wrapper = wrapper or EnvPyWrapper(None)
        self._revisions: dict[str, Revision] = {}
        self._discover_pending = False  # env.py may still add version locations (run inside the wrapper)

    @property
    def script(self) -> ScriptDirectory:
        """The script directory as env.py leaves it (discovered on first use when a wrapper is needed)."""
        if self._discover_pending:
            self._discover_pending = False
            self.discover_version_locations()
            self.check_revision_map()
        return self._script

    @script.setter
    def script(self, value: ScriptDirectory) -> None:
        self._script = value

    # -- loading ---------------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        config_path: str | Path,
        *,
        database_url: str | None = None,
        env_py_wrapper: str | None = None,
        discover: bool = True,
    ) -> AlembicProject:
        path = Path(config_path)
        if not path.is_file():
            raise ConfigError(
                f"Alembic config {path} does not exist; pass -c PATH/TO/alembic.ini or run the command "
                "from the directory that holds it."
            )
        config = make_config(path, database_url)
        script = script_directory(path, config)
        project_dir = str(path.resolve().parent)
        if project_dir not in sys.path:
            sys.path.insert(0, project_dir)
        wrapper = EnvPyWrapper.named(env_py_wrapper)
        project = cls(config, script, wrapper)
        if discover and wrapper.given:
            # env.py needs the wrapper's context: discover (and check) inside the command's one entry
            project._discover_pending = True
            return project
        if discover:
            project.discover_version_locations()
        project.check_revision_map()
        return project

    def check_revision_map(self) -> None:
        try:
            self._script.revision_map.heads  # noqa: B018 - forces the map to load
        except Exception as exc:  # alembic raises RevisionError, CommandError, ImportError...
            raise ConfigError(revision_load_error(self._script, self.config, exc)) from None

    def discover_version_locations(self) -> None:
        """Run env.py once offline so version locations it sets at run time are seen.

        Alembic itself only sees ``context.script`` as env.py leaves it, so the
        runner does the same. If env.py can't run offline (it needs a database
        or a setting that is not there), the static configuration is used.
        """
        before = list(self.script.version_locations or [])
        configured = self.config.get_main_option("version_locations")
        from alembic.runtime.environment import EnvironmentContext

        def no_steps(_heads: Any, _context: Any) -> list[Any]:
            return []

        config = make_config(
            Path(str(self.config.config_file_name)), self.config.get_main_option("sqlalchemy.url")
        )
        config.output_buffer = io.StringIO()
        config.attributes.update(self.config.attributes)
        script = self.script
        try:
            with EnvironmentContext(config, script, fn=no_steps, as_sql=True):
                self.run_env(script)
        except BaseException:  # env.py is user code: any failure means "can't discover"
            return
        changed_option = config.get_main_option("version_locations")
        if changed_option != configured:
            self.config.set_main_option("version_locations", changed_option or "")
            self.script = ScriptDirectory.from_config(self.config)
        elif list(script.version_locations or []) != before:
            self.script = script

    # -- running env.py ----------------------------------------------------------------------
    def run_env(self, script: ScriptDirectory | None = None) -> None:
        """Run env.py (inside an EnvironmentContext the caller entered), inside the wrapper."""
        self.wrapper.run((script or self.script).run_env)

    def within_wrapper(self, body: Callable[[], T]) -> T:
        """Run ``body`` (a command's work) inside the wrapper, entered once (see ``EnvPyWrapper.run``)."""
        return self.wrapper.run(body)

    # -- revisions ---------------------------------------------------------------------------
    @property
    def heads(self) -> tuple[str, ...]:
        return tuple(self.script.get_heads())

    def script_for(self, revision: str) -> Script:
        try:
            found = self.script.get_revision(revision)
        except Exception:
            found = None
        if found is None:
            raise UnknownRevision(
                f"Revision {revision!r} is not in the Alembic project at {self.script.dir}; "
                f"its heads are {', '.join(self.heads) or 'none'}.",
                next_step=f"runner status -c {self.config.config_file_name}",
            )
        return found

    def revision(self, revision: str) -> Revision:
        script = self.script_for(revision)
        if script.revision not in self._revisions:
            self._revisions[script.revision] = Revision(
                revision=script.revision,
                down_revisions=_as_tuple(script.down_revision),
                message=(script.doc or "").strip(),
                path=script.path,
                downgrade=downgrade_kind(script.path, getattr(script.module, "downgrade", None)),
            )
        return self._revisions[script.revision]

    def resolve(self, target: str) -> tuple[str, ...]:
        """Turn ``head``/``heads``/an id or prefix into concrete revision ids.

        As in Alembic, ``head`` is the one head and refused when the history has
        several (MultipleHeads); ``heads`` is all of them.
        """
        if target == "head" and len(self.heads) > 1:
            raise MultipleHeads(self.heads, f"The Alembic project at {self.script.dir}")
        if target in ("head", "heads"):
            return self.heads
        return (self.script_for(target).revision,)

    def pending(self, current: Sequence[str], target: str = "head") -> list[Revision]:
        """Revisions an upgrade from ``current`` to ``target`` applies, in Alembic's order."""
        destination = self.resolve(target)
        self.check_known(current, "The database's current revision")
        try:
            scripts = list(self.script.iterate_revisions(destination, tuple(current), implicit_base=True))
        except Exception as exc:
            raise UnknownRevision(
                f"Can't upgrade from {_fmt(current)} to {target}: {redact(str(exc))}",
                next_step=f"runner status -c {self.config.config_file_name}",
            ) from None
        return [self.revision(s.revision) for s in reversed(scripts)]

    def downgrade_path(self, current: Sequence[str], target: str | None) -> list[Revision]:
        """Revisions a downgrade from ``current`` to ``target`` (None: base) undoes, newest first."""
        self.check_known(current, "The database's current revision")
        destination = self.resolve(target)[0] if target else None
        try:
            scripts = list(
                self.script.iterate_revisions(tuple(current), destination, select_for_downgrade=True)
            )
        except Exception as exc:
            raise UnknownRevision(
                f"Can't downgrade from {_fmt(current)} to {target or '<base>'}: {redact(str(exc))}"
            ) from None
        return [self.revision(s.revision) for s in scripts]

    def check_known(self, revisions: Sequence[str], what: str) -> None:
        for revision in revisions:
            if not self.is_known(revision):
                raise UnknownRevision(
                    f"{what} {revision!r} is not in the Alembic project at {self.script.dir}: the database "
                    "was migrated by code this checkout does not have.",
                    next_step="check out the application version that produced it, then run runner status.",
                )

    def is_known(self, revision: str) -> bool:
        try:
            return self.script.revision_map.get_revision(revision) is not None
        except Exception:  # alembic raises on ambiguous or malformed ids
            return False


def make_config(path: Path, database_url: str | None) -> Config:
    config = Config(str(path))
    if database_url:
        # ConfigParser interpolates '%': a URL-encoded password must be escaped.
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def _as_tuple(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _fmt(revisions: Sequence[str]) -> str:
    return ", ".join(revisions) or "<base>"
