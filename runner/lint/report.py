"""The result of linting a plan: findings, and one risk summary per step.

The step summary is what the seed write-up's risk table had (risk, lock,
reversible, estimated time), computed from the statements and the sizes instead
of from reading migration files: the risk level follows the worst finding and
the strongest lock on a table that already has rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from runner.guards import Guards
from runner.lint.estimate import about
from runner.lint.findings import Acknowledgement, Finding, Severity
from runner.lint.versions import ServerVersion

SHORT_LOCK_DDL = "short-lock-ddl"  # the default profile: ordinary DDL under the run-wide limits


class Risk(StrEnum):
    LOW = "low"  # new objects, catalog-only changes, brief locks that don't block reads
    MEDIUM = "medium"  # ACCESS EXCLUSIVE on a table with rows, or a warning about locks or compatibility
    HIGH = "high"  # a block finding: real harm on this database unless acknowledged
    UNKNOWN = "unknown"  # the step could not be analysed


_ONE_WAY_SHORT = {
    "IR101": "enum ADD VALUE",
    "IR102": "no downgrade()",
    "IR103": "empty downgrade()",
    "IR104": "data change",
    "DS101": "drops a table",
    "DS102": "drops a column",
    "DS103": "drops a schema",
    "DS104": "truncates",
    "DS105": "deletes rows",
}


@dataclass(frozen=True)
class TableLock:
    """The strongest lock a step takes on a table that exists before the run, and how long it is held."""

    table: str
    mode: str
    hold_ms: int | None

    def as_json(self) -> dict[str, Any]:
        return {"table": self.table, "mode": self.mode, "hold_ms": self.hold_ms}


@dataclass(frozen=True)
class StepRisk:
    revision: str
    message: str
    risk: Risk
    locks: tuple[TableLock, ...]
    one_way: str | None  # why the step can't be undone; None when its downgrade undoes it
    one_way_code: str | None  # the finding that says so
    estimated_ms: int | None
    measured_ms: int | None  # from a rehearsal's audit log, when one was given
    profile: str
    guards: Guards
    autocommit: bool  # part of the step runs outside its transaction (autocommit_block)
    statements: int
    error: str | None = None

    @property
    def reversible(self) -> bool:
        return self.one_way is None

    def reversible_text(self) -> str:
        """'yes', or 'no' with the short reason: 'no (enum ADD VALUE)'."""
        if self.one_way is None:
            return "yes"
        return f"no ({_ONE_WAY_SHORT.get(self.one_way_code or '', self.one_way_code)})"

    def lock_text(self) -> str:
        """'ACCESS EXCLUSIVE on providers, licenses (46ms)'; strongest mode first."""
        if not self.locks:
            return "none on existing tables"
        groups: dict[str, list[TableLock]] = {}
        for lock in self.locks:
            groups.setdefault(lock.mode, []).append(lock)
        parts = []
        for mode, locks in groups.items():
            holds = [lock.hold_ms for lock in locks]
            hold = (
                "unknown" if any(h is None for h in holds) else about(max(h for h in holds if h is not None))
            )
            parts.append(f"{mode} on {', '.join(lock.table for lock in locks)} ({hold})")
        return "; ".join(parts)

    def as_json(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "message": self.message,
            "risk": str(self.risk),
            "locks": [lock.as_json() for lock in self.locks],
            "lock": self.lock_text(),
            "reversible": self.reversible,
            "one_way": self.one_way,
            "one_way_code": self.one_way_code,
            "estimated_ms": self.estimated_ms,
            "measured_ms": self.measured_ms,
            "profile": self.profile,
            "timeouts_ms": self.guards.settings_ms(),
            "autocommit": self.autocommit,
            "statements": self.statements,
            "error": self.error,
        }


@dataclass(frozen=True)
class LintReport:
    steps: tuple[StepRisk, ...]
    findings: tuple[Finding, ...]
    acknowledgements: tuple[Acknowledgement, ...] = ()
    unused_acknowledgements: tuple[Acknowledgement, ...] = ()
    sized: bool = False  # sized against a real database (otherwise every table is assumed large)
    database: str | None = None
    calibration_factor: float = 1.0
    server_version: ServerVersion = field(default_factory=ServerVersion)  # the target's, or the assumed one

    def step(self, revision: str) -> StepRisk:
        return self._steps_by_revision[revision]  # KeyError: not in this report

    @cached_property
    def _steps_by_revision(self) -> dict[str, StepRisk]:
        found: dict[str, StepRisk] = {}
        for step in self.steps:
            found.setdefault(step.revision, step)
        return found

    def findings_for(self, revision: str) -> list[Finding]:
        return list(self._findings_by_revision.get(revision, ()))

    @cached_property
    def _findings_by_revision(self) -> dict[str, list[Finding]]:
        """The findings grouped by step, in report order: a view asks for each of a thousand steps."""
        grouped: dict[str, list[Finding]] = {}
        for finding in self.findings:
            grouped.setdefault(finding.revision, []).append(finding)
        return grouped

    def profile_for(self, revision: str) -> tuple[str, Guards] | None:
        """The step's timeout profile when it needs more than the short-lock default; else None."""
        step = self._steps_by_revision.get(revision)
        if step is None:
            return None  # not in this plan (a rollback step's downgrade was not linted)
        return (step.profile, step.guards) if step.profile != SHORT_LOCK_DDL else None

    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.BLOCK and not f.acknowledged]

    def counts(self) -> dict[str, int]:
        counts = {str(s): 0 for s in Severity}
        for finding in self.findings:
            counts[str(finding.severity)] += 1
        counts["blocking"] = len(self.blocking())
        return counts

    def as_json(self) -> dict[str, Any]:
        return {
            "sized": self.sized,
            "database": self.database,
            "calibration_factor": round(self.calibration_factor, 3),
            **self.server_version.as_json(),
            "summary": self.counts(),
            "steps": [step.as_json() for step in self.steps],
            "findings": [finding.as_json() for finding in self.findings],
            "acknowledgements": [a.as_json() for a in self.acknowledgements],
            "unused_acknowledgements": [a.as_json() for a in self.unused_acknowledgements],
        }


def summary_line(report: LintReport) -> str:
    counts = report.counts()
    acknowledged = sum(1 for f in report.findings if f.acknowledged)
    text = (
        f"{len(report.steps)} step(s), {len(report.findings)} finding(s): {counts['block']} block, "
        f"{counts['warn']} warn, {counts['info']} info"
    )
    if acknowledged:
        text += f" ({acknowledged} acknowledged)"
    if report.server_version.assumed:
        text += f"; {report.server_version.major} assumed, as there is no database to ask"
    return text + "."


def ordered(findings: Sequence[Finding]) -> list[Finding]:
    """Worst first within each step, steps in apply order."""
    return sorted(findings, key=lambda f: -f.severity.rank)
