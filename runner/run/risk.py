"""Lint as a guard: the plan is assessed under the run lock, against this database's tables.

``runner lint`` and ``runner plan`` show the findings; ``runner apply`` acts on
them. The assessment runs after the advisory lock is taken, with the table
sizes read at that moment, so what is judged is what will run. An
unacknowledged ``block`` finding refuses the whole run before its first step,
so nothing is half-done. The assessment also picks each step's timeout profile
(a concurrent index build needs minutes of lock_timeout, not seconds) and
names the steps that can't be undone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import psycopg

from runner.audit import AuditLog
from runner.database.reads import refusing_when_blocked
from runner.errors import Refused
from runner.guards import Guards
from runner.lint import Acknowledgement, Calibration, LintReport, analyse, blocking, read_stats
from runner.planning.project import AlembicProject
from runner.planning.revisions import Revision


class AssessedRun(Protocol):
    """What the assessment reads of a run (``runner.run.hooks.RunView`` has it)."""

    @property
    def conn(self) -> psycopg.Connection: ...
    @property
    def audit(self) -> AuditLog: ...
    @property
    def plan(self) -> tuple[Revision, ...]: ...


class RiskReview:
    """Holds one run's assessment once it has been made."""

    def __init__(
        self,
        project: AlembicProject,
        acknowledgements: Sequence[Acknowledgement | object] = (),
        calibration: Calibration | None = None,
    ) -> None:
        self.project = project
        self.acknowledgements = tuple(acknowledgements)
        self.calibration = calibration
        self.report: LintReport | None = None

    def assess(self, run: AssessedRun) -> LintReport:
        """Lint ``run.plan`` sized by ``run.conn``; audit it; refuse unacknowledged blocks."""
        conn, audit, plan = run.conn, run.audit, run.plan
        with refusing_when_blocked(conn, "table sizes from the catalog"):
            stats = read_stats(conn)
        report = analyse(
            self.project,
            plan,
            stats=stats,
            acknowledgements=self.acknowledgements,
            calibration=self.calibration,
        )
        self.report = report
        audit.emit(
            "risk_assessed",
            counts=report.counts(),
            steps=[
                {
                    "revision": s.revision,
                    "risk": str(s.risk),
                    "lock": s.lock_text(),
                    "reversible": s.reversible_text(),
                    "profile": s.profile,
                    "estimated_ms": s.estimated_ms,
                }
                for s in report.steps
            ],
        )
        for finding in report.findings:
            if finding.acknowledged:
                audit.emit(
                    "finding_acknowledged",
                    revision=finding.revision,
                    code=finding.code,
                    severity=str(finding.severity),
                    reason=finding.reason,
                )
        blocks = blocking(report)
        if blocks:
            listed = " ".join(f"{f.code} on {f.revision}: {f.message}" for f in blocks)
            first = blocks[0]
            raise Refused(
                f"{len(blocks)} unacknowledged blocking finding(s) on this database. {listed} Nothing was changed.",
                next_step=f"make the migration safer (runner lint --explain {first.code}), or acknowledge it with "
                f'--acknowledge {first.code}:{first.revision} --reason "..." (or in the playbook).',
            )
        return report

    def profile_for(self, revision: Revision) -> tuple[str, Guards] | None:
        """Lint's profile (name, limits) when the step needs more than the short-lock default; else None."""
        return self.report.profile_for(revision.revision) if self.report is not None else None

    def one_way(self, revision: Revision) -> str | None:
        if self.report is None:
            return None
        try:
            return self.report.step(revision.revision).one_way
        except KeyError:
            return None
