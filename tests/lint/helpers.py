"""Lint SQL written in a test, as if it were one revision's offline output, with sizes set by hand."""

from __future__ import annotations

from collections.abc import Sequence

from runner.lint import Acknowledgement, Finding, LintReport, Stats, TableStats, analyse_steps, parse_step
from runner.lint.statements import StepSQL, with_downgrade
from runner.planning.revisions import Downgrade, Revision

MB = 1024 * 1024
REVISION = "r2"


def revision(
    rev: str = REVISION, downgrade: Downgrade = Downgrade.FULL, message: str = "test step"
) -> Revision:
    return Revision(rev, ("r1",), message, f"/tmp/{rev}.py", downgrade)


def step(
    sql: str,
    *,
    rev: str = REVISION,
    downgrade: Downgrade = Downgrade.FULL,
    downgrade_sql: str | None = None,
    downgrade_error: str | None = None,
) -> StepSQL:
    """One revision whose upgrade is ``sql`` inside Alembic's BEGIN/COMMIT."""
    parsed = parse_step(revision(rev, downgrade), _wrapped(sql))
    if downgrade_sql is not None:
        parsed = with_downgrade(parsed, _wrapped(downgrade_sql))
    elif downgrade_error is not None:
        parsed = with_downgrade(parsed, None, downgrade_error)
    return parsed


def _wrapped(sql: str) -> str:
    body = sql.strip()
    return f"BEGIN;\n\n{body}{'' if body.endswith(';') else ';'}\n\nCOMMIT;\n"


def lint(
    sql: str,
    *,
    stats: Stats | None = None,
    downgrade: Downgrade = Downgrade.FULL,
    downgrade_sql: str | None = None,
    downgrade_error: str | None = None,
    earlier: Sequence[str] = (),
    acknowledgements: Sequence[Acknowledgement] = (),
) -> LintReport:
    """Lint ``sql`` as revision r2, after optional earlier steps (r1a, r1b, ...) of the same run."""
    steps = [step(text, rev=f"r1{chr(97 + n)}") for n, text in enumerate(earlier)]
    steps.append(step(sql, downgrade=downgrade, downgrade_sql=downgrade_sql, downgrade_error=downgrade_error))
    return analyse_steps(steps, stats=stats, acknowledgements=acknowledgements)


def table(
    name: str, rows: int, table_mb: float, index_mb: float = 0, *, schema: str = "public", **extra: object
) -> TableStats:
    return TableStats(schema, name, rows, int(table_mb * MB), int(index_mb * MB), **extra)  # type: ignore[arg-type]


def big(name: str = "providers") -> Stats:
    """A table of a million rows: 200 MB of heap, 50 MB of indexes."""
    return Stats.of(table(name, 1_000_000, 200, 50))


def small(name: str = "providers") -> Stats:
    """A table of 1,000 rows: 200 kB."""
    return Stats.of(table(name, 1_000, 0.2, 0.05))


def empty(name: str = "providers") -> Stats:
    return Stats.of(table(name, 0, 0, 0.01))


def findings(report: LintReport, code: str) -> list[Finding]:
    return [f for f in report.findings if f.code == code and f.revision == REVISION]


def only(report: LintReport, code: str) -> Finding:
    found = findings(report, code)
    assert len(found) == 1, [f"{f.code}: {f.message}" for f in report.findings]
    return found[0]


def none(report: LintReport, code: str) -> bool:
    return not findings(report, code)
