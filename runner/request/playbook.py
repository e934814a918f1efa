"""A run request from a reviewed playbook; the command line may only add what the playbook leaves open.

Everything a playbook sets (project, target, revisions, guards, retries, audit
log) is refused on the command line alongside it, so a run does exactly what
was reviewed. ``PLAYBOOK_SETS`` is the one table of those options: apply, plan
and lint all check against it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from runner.aws.identifiers import SNAPSHOT_ID_RULE, is_snapshot_id
from runner.database.version_table import VersionTable
from runner.errors import ConfigError, RunnerError
from runner.request import DEFAULT_AUDIT_LOG, Confirmation, RunRequest
from runner.target import DatabaseTarget

if TYPE_CHECKING:
    from runner.lint import Acknowledgement
    from runner.playbook.book import Playbook
    from runner.playbook.schedule import WindowOverride

# option name (as the CLI function names it) -> (the flag, the playbook key that sets it)
PLAYBOOK_SETS = {
    "config": ("--config", "project.alembic_config"),
    "database_url": ("--database-url", "target.url_env"),
    "to": ("--to", "project.target_revision"),
    "env_py_wrapper": ("--env-py-wrapper", "project.env_py_wrapper"),
    "version_table": ("--version-table", "project.version_table"),
    "audit_log": ("--audit-log", "audit.log"),
    "lock_timeout": ("--lock-timeout", "guards.lock_timeout"),
    "statement_timeout": ("--statement-timeout", "guards.statement_timeout"),
    "idle_timeout": ("--idle-in-transaction-timeout", "guards.idle_in_transaction_timeout"),
    "lock_attempts": ("--lock-attempts", "guards.retry.attempts"),
    "retry_wait": ("--retry-wait", "guards.retry.first_wait"),
    "retry_max_wait": ("--retry-max-wait", "guards.retry.max_wait"),
    "retry_budget": ("--retry-budget", "guards.retry.budget"),
    "queue_limit": ("--queue-limit", "guards.retry.queue_limit"),
}


def refuse_overlaps(given: Iterable[str]) -> None:
    """Refuse options given on the command line that the playbook sets itself."""
    for name in given:
        if name in PLAYBOOK_SETS:
            option, key = PLAYBOOK_SETS[name]
            raise ConfigError(
                f"{option} can't be combined with --playbook: the playbook sets it ({key}). Change the playbook "
                "instead, so the run does what was reviewed."
            )


def target_of(book: Playbook) -> DatabaseTarget | None:
    """The target from the variable the playbook names; None when it is unset or unreadable.

    An unreadable URL is not raised here: validating the playbook reports it at
    the line of ``target.url_env``.
    """
    raw = os.environ.get(book.target.url_env)
    if not raw:
        return None
    try:
        return DatabaseTarget.parse(raw, source=f"${book.target.url_env}")
    except RunnerError:
        return None


def from_playbook(
    book: Playbook,
    *,
    given: Iterable[str] = (),
    from_revision: str | None = None,
    acknowledgements: Sequence[Acknowledgement] = (),
    confirmation: Confirmation | None = None,
    window_override: WindowOverride | None = None,
    rehearsal_log: Path | None = None,
    snapshot_id: str | None = None,
    command: str = "runner apply",
) -> RunRequest:
    refuse_overlaps(given)
    if snapshot_id is not None and not is_snapshot_id(snapshot_id):
        raise ConfigError(
            f"--snapshot-id {snapshot_id!r} is not an RDS snapshot identifier ({SNAPSHOT_ID_RULE}); nothing was "
            "changed."
        )
    from runner.lint import Acknowledgement  # the linter is imported only by runs that use it

    reviewed = tuple(Acknowledgement(a.code, a.revision, a.reason) for a in book.acknowledgements)
    log = book.timings.rehearsal_log
    return RunRequest(
        config=Path(book.project.alembic_config),
        target=target_of(book),
        to=book.project.target_revision,
        from_revision=from_revision,
        env_py_wrapper=book.project.env_py_wrapper,
        version_table=VersionTable.parse(book.project.version_table),
        guards=book.guard_policy(),
        audit_log=book.audit_log or DEFAULT_AUDIT_LOG,
        acknowledgements=(*reviewed, *acknowledgements),
        confirmation=confirmation or Confirmation(),
        window_override=window_override,
        playbook=book,
        rehearsal_log=rehearsal_log or (log if log is not None and log.is_file() else None),
        snapshot_id=snapshot_id,
        command=command,
    )
