"""Run every rule over every step, in apply order, and summarise each step's risk.

Steps are analysed in the order apply runs them, because what an earlier step
creates is empty when a later step touches it. Acknowledgements are matched by
code and revision after the rules ran, so a rule never needs to know about them,
and an acknowledgement that matched nothing is reported (usually a typo).
"""

from __future__ import annotations

from collections.abc import Sequence

from runner.lint.context import Origin, RunState, StepContext
from runner.lint.estimate import CALIBRATION_BOUNDS, CATALOG_MS, Calibration
from runner.lint.findings import Acknowledgement, Finding, Severity
from runner.lint.locks import LockMode
from runner.lint.names import TableRef
from runner.lint.profile import profile_of
from runner.lint.report import LintReport, Risk, StepRisk, TableLock
from runner.lint.rules import all_rules
from runner.lint.sizing import Stats
from runner.lint.statements import StepSQL
from runner.lint.versions import ServerVersion

_IRREVERSIBLE_FAMILIES = ("IR", "DS")
_RISKY_WARN_FAMILIES = ("LK", "RW", "DS", "BC", "TX", "GD", "AN")


def run(
    steps: Sequence[StepSQL],
    *,
    stats: Stats | None = None,
    acknowledgements: Sequence[Acknowledgement | object] = (),
    calibration: Calibration | None = None,
    server_version_num: int | None = None,
) -> LintReport:
    """``server_version_num`` overrides the release read from the database (or assumed without one)."""
    reviewed = [Acknowledgement.of(a) for a in acknowledgements]
    version = ServerVersion.of(
        server_version_num
        if server_version_num is not None
        else stats.catalog.server_version_num
        if stats
        else None
    )
    contexts = _contexts(steps, stats, 1.0, version)
    factor = _calibration_factor(contexts, calibration) if calibration else 1.0
    if factor != 1.0:
        contexts = _contexts(steps, stats, factor, version)
    rules = all_rules()
    findings: list[Finding] = []
    per_step: list[list[Finding]] = []
    for context in contexts:
        found = [finding for rule in rules for finding in rule.check(context)]
        found = [_acknowledge(finding, reviewed) for finding in found]
        per_step.append(found)
        findings.extend(found)
    used = {(f.code, f.revision) for f in findings if f.acknowledged}
    unused = tuple(a for a in reviewed if (a.code, a.revision) not in used)
    measured = calibration.measured_ms if calibration else {}
    risks = tuple(_step_risk(c, f, measured.get(c.revision)) for c, f in zip(contexts, per_step, strict=True))
    return LintReport(
        steps=risks,
        findings=tuple(findings),
        acknowledgements=tuple(reviewed),
        unused_acknowledgements=unused,
        sized=stats is not None,
        database=stats.database if stats else None,
        calibration_factor=factor,
        server_version=version,
    )


def _contexts(
    steps: Sequence[StepSQL], stats: Stats | None, factor: float, version: ServerVersion
) -> list[StepContext]:
    state = RunState()
    contexts = []
    for step in steps:
        context = StepContext(step, stats, state, factor=factor, version=version)
        state.absorb(context.revision, context.record)
        contexts.append(context)
    return contexts


def _acknowledge(finding: Finding, acknowledgements: Sequence[Acknowledgement]) -> Finding:
    for acknowledgement in acknowledgements:
        if acknowledgement.matches(finding):
            return finding.acknowledged_by(acknowledgement)
    return finding


def _calibration_factor(contexts: Sequence[StepContext], calibration: Calibration) -> float:
    """Measured over estimated time, over the steps whose estimate is mostly size-proportional."""
    measured_total = estimated_total = 0.0
    for context in contexts:
        measured = calibration.measured_ms.get(context.revision)
        estimate = _step_estimate(context)
        if measured is None or estimate is None:
            continue
        catalog = CATALOG_MS * len(context.ops)
        proportional = estimate - catalog
        if proportional < catalog or proportional <= 0:
            continue  # catalog-only steps measure connection overhead, not size
        measured_total += max(measured - catalog, 0.0)
        estimated_total += proportional
    if estimated_total <= 0:
        return 1.0
    low, high = CALIBRATION_BOUNDS
    return min(max(measured_total / estimated_total, low), high)


def _step_estimate(context: StepContext) -> float | None:
    total = 0.0
    for number in range(len(context.ops)):
        ms = context.op_ms(number)
        if ms is None:
            return None
        total += ms
    return total


def _locks(context: StepContext) -> tuple[TableLock, ...]:
    strongest: dict[str, tuple[LockMode, list[float | None], str]] = {}
    for number, _ in enumerate(context.ops):
        for use in context.uses(number):
            if use.mode < LockMode.SHARE_UPDATE_EXCLUSIVE or context.is_exempt(use.table, number):
                continue
            if context.size(use.table).origin is Origin.NEW:
                continue
            hold = context.hold_ms(number)
            current = strongest.get(use.table.key)
            if current is None or use.mode > current[0]:
                strongest[use.table.key] = (use.mode, [hold], str(use.table))
            elif use.mode == current[0]:
                current[1].append(hold)
    locks = []
    for mode, holds, table in strongest.values():
        hold = None if any(h is None for h in holds) else round(max(h for h in holds if h is not None))
        locks.append(TableLock(table, mode.label, hold))
    order = {label: -mode for mode, label in ((m, m.label) for m in LockMode)}
    return tuple(sorted(locks, key=lambda lock: order[lock.mode]))


def _risk(context: StepContext, findings: Sequence[Finding], locks: Sequence[TableLock]) -> Risk:
    if context.step.render_error:
        return Risk.UNKNOWN
    if any(f.severity is Severity.BLOCK for f in findings):
        return Risk.HIGH
    if any(f.severity is Severity.WARN and f.code[:2] in _RISKY_WARN_FAMILIES for f in findings):
        return Risk.MEDIUM
    for lock in locks:
        if lock.mode != LockMode.ACCESS_EXCLUSIVE.label:
            continue
        size = context.size(TableRef.parse(lock.table))
        if not size.empty:
            return Risk.MEDIUM
    return Risk.LOW


def _step_risk(context: StepContext, findings: Sequence[Finding], measured_ms: int | None) -> StepRisk:
    locks = _locks(context)
    one_way = next(
        (
            f
            for f in findings
            if f.one_way and f.severity is not Severity.INFO and f.code[:2] in _IRREVERSIBLE_FAMILIES
        ),
        None,
    )
    estimate = _step_estimate(context)
    profile, guards = profile_of(context)
    statements = context.step.statements
    return StepRisk(
        revision=context.revision,
        message=context.step.revision.message,
        risk=_risk(context, findings, locks),
        locks=locks,
        one_way=one_way.one_way if one_way else None,
        one_way_code=one_way.code if one_way else None,
        estimated_ms=None if estimate is None or context.step.render_error else round(estimate),
        measured_ms=measured_ms,
        profile=profile,
        guards=guards,
        autocommit=any(not s.in_transaction for s in statements),
        statements=len(statements),
        error=context.step.render_error,
    )
