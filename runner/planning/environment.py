"""Alembic's EnvironmentContext, with the runner standing between env.py and Alembic.

env.py calls ``context.configure(connection=...)``; this subclass receives that
call first. It hands the connection to the runner (guards, identity check,
statement capture), forces one transaction per migration, and adds the runner's
``on_version_apply`` callback, which runs inside each step's transaction right
after the version row is written. env.py itself is not modified or copied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alembic.runtime.environment import EnvironmentContext

from runner.alembic_compat import share_context_module, write_version_updates_from_template
from runner.errors import EnvPyError

ConnectionHook = Callable[[Any], None]
VersionApplyHook = Callable[..., None]


class GuardedEnvironment(EnvironmentContext):
    def __init__(
        self,
        config: Any,
        script: Any,
        *,
        on_connection: ConnectionHook | None = None,
        on_version_apply: VersionApplyHook | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(config, script, **kw)
        self._runner_on_connection = on_connection
        self._runner_on_version_apply = on_version_apply
        self.env_py_options: dict[str, Any] = {}

    # Alembic spells out configure()'s thirty-odd keywords (more in each release); env.py passes any of
    # them, and the runner's override takes them all through **kw to hand on unchanged.
    def configure(self, connection: Any = None, url: Any = None, **kw: Any) -> None:  # type: ignore[override]
        self.env_py_options = {
            key: kw.get(key) for key in ("transaction_per_migration", "version_table", "version_table_schema")
        }
        kw["transaction_per_migration"] = True
        if not self.is_offline_mode():
            if connection is None:
                raise EnvPyError(
                    "env.py called context.configure() without a connection in online mode, so the runner "
                    "has no connection to guard. env.py must pass connection=... (the alembic init default does)."
                )
            if self._runner_on_connection is not None:
                self._runner_on_connection(connection)
            callbacks = kw.get("on_version_apply") or []
            callbacks = [callbacks] if callable(callbacks) else list(callbacks)
            if self._runner_on_version_apply is not None:
                callbacks.append(self._runner_on_version_apply)
            kw["on_version_apply"] = callbacks
        super().configure(connection=connection, url=url, **kw)
        if self.is_offline_mode():
            write_version_updates_from_template(self.get_context())


share_context_module(GuardedEnvironment)
