"""One run request, however the run was asked for: command-line flags, a playbook, a caller's own code.

``plan``, ``lint``, ``apply`` (and the rehearsal and resume built on them) all
take a ``RunRequest``: the project, the target, how far to go, the guards each
step runs under (resolved in one order, ``runner.request.guards``), where the
audit log goes, the acknowledged findings, how the target is confirmed and the
window override. Building one from flags (``from_flags``) or from a playbook
(``from_playbook``) is the only place where those two sources meet.
"""

from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.database.version_table import VersionTable
from runner.errors import ConfigError
from runner.guards import GuardPolicy
from runner.run.resuming import Resumption
from runner.run.settings import RunSettings
from runner.target import DatabaseTarget

if TYPE_CHECKING:  # the playbook and lint packages are imported only by runs that use them
    from runner.lint import Acknowledgement
    from runner.playbook.book import Playbook
    from runner.playbook.schedule import WindowOverride

DEFAULT_AUDIT_LOG = Path("runner-audit.jsonl")


def default_operator() -> str:
    """Who runs this, for the audit log and runner_history: $RUNNER_OPERATOR, else user@host."""
    return os.environ.get("RUNNER_OPERATOR") or f"{getpass.getuser()}@{socket.gethostname()}"


@dataclass(frozen=True)
class Confirmation:
    """How the target was confirmed before the caller asked for the run.

    ``target_name`` must equal the target's name (the playbook's ``target.name``,
    or the database's name without a playbook). ``yes`` skips the prompt: enough
    without a playbook (the runner can't tell production from staging there),
    and for a playbook's rehearsal target; anything else needs the name.
    """

    yes: bool = False
    target_name: str | None = None


@dataclass(frozen=True)
class RunRequest:
    config: Path  # the application's alembic.ini
    target: DatabaseTarget | None  # None only for planning or linting without a database
    to: str = "head"
    from_revision: str | None = None  # plan or lint from here instead of the database's revision
    env_py_wrapper: str | None = None
    version_table: VersionTable = field(default_factory=VersionTable)
    guards: GuardPolicy = field(default_factory=GuardPolicy)
    audit_log: Path = DEFAULT_AUDIT_LOG
    acknowledgements: tuple[Acknowledgement, ...] = ()
    confirmation: Confirmation = field(default_factory=Confirmation)
    window_override: WindowOverride | None = None
    playbook: Playbook | None = None
    rehearsal_log: Path | None = None  # a rehearsal's audit log: its measured step times
    snapshot_id: str | None = None  # reuse this snapshot (if available, of this source, young enough)
    operator: str = field(default_factory=default_operator)
    command: str = "runner apply"  # how the operator asked, repeated in "Next:" hints
    resuming: Resumption | None = None  # runner resume: the run this one continues

    @property
    def target_name(self) -> str:
        """What the operator types to confirm: the playbook's target name, or the database's."""
        if self.playbook is not None:
            return self.playbook.target.name
        return self.target.database if self.target is not None else "<no target>"

    def run_settings(self) -> RunSettings:
        """What the executor needs of this request (a run needs a target)."""
        if self.target is None:
            raise ConfigError(
                "No target database: pass --database-url or set DATABASE_URL (the runner never falls back to the "
                "sqlalchemy.url in alembic.ini)."
            )
        return RunSettings(
            target=self.target,
            to=self.to,
            version_table=self.version_table,
            guards=self.guards,
            operator=self.operator,
            command=self.command,
            target_name=self.target_name,
            request_record=self.record(),
            resuming=self.resuming,
        )

    def record(self) -> dict[str, Any]:
        """How this run was asked for, in the audit log (``run_started``), so ``runner resume`` can ask again.

        A playbook run is its file and hash (resume reloads it and refuses a changed one); a run from flags
        is its settings. The target is its display form only: resume reads the URL where the run did.
        """
        run_wide = self.guards.run_wide
        return {
            "config": str(self.config.resolve()),
            "to": self.to,
            "env_py_wrapper": self.env_py_wrapper,
            "version_table": str(self.version_table),
            "guards": {**vars(run_wide.guards), "retry": vars(run_wide.retry), "source": run_wide.source},
            "acknowledgements": [vars(a) for a in self.acknowledgements],
            "rehearsal_log": str(self.rehearsal_log.resolve()) if self.rehearsal_log else None,
            "playbook": (
                {"path": str(self.playbook.path.resolve()), "sha256": self.playbook.digest}
                if self.playbook is not None
                else None
            ),
            "audit_log": str(self.audit_log.resolve()),
            "snapshot_id": self.snapshot_id,
        }

    @property
    def environment(self) -> str | None:
        """production, staging or rehearsal from the playbook; None when nothing says."""
        return self.playbook.target.environment if self.playbook is not None else None


__all__ = ["DEFAULT_AUDIT_LOG", "Confirmation", "GuardPolicy", "RunRequest"]
