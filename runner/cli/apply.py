"""``runner apply``: one revision per transaction, guarded, audited."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from runner import limits
from runner.cli.common import (
    ConfigOption,
    DatabaseUrlOption,
    DebugOption,
    JsonOption,
    PlaybookOption,
    ToOption,
    VersionTableOption,
    WrapperOption,
    boundary,
    load_project,
    print_json,
    resolve_target,
    stderr,
    stdout,
)
from runner.cli.lint import AcknowledgeOption
from runner.cli.output import command_line
from runner.cli.status import show_status
from runner.database.connections import VersionTable
from runner.database.reads import ReadBlocked
from runner.durations import parse_ms
from runner.errors import ConfigError, Refused, RunnerError
from runner.guards import Guards
from runner.plan.status import Status, read_status
from runner.run.retry import LockRetryPolicy

if TYPE_CHECKING:
    from runner.audit import AuditLog
    from runner.run.result import RunResult

DEFAULT_AUDIT_LOG = Path("runner-audit.jsonl")


def _ms(option: str, value: str, accepted: limits.Range) -> int:
    """A duration option in milliseconds, refused (exit 3) outside its range before anything connects."""
    try:
        ms = parse_ms(value)
    except ValueError as exc:
        raise ConfigError(f"{option}: {exc}.") from None
    _check(option, value, ms, accepted)
    return ms


def _count(option: str, value: str, accepted: limits.Range) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise ConfigError(f"{option}: {value!r} is not a whole number.") from None
    _check(option, value, number, accepted)
    return number


def _check(option: str, written: str, value: int, accepted: limits.Range) -> None:
    problem = accepted.problem(value)
    if problem is not None:
        raise ConfigError(f"{option} {written.strip()} {problem}.")


def apply(
    ctx: typer.Context,
    config: ConfigOption = "alembic.ini",  # type: ignore[assignment]
    database_url: DatabaseUrlOption = None,
    to: ToOption = "head",
    lock_timeout: Annotated[str, typer.Option(help="How long a statement may wait for a lock.")] = "2s",
    statement_timeout: Annotated[str, typer.Option(help="How long any one statement may run.")] = "60s",
    idle_timeout: Annotated[
        str,
        typer.Option("--idle-in-transaction-timeout", help="Server ends a session idle in a transaction."),
    ] = "60s",
    lock_retries: Annotated[
        str, typer.Option(metavar="N", help="Retries of a step whose lock wait timed out (0 to 99).")
    ] = "5",
    retry_wait: Annotated[
        str, typer.Option(help="First backoff before a lock retry (jittered, doubling).")
    ] = "1s",
    retry_max_wait: Annotated[str, typer.Option(help="Longest single backoff.")] = "30s",
    retry_budget: Annotated[str, typer.Option(help="Total time a step may spend on lock retries.")] = "5min",
    audit_log: Annotated[Path, typer.Option(help="Append-only audit log (JSON lines).")] = DEFAULT_AUDIT_LOG,
    yes: Annotated[bool, typer.Option("--yes", help="Don't ask for confirmation.")] = False,
    json_output: JsonOption = False,
    debug: DebugOption = False,
    env_py_wrapper: WrapperOption = None,
    version_table: VersionTableOption = "alembic_version",
    playbook: PlaybookOption = None,
    override_window: Annotated[
        bool,
        typer.Option(
            "--override-window", help="Run outside the playbook's maintenance window (needs --reason)."
        ),
    ] = False,
    acknowledge: AcknowledgeOption = None,
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason",
            help="Why the window is overridden or the findings are accepted; written to the audit log.",
        ),
    ] = None,
    confirm_target: Annotated[
        str | None,
        typer.Option(
            "--confirm-target",
            help="The target's name, to confirm without a prompt (with --yes for non-interactive runs).",
        ),
    ] = None,
) -> None:
    """Apply pending revisions one at a time, each in its own guarded transaction."""
    # Imported here, not at the top: the CLI starts faster for the commands that don't apply.
    from runner.audit import AuditLog
    from runner.cli.lint_view import parse_acknowledgements
    from runner.run.executor import Executor
    from runner.request.guards import GuardPolicy
    from runner.run.hooks import StandardHooks
    from runner.run.result import RunSettings, new_run_id
    from runner.run.risk import RiskReview

    with boundary(debug, json_output=json_output):
        acknowledgements = (
            parse_acknowledgements(acknowledge, [reason] if reason else []) if acknowledge else []
        )
        if playbook is not None:
            from runner.cli.playbook_apply import apply_playbook, window_override

            apply_playbook(
                ctx,
                playbook,
                yes=yes,
                confirm_target_name=confirm_target,
                override=window_override(
                    override_window, None if acknowledgements and not override_window else reason
                ),
                acknowledgements=acknowledgements,
                json_output=json_output,
            )
        if override_window:
            raise ConfigError(
                "--override-window only applies with --playbook; there is no window without one."
            )
        guards = Guards(
            lock_timeout_ms=_ms("--lock-timeout", lock_timeout, limits.LOCK_TIMEOUT),
            statement_timeout_ms=_ms("--statement-timeout", statement_timeout, limits.STATEMENT_TIMEOUT),
            idle_in_transaction_timeout_ms=_ms(
                "--idle-in-transaction-timeout", idle_timeout, limits.IDLE_IN_TRANSACTION_TIMEOUT
            ),
        )
        retry = LockRetryPolicy(
            attempts=_count("--lock-retries", lock_retries, limits.LOCK_RETRIES) + 1,
            first_wait_s=_ms("--retry-wait", retry_wait, limits.RETRY_FIRST_WAIT) / 1000,
            max_wait_s=_ms("--retry-max-wait", retry_max_wait, limits.RETRY_MAX_WAIT) / 1000,
            total_s=_ms("--retry-budget", retry_budget, limits.RETRY_BUDGET) / 1000,
        )
        target = resolve_target(database_url)
        assert target is not None
        table = VersionTable.parse(version_table)
        settings = RunSettings(guards=guards, retry=retry, version_table=table, command=command_line())
        with (
            AuditLog(audit_log, new_run_id()) as audit,
            audited(audit),
        ):
            watch_on_console(audit, stderr if json_output else stdout)
            project = load_project(config, target, env_py_wrapper)

            def run() -> RunResult:
                project.resolve(to)  # an unknown or ambiguous target is refused before connecting
                if confirm_target is not None:
                    check_confirmation(confirm_target, target.database)
                elif not yes:
                    confirm(read_status(project, target, to=to, version_table=table), target.database)
                policy = GuardPolicy.of(guards, retry, "command line")
                hooks = StandardHooks(policy, risk=RiskReview(project, acknowledgements))
                return Executor(project, target, audit, settings, hooks=hooks).apply(to)

            result = project.within_wrapper(run)
        report(result, audit_log, json_output)
        raise typer.Exit(int(result.exit_code))


def watch_on_console(audit: AuditLog, console: Console) -> None:
    """Print each event as it is written; a console that goes away is noted in the log, once."""
    from runner.cli.progress import console_listener

    audit.listeners.append(
        console_listener(
            console,
            on_lost=lambda: audit.emit(
                "console_lost", detail="the console's reader went away; output stopped"
            ),
        )
    )


@contextmanager
def audited(audit: AuditLog) -> Iterator[None]:
    """A refusal before the executor starts (bad revision, unreachable, not confirmed) is logged too."""
    try:
        yield
    except RunnerError as exc:
        if not exc.audited:
            blockers = (
                {"blockers": [b.as_fields() for b in exc.blockers]} if isinstance(exc, ReadBlocked) else {}
            )
            audit.emit(
                "run_refused",
                reason=exc.message,
                next_step=exc.next_step,
                exit_code=int(exc.exit_code),
                **blockers,
            )
            exc.audited = True
        raise


def check_confirmation(given: str, name: str) -> None:
    if given.strip() != name:
        raise Refused(
            f"--confirm-target {given.strip()!r} does not match the target's name {name!r}; nothing was changed."
        )


def confirm(found: Status, database: str) -> None:
    """Show the plan and have the operator type the database name."""
    if found.up_to_date:
        return
    show_status(found)
    if not sys.stdin.isatty():
        raise Refused(
            "apply needs confirmation and stdin is not a terminal; nothing was changed.",
            next_step="review runner plan, then run apply again with --yes.",
        )
    answer = typer.prompt(f"Type the database name ({database}) to apply {len(found.pending)} step(s)")
    if answer.strip() != database:
        raise Refused(f"Confirmation {answer.strip()!r} does not match {database!r}; nothing was changed.")


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
                "audit_log": str(audit_log),
            }
        )
        return
    console = stdout if int(result.exit_code) == 0 else stderr
    console.print(result.message, markup=False)
    if result.next_step:
        console.print(f"Next: {result.next_step}", markup=False)
    console.print(f"Audit log: {audit_log} (run {result.run_id})", markup=False)
