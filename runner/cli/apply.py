"""``runner apply``: parse the options into a request, run ``runner.commands.apply``, show the result."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from runner.cli.common import (
    DEFAULT_CONFIG,
    ConfigOption,
    DatabaseUrlOption,
    DebugOption,
    JsonOption,
    PlaybookOption,
    ToOption,
    VersionTableOption,
    WrapperOption,
    boundary,
    given_options,
    print_json,
    resolve_target,
    stderr,
    stdout,
)
from runner.cli.lint import AcknowledgeOption, ReasonOption
from runner.cli.output import command_line
from runner.errors import ConfigError

if TYPE_CHECKING:
    from runner.audit import AuditLog
    from runner.commands import Preview
    from runner.playbook.schedule import WindowOverride
    from runner.run.result import RunResult


def apply(
    ctx: typer.Context,
    config: ConfigOption = DEFAULT_CONFIG,
    database_url: DatabaseUrlOption = None,
    to: ToOption = "head",
    lock_timeout: Annotated[
        str | None,
        typer.Option(help="How long a statement may wait for a lock (default 2s).", show_default=False),
    ] = None,
    statement_timeout: Annotated[
        str | None, typer.Option(help="How long any one statement may run (default 60s).", show_default=False)
    ] = None,
    idle_timeout: Annotated[
        str | None,
        typer.Option(
            "--idle-in-transaction-timeout",
            help="Server ends a session idle in a transaction (default 60s).",
            show_default=False,
        ),
    ] = None,
    lock_attempts: Annotated[
        str | None,
        typer.Option(
            metavar="N",
            help="Tries of a step whose lock wait timed out, the first included (1 to 100, default 5); the "
            "same count as a playbook's retry.attempts.",
            show_default=False,
        ),
    ] = None,
    lock_retries: Annotated[str | None, typer.Option(hidden=True, show_default=False)] = None,
    retry_wait: Annotated[
        str | None, typer.Option(help="First backoff before a lock retry, jittered, doubling (default 1s).")
    ] = None,
    retry_max_wait: Annotated[str | None, typer.Option(help="Longest single backoff (default 30s).")] = None,
    retry_budget: Annotated[
        str | None, typer.Option(help="Total time a step may spend on lock retries (default 5min).")
    ] = None,
    queue_limit: Annotated[
        str | None,
        typer.Option(
            metavar="N",
            help="While a step waits for its lock, give way and retry once more than N sessions queue behind it "
            "(default: wait out the lock_timeout).",
            show_default=False,
        ),
    ] = None,
    audit_log: Annotated[
        Path | None,
        typer.Option(
            help="Append-only audit log, JSON lines (default runner-audit.jsonl).", show_default=False
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Don't ask for confirmation.")] = False,
    json_output: JsonOption = False,
    debug: DebugOption = False,
    env_py_wrapper: WrapperOption = None,
    version_table: VersionTableOption = "alembic_version",
    playbook: PlaybookOption = None,
    override_window: Annotated[
        str | None,
        typer.Option(
            "--override-window",
            metavar="REASON",
            help="Run outside the playbook's maintenance window; the reason is written to the audit log.",
            show_default=False,
        ),
    ] = None,
    acknowledge: AcknowledgeOption = None,
    reason: ReasonOption = None,
    confirm_target: Annotated[
        str | None,
        typer.Option(
            "--confirm-target",
            help="The target's name, to confirm without a prompt (with --yes for non-interactive runs).",
        ),
    ] = None,
    snapshot_id: Annotated[
        str | None,
        typer.Option(
            "--snapshot-id",
            help="Reuse this snapshot instead of taking one (it must be available, of this instance, and younger "
            "than the playbook's snapshot.reuse.max_age).",
        ),
    ] = None,
) -> None:
    """Apply pending revisions one at a time, each in its own guarded transaction."""
    # Imported here, not at the top: the CLI starts faster for the commands that don't apply.
    from runner.cli.lint_view import parse_acknowledgements
    from runner.commands import Interaction
    from runner.commands import apply as run_apply
    from runner.request import Confirmation
    from runner.request.flags import GuardFlags, from_flags

    with boundary(debug, json_output=json_output):
        if lock_retries is not None:
            raise ConfigError(
                "--lock-retries is replaced by --lock-attempts, which counts every try of a step including the "
                f"first, as a playbook's retry.attempts does: {_as_attempts(lock_retries)}."
            )
        acknowledgements = parse_acknowledgements(acknowledge or [], reason or [])
        confirmation = Confirmation(yes=yes, target_name=confirm_target)
        override = window_override(override_window)
        if playbook is not None:
            from runner.playbook import load_playbook
            from runner.request.playbook import from_playbook

            request = from_playbook(
                load_playbook(playbook),
                given=given_options(ctx),
                acknowledgements=acknowledgements,
                confirmation=confirmation,
                window_override=override,
                snapshot_id=snapshot_id,
                command=command_line(),
            )
        else:
            if snapshot_id is not None:
                raise ConfigError(
                    "--snapshot-id only applies with --playbook: the snapshot is the playbook's."
                )
            guards = GuardFlags(
                lock_timeout,
                statement_timeout,
                idle_timeout,
                lock_attempts,
                retry_wait,
                retry_max_wait,
                retry_budget,
                queue_limit,
            )
            request = from_flags(
                config=config,
                target=resolve_target(database_url),
                to=to,
                env_py_wrapper=env_py_wrapper,
                version_table=version_table,
                guards=guards,
                audit_log=audit_log,
                acknowledgements=acknowledgements,
                confirmation=confirmation,
                window_override=override,
                command=command_line(),
            )
        interaction = Interaction(
            show=(lambda preview: None) if json_output else show_preview,
            prompt=ask if interactive() and not json_output else None,  # a prompt would corrupt the JSON
            watch=lambda audit: watch_on_console(audit, json_output),
            snapshot_progress=lambda progress: stderr.print(f"  {progress.describe()}", markup=False),
        )
        result = run_apply(request, interaction)
        report(result, request.audit_log, json_output)
        raise typer.Exit(int(result.exit_code))


def _as_attempts(retries: str) -> str:
    try:
        return f"--lock-retries {int(retries)} is --lock-attempts {int(retries) + 1}"
    except ValueError:
        return "--lock-retries N is --lock-attempts N+1"


def window_override(reason: str | None) -> WindowOverride | None:
    if reason is None:
        return None
    if not reason.strip():
        raise ConfigError(
            "--override-window needs a reason (\"--override-window 'why this run can't wait'\"); it is written "
            "to the audit log."
        )
    from runner.playbook.schedule import WindowOverride
    from runner.request import default_operator

    return WindowOverride(reason.strip(), default_operator())


def interactive() -> bool:
    return sys.stdin.isatty()


def ask(question: str) -> str:
    return str(typer.prompt(question))


def show_preview(preview: Preview) -> None:
    """What the operator sees before confirming: the status, and the playbook's rules for each step."""
    from runner.cli.status import show_status

    for warning in preview.warnings:
        stderr.print(f"warning: {warning}", markup=False)
    show_status(preview.status)
    book = preview.request.playbook
    if book is not None:
        from runner.cli.playbook_view import show_playbook
        from runner.playbook.hooks import PlaybookHooks

        assert isinstance(preview.hooks, PlaybookHooks)
        show_playbook(book, list(preview.status.pending), preview.hooks.schedule)


def watch_on_console(audit: AuditLog, json_output: bool) -> None:
    """Print each event as it is written (and, on a terminal, a live line for the step in flight); a
    console that goes away is noted in the log, once."""
    from runner.cli.progress import console_listener

    console = stderr if json_output else stdout
    audit.listeners.append(
        console_listener(
            console,
            on_lost=lambda: audit.emit(
                "console_lost", detail="the console's reader went away; output stopped"
            ),
        )
    )
    if console.is_terminal and not json_output:
        from runner.cli.live import live_listener

        audit.listeners.append(live_listener(console))


def report(result: RunResult, audit_log: Path, json_output: bool) -> None:
    if json_output:
        print_json(
            {
                "run_id": result.run_id,
                "status": str(result.status),
                "exit_code": int(result.exit_code),
                "prior": list(result.prior_heads),
                "final": list(result.final_heads),
                "applied": [s.revision for s in result.applied],
                "reverted": [s.revision for s in result.reverted],
                "message": result.message,
                "next_step": result.next_step,
                "runbook": result.runbook,
                "audit_log": str(audit_log),
            }
        )
        return
    console = stdout if int(result.exit_code) == 0 else stderr
    if result.runbook:
        stdout.print(result.runbook, markup=False)
    console.print(result.message, markup=False)
    if result.next_step:
        console.print(f"Next: {result.next_step}", markup=False)
    console.print(f"Audit log: {audit_log} (run {result.run_id})", markup=False)
