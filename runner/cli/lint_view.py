"""What ``runner lint`` and ``runner plan`` print of a lint report, and how their inputs are read.

Kept apart from the command itself so that starting the CLI doesn't import the
linter (and its parser) for commands that never lint.
"""

from __future__ import annotations

from typing import Any

from runner.cli.common import stdout
from runner.cli.plain import rule, say, show_table
from runner.errors import ConfigError
from runner.lint import Acknowledgement, LintReport, Severity
from runner.lint.estimate import about
from runner.lint.report import ordered, summary_line
from runner.planning.status import Status


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


def show_risk_table(report: LintReport) -> None:
    """The seed write-up's table: risk, lock, reversible, estimated time, per step."""
    rows = []
    for number, step in enumerate(report.steps, start=1):
        findings = report.findings_for(step.revision)
        counts = [f"{sum(1 for f in findings if f.severity is s)} {s}" for s in Severity]
        shown = ", ".join(c for c in counts if not c.startswith("0 ")) or "none"
        estimate = about(step.estimated_ms) if step.estimated_ms is not None else "unknown"
        if step.measured_ms is not None:
            estimate += f" (rehearsal {about(step.measured_ms)})"
        rows.append(
            [
                str(number),
                step.revision,
                str(step.risk),
                step.lock_text(),
                step.reversible_text(),
                estimate,
                shown,
            ]
        )
    show_table(stdout, ("#", "revision", "risk", "lock", "reversible", "est. time", "findings"), rows)


def show_report(found: Status, report: LintReport) -> None:
    stdout.print(f"Target   {found.target}", markup=False)
    sized = (
        f"sized from {report.database}"
        if report.sized
        else "no database URL: every existing table assumed large"
    )
    stdout.print(f"Sizes    {sized}", markup=False)
    stdout.print(f"Server   {report.server_version.text()}", markup=False)
    if not report.steps:
        stdout.print("Nothing pending: nothing to lint.", markup=False)
        return
    show_risk_table(report)
    for step in report.steps:
        findings = ordered(report.findings_for(step.revision))
        if not findings:
            continue
        say(stdout, "")
        rule(stdout, f"{step.revision} ({step.message})", style="none")
        for finding in findings:
            status = f" (acknowledged: {finding.reason})" if finding.acknowledged else ""
            say(stdout, f"[{finding.severity}] {finding.code} {finding.slug}{status}")
            say(stdout, _indent(finding.message))
            if finding.severity is not Severity.INFO:
                say(stdout, _indent(finding.help))
                say(stdout, _indent(finding.acknowledge))
    for unused in report.unused_acknowledgements:
        stdout.print(
            f"Acknowledgement {unused.code}:{unused.revision} matched no finding; check the code and revision.",
            markup=False,
        )
    stdout.print("")
    stdout.print(summary_line(report), markup=False)


def _indent(text: str) -> str:
    return "\n".join("    " + line if line else line for line in text.splitlines())


def add_risks(payload: dict[str, Any], report: LintReport) -> None:
    """Plan's JSON, with each pending step's risk and findings added (no existing key changes)."""
    by_revision = {step.revision: step for step in report.steps}
    for step in payload.get("pending", []):
        risk = by_revision.get(step["revision"])
        step["risk"] = risk.as_json() if risk else None
        step["findings"] = [f.as_json() for f in report.findings_for(step["revision"])]
    payload["lint"] = {
        "sized": report.sized,
        "database": report.database,
        **report.server_version.as_json(),
        "summary": report.counts(),
    }


def show_risks(report: LintReport) -> None:
    """Plan's text: the risk table, then one line per finding that is not a note."""
    stdout.print("")
    show_risk_table(report)
    notable = [f for f in report.findings if f.severity is not Severity.INFO]
    for finding in notable:
        mark = " (acknowledged)" if finding.acknowledged else ""
        say(stdout, f"[{finding.severity}] {finding.code} {finding.revision}{mark}: {finding.message}")
    stdout.print(
        f"{summary_line(report)} runner lint shows every finding with its safer version.", markup=False
    )
