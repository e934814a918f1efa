"""``runner lint``: the risk of every pending step, from its real SQL and the real table sizes.

Exit codes: 0 when no unacknowledged ``block`` finding remains, 4 (refused) when
one does (apply would refuse that step), 3 for unusable input, as everywhere.
"""

from __future__ import annotations

import os
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from runner import db
from runner.cli.common import (
    ConfigOption,
    DatabaseUrlOption,
    DebugOption,
    JsonOption,
    VersionTableOption,
    WrapperOption,
    boundary,
    load_project,
    print_json,
    resolve_target,
    stderr,
    stdout,
)
from runner.db import VersionTable
from runner.errors import ConfigError, ExitCode
from runner.lint import Acknowledgement, LintReport, Severity, Stats, analyse, catalogue, explain, read_stats
from runner.lint.estimate import about, read_calibration
from runner.lint.report import ordered, summary_line
from runner.offline import RenderedStep
from runner.project import AlembicProject
from runner.status import Status, read_status
from runner.target import DatabaseTarget

AcknowledgeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--acknowledge",
        help="CODE:REVISION of a finding to accept as it is; repeatable, each with a --reason.",
        show_default=False,
    ),
]
ReasonOption = Annotated[
    list[str] | None,
    typer.Option(
        "--reason",
        help="Why the acknowledged risk is accepted (one per --acknowledge, or one for all).",
        show_default=False,
    ),
]
RehearsalLogOption = Annotated[
    Path | None,
    typer.Option(
        "--rehearsal-log",
        help="Audit log of a rehearsal on a production-sized copy: its measured step times calibrate the estimates.",
        show_default=False,
    ),
]


def lint(
    ctx: typer.Context,
    config: ConfigOption = "alembic.ini",  # type: ignore[assignment]
    playbook: Annotated[
        Path | None,
        typer.Option("--playbook", help="Playbook to read the project and acknowledgements from."),
    ] = None,
    database_url: DatabaseUrlOption = None,
    from_revision: Annotated[
        str | None,
        typer.Option(
            "--from", help="Lint from this revision without reading the database's ('base' for empty)."
        ),
    ] = None,
    to: Annotated[str, typer.Option("--to", help="Target revision (default: the head).")] = "heads",
    acknowledge: AcknowledgeOption = None,
    reason: ReasonOption = None,
    rehearsal_log: RehearsalLogOption = None,
    explain_code: Annotated[
        str | None,
        typer.Option("--explain", help="Explain a rule (code or slug) and exit; 'list' lists every rule."),
    ] = None,
    json_output: JsonOption = False,
    debug: DebugOption = False,
    env_py_wrapper: WrapperOption = None,
    version_table: VersionTableOption = "alembic_version",
) -> None:
    """Lint every pending step from the SQL it runs, sized by the tables it touches."""
    with boundary(debug):
        if explain_code is not None:
            text = catalogue() if explain_code.strip().lower() == "list" else explain(explain_code)
            stdout.print(text, markup=False, end="")
            return
        acknowledgements = parse_acknowledgements(acknowledge or [], reason or [])
        if playbook is not None:
            book = PlaybookInputs.load(ctx, playbook)
            config, to, version_table, env_py_wrapper = (
                book.config,
                book.to,
                book.version_table,
                book.env_py_wrapper,
            )
            target = book.target()
            from_revision = from_revision or (None if target else book.from_revision)
            acknowledgements = [*book.acknowledgements, *acknowledgements]
            rehearsal_log = rehearsal_log or book.rehearsal_log
            if target is None and from_revision is None:
                raise ConfigError(
                    f"No target database: set ${book.url_env} (the playbook's target.url_env), or pass --from."
                )
        else:
            target = resolve_target(database_url, required=from_revision is None)
        project = load_project(config, target, env_py_wrapper)
        table = VersionTable.parse(version_table)
        found = read_status(project, target, to=to, version_table=table, from_revision=from_revision)
        stats = read_target_stats(target)
        calibration = read_calibration(rehearsal_log) if rehearsal_log else None
        report = analyse(
            project,
            list(found.pending),
            stats=stats,
            acknowledgements=acknowledgements,
            calibration=calibration,
            version_table=str(table),
        )
        if json_output:
            print_json(
                {
                    "target": found.target,
                    "current": list(found.current),
                    "to": list(found.to),
                    **report.as_json(),
                }
            )
        else:
            show_report(found, report)
        blocking = report.blocking()
        if blocking:
            names = list(dict.fromkeys(f"{f.code}:{f.revision}" for f in blocking))
            steps = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            stderr.print(
                f"{len(blocking)} block finding(s) are not acknowledged ({steps}); apply refuses those steps. "
                "Make the migration safer, or acknowledge each with --acknowledge CODE:REVISION --reason.",
                markup=False,
            )
            raise typer.Exit(int(ExitCode.REFUSED))


@dataclass(frozen=True)
class PlaybookInputs:
    """What runner lint takes from a playbook: the project, the target's URL variable, acknowledgements."""

    config: Path
    to: str
    from_revision: str | None
    version_table: str
    env_py_wrapper: str | None
    url_env: str
    acknowledgements: tuple[Acknowledgement, ...]
    rehearsal_log: Path | None

    def target(self) -> DatabaseTarget | None:
        raw = os.environ.get(self.url_env)
        return DatabaseTarget.parse(raw, source=f"${self.url_env}") if raw else None

    @classmethod
    def load(cls, ctx: typer.Context, path: Path) -> PlaybookInputs:
        for name, option in _PLAYBOOK_SETS.items():
            source = ctx.get_parameter_source(name)
            if source is not None and source.name == "COMMANDLINE":
                raise ConfigError(
                    f"{option} can't be combined with --playbook: the playbook sets it. Change the playbook "
                    "instead, so the lint covers what will run."
                )
        from runner.playbook import load_playbook  # the playbook package is optional for lint

        book = load_playbook(path)
        project, timings = book.project, book.timings
        rehearsal = (
            timings.rehearsal_log if timings.rehearsal_log and Path(timings.rehearsal_log).is_file() else None
        )
        return cls(
            config=Path(project.alembic_config),
            to=project.target_revision,
            from_revision=project.from_revision,
            version_table=project.version_table,
            env_py_wrapper=project.env_py_wrapper,
            url_env=book.target.url_env,
            acknowledgements=tuple(
                Acknowledgement(a.code, a.revision, a.reason) for a in book.acknowledgements
            ),
            rehearsal_log=rehearsal,
        )


_PLAYBOOK_SETS = {
    "config": "--config",
    "database_url": "--database-url",
    "to": "--to",
    "env_py_wrapper": "--env-py-wrapper",
    "version_table": "--version-table",
}


def parse_acknowledgements(specs: list[str], reasons: list[str]) -> list[Acknowledgement]:
    if not specs:
        if reasons:
            raise ConfigError("--reason was given without --acknowledge CODE:REVISION.")
        return []
    if len(reasons) == 1:
        reasons = reasons * len(specs)
    if len(reasons) != len(specs):
        raise ConfigError(
            f"{len(specs)} --acknowledge option(s) but {len(reasons)} --reason option(s): give one reason for "
            "each acknowledgement, or one for all of them."
        )
    return [Acknowledgement.parse(spec, text) for spec, text in zip(specs, reasons, strict=True)]


def read_target_stats(target: DatabaseTarget | None) -> Stats | None:
    """Table sizes from the target, on the runner's own short-lived connection; None without a target."""
    if target is None:
        return None
    with closing(db.connect(target, application_name="migration-runner lint")) as conn:
        conn.execute("SET statement_timeout = '30s'")
        return read_stats(conn)


def risk_table(report: LintReport) -> Table:
    """The seed write-up's table: risk, lock, reversible, estimated time, per step."""
    table = Table(show_edge=False, pad_edge=False, box=None)
    for column in ("#", "revision", "risk", "lock", "reversible", "est. time", "findings"):
        table.add_column(column)
    for number, step in enumerate(report.steps, start=1):
        findings = report.findings_for(step.revision)
        counts = [f"{sum(1 for f in findings if f.severity is s)} {s}" for s in Severity]
        shown = ", ".join(c for c in counts if not c.startswith("0 ")) or "none"
        estimate = about(step.estimated_ms) if step.estimated_ms is not None else "unknown"
        if step.measured_ms is not None:
            estimate += f" (rehearsal {about(step.measured_ms)})"
        table.add_row(
            str(number),
            step.revision,
            str(step.risk),
            step.lock_text(),
            step.reversible_text(),
            estimate,
            shown,
        )
    return table


def show_report(found: Status, report: LintReport) -> None:
    stdout.print(f"Target   {found.target}", markup=False)
    sized = (
        f"sized from {report.database}"
        if report.sized
        else "no database URL: every existing table assumed large"
    )
    stdout.print(f"Sizes    {sized}", markup=False)
    if not report.steps:
        stdout.print("Nothing pending: nothing to lint.", markup=False)
        return
    stdout.print(risk_table(report))
    for step in report.steps:
        findings = ordered(report.findings_for(step.revision))
        if not findings:
            continue
        stdout.print("")
        stdout.rule(f"{step.revision} ({step.message})", style="none")
        for finding in findings:
            status = f" (acknowledged: {finding.reason})" if finding.acknowledged else ""
            stdout.print(f"[{finding.severity}] {finding.code} {finding.slug}{status}", markup=False)
            stdout.print(_indent(finding.message), markup=False)
            if finding.severity is not Severity.INFO:
                stdout.print(_indent(finding.help), markup=False)
                stdout.print(_indent(finding.acknowledge), markup=False)
    for unused in report.unused_acknowledgements:
        stdout.print(
            f"Acknowledgement {unused.code}:{unused.revision} matched no finding; check the code and revision.",
            markup=False,
        )
    stdout.print("")
    stdout.print(summary_line(report), markup=False)


def _indent(text: str) -> str:
    return "\n".join("    " + line if line else line for line in text.splitlines())


def lint_pending(
    project: AlembicProject,
    found: Status,
    target: DatabaseTarget | None,
    *,
    version_table: str,
    rendered: list[RenderedStep] | None = None,
) -> LintReport:
    """The lint report ``runner plan`` shows next to the steps."""
    return analyse(
        project,
        list(found.pending),
        stats=read_target_stats(target),
        version_table=version_table,
        rendered=rendered or None,
    )


def add_risks(payload: dict[str, Any], report: LintReport) -> None:
    """Plan's JSON, with each pending step's risk and findings added (no existing key changes)."""
    by_revision = {step.revision: step for step in report.steps}
    for step in payload.get("pending", []):
        risk = by_revision.get(step["revision"])
        step["risk"] = risk.as_json() if risk else None
        step["findings"] = [f.as_json() for f in report.findings_for(step["revision"])]
    payload["lint"] = {"sized": report.sized, "database": report.database, "summary": report.counts()}


def show_risks(report: LintReport) -> None:
    """Plan's text: the risk table, then one line per finding that is not a note."""
    stdout.print("")
    stdout.print(risk_table(report))
    notable = [f for f in report.findings if f.severity is not Severity.INFO]
    for finding in notable:
        mark = " (acknowledged)" if finding.acknowledged else ""
        stdout.print(
            f"[{finding.severity}] {finding.code} {finding.revision}{mark}: {finding.message}", markup=False
        )
    stdout.print(
        f"{summary_line(report)} runner lint shows every finding with its safer version.", markup=False
    )
