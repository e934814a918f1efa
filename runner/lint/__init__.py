"""Risk analysis of pending steps: lint the SQL each revision really runs, sized by the real tables.

The public surface, used by ``runner lint``, ``runner plan`` and ``runner apply``:

- ``analyse(project, revisions, stats=..., acknowledgements=...)`` renders the
  revisions offline (one env.py run), parses each step once with pglast, runs every
  rule in apply order and returns a ``LintReport``;
- ``read_stats(conn)`` (in ``runner.lint.sizing``) reads table sizes from the target;
  without it every existing table is assumed large;
- ``blocking(report)``: the unacknowledged ``block`` findings apply refuses;
- ``profile_for(report, revision)``: the timeout profile (name, ``Guards``) for a step;
- ``is_irreversible(report, revision)``: why a step is one-way, or None;
- ``Acknowledgement.parse("CODE:REVISION", reason)``.
"""

from __future__ import annotations

from collections.abc import Sequence

from runner.guards import Guards
from runner.lint import engine
from runner.lint.estimate import Calibration, read_calibration
from runner.lint.explain import catalogue, explain
from runner.lint.findings import Acknowledgement, Finding, Severity
from runner.lint.report import LintReport, Risk, StepRisk, TableLock
from runner.lint.sizing import Stats, TableStats, read_stats
from runner.lint.statements import DEFAULT_VERSION_TABLE, StepSQL, collect, parse_step
from runner.planning.offline import RenderedStep
from runner.planning.project import AlembicProject
from runner.planning.revisions import Revision

__all__ = [
    "Acknowledgement",
    "Calibration",
    "Finding",
    "LintReport",
    "Risk",
    "Severity",
    "Stats",
    "StepRisk",
    "StepSQL",
    "TableLock",
    "TableStats",
    "analyse",
    "analyse_steps",
    "blocking",
    "catalogue",
    "explain",
    "is_irreversible",
    "parse_step",
    "profile_for",
    "read_calibration",
    "read_stats",
]


def analyse(
    project: AlembicProject,
    revisions: Sequence[Revision],
    *,
    stats: Stats | None = None,
    acknowledgements: Sequence[Acknowledgement | object] = (),
    calibration: Calibration | None = None,
    version_table: str = DEFAULT_VERSION_TABLE,
    rendered: Sequence[RenderedStep] | None = None,
    server_version_num: int | None = None,
) -> LintReport:
    """Lint ``revisions`` (in apply order) from their offline SQL; ``stats=None`` assumes large tables.

    ``acknowledgements`` are ``Acknowledgement`` values or anything with ``code``, ``revision`` and
    ``reason`` attributes (a playbook's list can be passed as it is).

    ``rendered`` reuses SQL already rendered by ``runner.planning.offline.render`` for the same revisions.

    ``server_version_num`` (e.g. 150004) judges the plan for that PostgreSQL release; by default it is
    the database's (``stats``), or the oldest supported release without one (``LintReport.server_version``).
    """
    steps = collect(project, revisions, version_table=version_table, rendered_steps=rendered)
    return analyse_steps(
        steps,
        stats=stats,
        acknowledgements=acknowledgements,
        calibration=calibration,
        server_version_num=server_version_num,
    )


def analyse_steps(
    steps: Sequence[StepSQL],
    *,
    stats: Stats | None = None,
    acknowledgements: Sequence[Acknowledgement | object] = (),
    calibration: Calibration | None = None,
    server_version_num: int | None = None,
) -> LintReport:
    """Lint steps already rendered and parsed (``collect`` or ``parse_step``)."""
    return engine.run(
        steps,
        stats=stats,
        acknowledgements=acknowledgements,
        calibration=calibration,
        server_version_num=server_version_num,
    )


def blocking(report: LintReport) -> list[Finding]:
    """Unacknowledged ``block`` findings: apply refuses their steps (exit code 4)."""
    return report.blocking()


def profile_for(report: LintReport, revision: str) -> tuple[str, Guards]:
    """The timeout profile apply uses for ``revision`` unless the playbook overrides it."""
    step = report.step(revision)
    return step.profile, step.guards


def is_irreversible(report: LintReport, revision: str) -> str | None:
    """Why ``revision`` can't be undone by its downgrade (rollback past it means a restore), or None."""
    return report.step(revision).one_way
