"""``runner apply --playbook``: the playbook decides, the command line only confirms.

Everything the playbook sets (project, target, guards, retries, audit log) is
refused on the command line alongside it, so a run does exactly what was
reviewed. Before anything is locked the plan is shown with the playbook's
rules; a closed window or a database off the playbook's path is refused (and
audited) before the operator is asked to confirm; anything but a rehearsal is
confirmed by typing the target's name, or with ``--yes --confirm-target NAME``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import typer

from runner.audit import AuditLog
from runner.cli.common import stderr, stdout
from runner.cli.output import command_line
from runner.cli.playbook import Opened, open_playbook, print_warnings, refuse_overlaps
from runner.cli.playbook_view import show_playbook
from runner.cli.status import show_status
from runner.database.connections import VersionTable
from runner.errors import ConfigError, Refused
from runner.lint import Acknowledgement, Calibration, read_calibration
from runner.plan.status import read_status
from runner.playbook.book import Playbook, TargetSpec
from runner.playbook.hooks import PlaybookHooks
from runner.playbook.schedule import WindowOverride
from runner.run.executor import Executor
from runner.run.result import RunSettings, default_operator, new_run_id
from runner.run.risk import RiskReview

APPLY_OPTIONS = {
    "config": ("--config", "project.alembic_config"),
    "database_url": ("--database-url", "target.url_env"),
    "to": ("--to", "project.target_revision"),
    "lock_timeout": ("--lock-timeout", "guards.lock_timeout"),
    "statement_timeout": ("--statement-timeout", "guards.statement_timeout"),
    "idle_timeout": ("--idle-in-transaction-timeout", "guards.idle_in_transaction_timeout"),
    "lock_retries": ("--lock-retries", "guards.retry.attempts"),
    "retry_wait": ("--retry-wait", "guards.retry.first_wait"),
    "retry_max_wait": ("--retry-max-wait", "guards.retry.max_wait"),
    "retry_budget": ("--retry-budget", "guards.retry.budget"),
    "audit_log": ("--audit-log", "audit.log"),
    "env_py_wrapper": ("--env-py-wrapper", "project.env_py_wrapper"),
    "version_table": ("--version-table", "project.version_table"),
}


def rehearsal_calibration(book: Playbook) -> Calibration | None:
    """Measured step timings from the playbook's rehearsal log, when there is one to read."""
    log = book.timings.rehearsal_log
    return read_calibration(log) if log is not None and log.is_file() else None


def window_override(flag: bool, reason: str | None) -> WindowOverride | None:
    if not flag and reason is None:
        return None
    if not flag:
        raise ConfigError(
            "--reason goes with --override-window; without it there is nothing to give a reason for."
        )
    if reason is None or not reason.strip():
        raise ConfigError(
            '--override-window needs --reason "..." saying why this run can\'t wait for the window; the reason '
            "is written to the audit log."
        )
    return WindowOverride(reason.strip(), default_operator())


def interactive() -> bool:
    return sys.stdin.isatty()


def ask(question: str) -> str:
    return str(typer.prompt(question))


def confirm_target(
    target: TargetSpec,
    steps: int,
    *,
    yes: bool,
    given: str | None,
    is_interactive: Callable[[], bool] | None = None,
    prompt: Callable[[str], str] | None = None,
) -> str | None:
    """How the operator confirmed the target (for the audit log); None when no confirmation is needed."""
    is_interactive = is_interactive or interactive  # looked up now, so tests can replace them
    prompt = prompt or ask

    if given is not None:
        if given.strip() != target.name:
            raise Refused(
                f"--confirm-target {given.strip()!r} does not match the playbook's target {target.name!r}; "
                "nothing was changed."
            )
        return "--confirm-target"
    if not target.needs_confirmation:
        return None
    if yes:
        raise Refused(
            f"--yes alone does not confirm a {target.environment} target; nothing was changed.",
            next_step=f"add --confirm-target {target.name} (the playbook's target.name) to run without a prompt.",
        )
    if not is_interactive():
        raise Refused(
            f"Applying to the {target.environment} target {target.name!r} needs the operator to type its name, and "
            "stdin is not a terminal; nothing was changed.",
            next_step=f"review the plan, then run the same command with --yes --confirm-target {target.name}.",
        )
    answer = prompt(
        f"Type the target's name ({target.name}) to apply {steps} step(s) to this {target.environment} database"
    )
    if answer.strip() != target.name:
        raise Refused(
            f"{answer.strip()!r} does not match the target's name {target.name!r}; nothing was changed."
        )
    return "typed at the prompt"


def apply_playbook(
    ctx: typer.Context,
    path: Path,
    *,
    yes: bool,
    confirm_target_name: str | None,
    override: WindowOverride | None,
    json_output: bool,
    acknowledgements: Sequence[Acknowledgement] = (),
) -> None:
    """Run the whole apply from the playbook; always ends with typer.Exit(exit code)."""
    refuse_overlaps(ctx, APPLY_OPTIONS)
    open_playbook(
        path,
        lambda opened: _apply(
            opened,
            path,
            yes=yes,
            confirm_target_name=confirm_target_name,
            override=override,
            json_output=json_output,
            acknowledgements=acknowledgements,
        ),
    )


def _apply(
    opened: Opened,
    path: Path,
    *,
    yes: bool,
    confirm_target_name: str | None,
    override: WindowOverride | None,
    json_output: bool,
    acknowledgements: Sequence[Acknowledgement],
) -> None:
    from runner.cli.apply import DEFAULT_AUDIT_LOG, audited, report, watch_on_console  # apply.py imports this

    print_warnings(opened)
    book, project, target = opened.playbook, opened.project, opened.target
    assert target is not None  # open_playbook(need_target=True) refuses without one
    table = VersionTable.parse(book.project.version_table)
    found = read_status(project, target, to=book.project.target_revision, version_table=table)
    risk = RiskReview(project, [*book.acknowledgements, *acknowledgements], rehearsal_calibration(book))
    hooks = PlaybookHooks(book, project, override=override, risk=risk)
    audit_path = book.audit_log or DEFAULT_AUDIT_LOG
    if found.pending:
        if not json_output:
            show_status(found)
            show_playbook(book, list(found.pending), hooks.schedule)
        refusal = hooks.off_path(found.current) or hooks.schedule.refusal(found.pending)
        if refusal is not None:
            with AuditLog(audit_path, new_run_id()) as audit:
                audit.emit(
                    "run_refused",
                    reason=refusal.message,
                    exit_code=int(refusal.exit_code),
                    playbook=book.source,
                )
            raise refusal
        hooks.confirmation = confirm_target(
            book.target,
            len(found.pending),
            yes=yes,
            given=confirm_target_name,
            is_interactive=(lambda: False) if json_output else None,  # a prompt would corrupt the JSON
        )
    settings = RunSettings(guards=book.guards, retry=book.retry, version_table=table, command=command_line())
    with (
        AuditLog(audit_path, new_run_id()) as audit,
        audited(audit),
    ):
        watch_on_console(audit, stderr if json_output else stdout)
        result = Executor(project, target, audit, settings, hooks=hooks).apply(book.project.target_revision)
    report(result, audit_path, json_output)
    raise typer.Exit(int(result.exit_code))
