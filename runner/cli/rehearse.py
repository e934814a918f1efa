"""``runner rehearse``: parse the options, run ``runner.commands.rehearse``, show what it found."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from runner.cli.common import (
    ConfigOption,
    DebugOption,
    JsonOption,
    PlaybookOption,
    ToOption,
    VersionTableOption,
    WrapperOption,
    boundary,
    given_options,
    print_json,
    stderr,
    stdout,
    url_option,
)
from runner.errors import ConfigError

if TYPE_CHECKING:
    from runner.commands import Rehearsal
    from runner.rehearsal.contention import HeldLock
    from runner.request import RunRequest

_URL_HELP = "env:VAR (an environment variable that holds the URL) or a URL without a password"


def rehearse(
    ctx: typer.Context,
    playbook: PlaybookOption = None,
    config: ConfigOption = Path("alembic.ini"),
    to: ToOption = "head",
    env_py_wrapper: WrapperOption = None,
    version_table: VersionTableOption = "alembic_version",
    audit_log: Annotated[
        Path | None,
        typer.Option(
            help="The rehearsal's audit log (default: the log the playbook's timings.rehearsal_log reads, or "
            "runner-rehearsal.jsonl); never the real run's log."
        ),
    ] = None,
    target: Annotated[
        str, typer.Option("--target", help="local (a cluster started here), container, server, or auto.")
    ] = "auto",
    server_url: Annotated[
        str | None, typer.Option("--server-url", help=f"With --target server: {_URL_HELP}.")
    ] = None,
    pg_major: Annotated[
        int | None, typer.Option("--pg-major", help="The PostgreSQL major version to rehearse on.")
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--from", help="Start at this revision (default: the playbook's from_revision, else base)."
        ),
    ] = None,
    clone_schema_from: Annotated[
        str | None,
        typer.Option(
            "--clone-schema-from", help=f"Start from this database's schema and revision: {_URL_HELP}."
        ),
    ] = None,
    fill: Annotated[
        str | None,
        typer.Option("--fill", metavar="MODULE:FUNCTION", help="Fill the starting state with rows."),
    ] = None,
    scale: Annotated[int, typer.Option("--scale", help="The filler's scale.")] = 1,
    hold_lock: Annotated[
        str | None,
        typer.Option(
            "--hold-lock",
            metavar="TABLE=DURATION",
            help="A session holds ACCESS SHARE on TABLE for DURATION while the run goes (lock contention).",
        ),
    ] = None,
    no_drill: Annotated[bool, typer.Option("--no-drill", help="Skip the rollback drill.")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="The HTML report (default: next to the audit log).")
    ] = None,
    json_output: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Rehearse the playbook end to end on a throwaway PostgreSQL, drill the rollback, write the report."""
    from runner.cli.apply import watch_on_console
    from runner.cli.output import command_line
    from runner.commands import Interaction, RehearsalOptions
    from runner.commands import rehearse as run_rehearsal

    with boundary(debug, json_output=json_output):
        if server_url is not None and target not in ("server", "auto"):
            raise ConfigError(f"--server-url goes with --target server, not --target {target}.")
        options = RehearsalOptions(
            kind="server" if server_url is not None and target == "auto" else target,
            server_url=url_option(server_url, "--server-url") if server_url else None,
            major_version=pg_major,
            start=start,
            clone_from=url_option(clone_schema_from, "--clone-schema-from") if clone_schema_from else None,
            fill=fill,
            scale=scale,
            hold_lock=_held(hold_lock),
            drill=not no_drill,
            report=report,
            audit_log=audit_log,
        )
        request = _request(
            ctx, playbook, config, to, env_py_wrapper, version_table, audit_log, command_line()
        )
        interaction = Interaction(watch=lambda audit: watch_on_console(audit, json_output))
        done = run_rehearsal(request, options, interaction)
        if json_output:
            print_json(_as_json(done))
        else:
            _show(done)
        raise typer.Exit(int(done.exit_code))


def _request(
    ctx: typer.Context,
    playbook: Path | None,
    config: Path,
    to: str,
    wrapper: str | None,
    version_table: str,
    audit_log: Path | None,
    command: str,
) -> RunRequest:
    if playbook is not None:
        from runner.playbook import load_playbook
        from runner.request.playbook import from_playbook

        given = [name for name in given_options(ctx) if name != "audit_log"]  # a rehearsal's log is its own
        return from_playbook(load_playbook(playbook), given=given, command=command)
    from runner.request.flags import GuardFlags, from_flags

    return from_flags(
        config=config,
        target=None,
        to=to,
        env_py_wrapper=wrapper,
        version_table=version_table,
        guards=GuardFlags(),
        audit_log=audit_log or Path("runner-rehearsal.jsonl"),
        command=command,
    )


def _held(value: str | None) -> HeldLock | None:
    if value is None:
        return None
    from runner.durations import parse_ms
    from runner.rehearsal.contention import HeldLock

    table, _, duration = value.partition("=")
    try:
        ms = parse_ms(duration)
    except ValueError:
        ms = 0
    if not table or ms <= 0:
        raise ConfigError(f"--hold-lock {value!r} is not TABLE=DURATION, such as providers=3s.")
    return HeldLock(table, ms / 1000)


def _show(done: Rehearsal) -> None:
    console = stdout if int(done.exit_code) == 0 else stderr
    console.print(f"Rehearsed on {done.target}.", markup=False)
    for note in done.notes:
        console.print(f"  - {note}", markup=False)
    console.print(done.result.message, markup=False)
    if done.drill is not None:
        verdict = "clean" if done.drill.clean else "FOUND DIFFERENCES"
        console.print(f"Rollback drill: {verdict}", markup=False)
        for line in done.drill.describe():
            console.print(f"  {line}", markup=False)
    elif done.drill_skipped:
        console.print(f"Rollback drill: skipped ({done.drill_skipped})", markup=False)
    if done.result.next_step and int(done.result.exit_code) != 0:
        console.print(f"Next: {done.result.next_step}", markup=False)
    console.print(f"Audit log: {done.audit_log} (run {done.result.run_id})", markup=False)
    if done.report is not None:
        console.print(f"Report: {done.report}", markup=False)


def _as_json(done: Rehearsal) -> dict[str, object]:
    result = done.result
    return {
        "run_id": result.run_id,
        "status": str(result.status),
        "exit_code": int(done.exit_code),
        "target": done.target,
        "notes": list(done.notes),
        "steps": [
            {
                "revision": s.revision,
                "direction": str(s.direction),
                "duration_ms": s.duration_ms,
                "attempts": s.attempts,
            }
            for s in (*result.applied, *result.reverted)
        ],
        "message": result.message,
        "next_step": result.next_step,
        "drill": done.drill.as_event() if done.drill is not None else None,
        "drill_skipped": done.drill_skipped,
        "audit_log": str(done.audit_log),
        "report": str(done.report) if done.report is not None else None,
    }
