"""From the validated model to the frozen playbook: paths made absolute, guards layered, checks built.

Guards are layered per step in one order (runner defaults, the playbook's
guards, the step's profile, the step's own guards), and every step the
playbook does not name gets the same defaults.
"""

from __future__ import annotations

import os
from pathlib import Path

from runner.aws.specs import NotifySpec, SnapshotSpec
from runner.check_result import Check
from runner.guards import DEFAULTS, Guards, LockRetryPolicy
from runner.playbook.book import (
    Acknowledgement,
    BlockerSpec,
    CheckPlan,
    Playbook,
    PreflightSpec,
    ProjectSpec,
    StepRules,
    TargetSpec,
    TimingSpec,
)
from runner.playbook.catalog import ColumnState, ConstraintState, EnumState, IndexState, TableExists
from runner.playbook.checks import QueryCheck, RowsUnchanged
from runner.playbook.fields import DAYS
from runner.playbook.model import GuardsModel, PlaybookModel, StepModel
from runner.playbook.model_checks import Check as CheckModel
from runner.playbook.model_checks import (
    ColumnCheck,
    ConstraintCheck,
    EnumCheck,
    HttpCheck,
    IndexCheck,
    MetricCheck,
    RowsUnchangedCheck,
    SqlCheck,
    TableCheck,
)
from runner.playbook.policy import FailurePolicy, PolicyAction
from runner.playbook.problems import Locations
from runner.playbook.scalars import plain
from runner.playbook.window import Window, parse_time

GUARD_FIELDS = {
    "lock_timeout": "lock_timeout_ms",
    "statement_timeout": "statement_timeout_ms",
    "idle_in_transaction_timeout": "idle_in_transaction_timeout_ms",
}
RETRY_FIELDS = {
    "attempts": "attempts",
    "first_wait": "first_wait_s",
    "max_wait": "max_wait_s",
    "budget": "total_s",
    "queue_limit": "queue_limit",
}


def _near(path: Path) -> Path:
    """``path`` without ``..`` parts, relative to the working directory when it is below it."""
    absolute = Path(os.path.normpath(path.absolute()))
    try:
        return absolute.relative_to(Path.cwd())
    except ValueError:
        return absolute


def build(model: PlaybookModel, path: Path, source: str, digest: str, locations: Locations) -> Playbook:
    base = path.parent
    guards, retry = resolve_guards([model.guards])
    policy = FailurePolicy(PolicyAction(model.on_failure), model.rollback_to, "on_failure")
    defaults = StepRules("", guards, retry, policy)
    steps = tuple(_step(model, revision, step, policy) for revision, step in model.steps.items())
    project = model.project
    return Playbook(
        source=source,
        path=path,
        digest=digest,
        project=ProjectSpec(
            alembic_config=_near(base / project.alembic_config),
            target_revision=project.target_revision,
            from_revision=project.from_revision,
            version_table=project.version_table,
            env_py_wrapper=project.env_py_wrapper,
        ),
        target=TargetSpec(
            model.target.name, model.target.environment, model.target.url_env, model.target.database
        ),
        audit_log=_near(base / model.audit.log) if model.audit else None,
        timings=TimingSpec(
            rehearsal_log=_near(base / model.timings.rehearsal_log) if model.timings.rehearsal_log else None,
            safety_factor=model.timings.safety_factor,
            default_estimate_ms=model.timings.default_estimate,
        ),
        guards=guards,
        retry=retry,
        policy=policy,
        checks=CheckPlan(
            timeout_ms=model.checks.timeout,
            role=model.checks.role,
            settle_ms=model.checks.settle,
            before=tuple(check_from(c) for c in model.checks.before),
            after_each=tuple(check_from(c) for c in model.checks.after_each),
            after_all=tuple(check_from(c) for c in model.checks.after_all),
        ),
        window=_window(model),
        snapshot=_snapshot(model),
        notify=_notify(model),
        acknowledgements=tuple(Acknowledgement(a.code, a.revision, a.reason) for a in model.acknowledgements),
        steps=steps,
        defaults=defaults,
        guards_source="playbook guards" if model.guards is not None else DEFAULTS,
        preflight=PreflightSpec(no_relevant_drift=model.preflight.no_relevant_drift),
        blockers=BlockerSpec(
            wait_ms=model.blockers.wait,
            long_transaction_ms=model.blockers.long_transaction,
            terminate=tuple(model.blockers.terminate),
            then=model.blockers.then,
        ),
        locations=locations,
    )


def resolve_guards(layers: list[GuardsModel | None]) -> tuple[Guards, LockRetryPolicy]:
    """Runner defaults, then each layer's settings over them, most general first."""
    guard_values = dict(Guards().__dict__)
    retry_values = dict(LockRetryPolicy().__dict__)
    for layer in layers:
        if layer is None:
            continue
        for name, attribute in GUARD_FIELDS.items():
            value = getattr(layer, name)
            if value is not None:
                guard_values[attribute] = value
        if layer.retry is not None:
            for name, attribute in RETRY_FIELDS.items():
                value = getattr(layer.retry, name)
                if value is not None:
                    retry_values[attribute] = value if name in ("attempts", "queue_limit") else value / 1000
    return Guards(**guard_values), LockRetryPolicy(**retry_values)


def _step(model: PlaybookModel, revision: str, step: StepModel, default: FailurePolicy) -> StepRules:
    profile = model.profiles.get(step.profile) if step.profile else None
    guards, retry = resolve_guards([model.guards, profile, step.guards])
    if step.on_failure is not None:
        policy = FailurePolicy(
            PolicyAction(step.on_failure), step.rollback_to, f"steps.{revision}.on_failure"
        )
    elif step.rollback_to is not None:
        policy = FailurePolicy(default.action, step.rollback_to, f"steps.{revision}.rollback_to")
    else:
        policy = default
    return StepRules(
        revision=revision,
        guards=guards,
        retry=retry,
        policy=policy,
        checks=tuple(check_from(c) for c in step.checks),
        estimate_ms=step.estimate,
        irreversible=step.irreversible,
        reversible_because=step.reversible_because,
        profile=step.profile,
        non_transactional=bool(profile and profile.non_transactional),
        named=True,
        guards_overridden=step.profile is not None or step.guards is not None,
        settle_ms=step.settle,
    )


def check_from(model: CheckModel) -> Check:
    """The domain check for one check model."""
    if isinstance(model, TableCheck):
        return TableExists(model.table, model.exists, model.name or f"table {model.table}")
    if isinstance(model, ColumnCheck):
        table, _, column = model.column.rpartition(".")
        return ColumnState(
            table, column, model.exists, model.type, model.nullable, model.name or f"column {model.column}"
        )
    if isinstance(model, IndexCheck):
        return IndexState(
            model.index, model.table, model.exists, model.unique, model.name or f"index {model.index}"
        )
    if isinstance(model, ConstraintCheck):
        label = model.name or f"constraint {model.constraint}"
        return ConstraintState(model.constraint, model.table, model.exists, model.kind, label)
    if isinstance(model, EnumCheck):
        values = tuple(model.values) if model.values is not None else None
        return EnumState(model.enum, model.value, values, model.exists, model.name or f"enum {model.enum}")
    if isinstance(model, SqlCheck):
        measure = "rows" if "rows" in model.model_fields_set else "scalar"
        expected = model.rows if measure == "rows" else plain(model.scalar)
        label = model.name or f"query {' '.join(model.sql.split())[:60]}"
        return QueryCheck(model.sql, measure, model.op, expected, label)
    if isinstance(model, RowsUnchangedCheck):
        return RowsUnchanged(model.rows_unchanged, model.name or f"rows in {model.rows_unchanged} unchanged")
    if isinstance(model, HttpCheck):
        from runner.aws.health import http_health  # imported here: runner.aws imports this package's checks

        return http_health(model.http, model.status, model.contains, model.timeout, model.name)
    if isinstance(model, MetricCheck):
        from runner.aws.health import metric_health

        return metric_health(**model.model_dump())
    raise TypeError(f"not a check model: {type(model).__name__}")


def _window(model: PlaybookModel) -> Window | None:
    window = model.window
    if window is None:
        return None
    return Window(
        timezone=window.timezone,
        start=parse_time(window.start),
        end=parse_time(window.end),
        days=frozenset(DAYS.index(day) for day in window.days) if window.days else None,
        dates=frozenset(window.dates) if window.dates else None,
        finish_margin_ms=window.finish_margin,
    )


def _snapshot(model: PlaybookModel) -> SnapshotSpec | None:
    snapshot = model.snapshot
    if snapshot is None:
        return None
    return SnapshotSpec(
        required=snapshot.required,
        rds_instance=snapshot.rds_instance,
        aurora_cluster=snapshot.aurora_cluster,
        region=snapshot.region,
        wait_ceiling_ms=snapshot.wait_ceiling,
        tags=tuple(sorted(snapshot.tags.items())),
        identifier=snapshot.identifier,
        endpoint_aliases=tuple(snapshot.endpoint_aliases),
        reuse_snapshot_id=snapshot.reuse.snapshot_id if snapshot.reuse else None,
        reuse_max_age_ms=snapshot.reuse.max_age if snapshot.reuse else None,
        reason=snapshot.reason,
    )


def _notify(model: PlaybookModel) -> NotifySpec | None:
    notify = model.notify
    if notify is None:
        return None
    return NotifySpec(notify.sns_topic_arn, notify.webhook_url_env, notify.required)
