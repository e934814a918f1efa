"""The snapshot before the first step: taken, tagged and waited on, or an existing one reused.

Fail closed: a snapshot that is not ``available`` within ``wait_ceiling`` is
``Refused`` (AWS answered, the snapshot just isn't there yet or failed) or
``Unreachable`` (AWS stopped answering), and either way its identifier is in the
message so the operator can look at it. A reused snapshot must be available,
of this very instance or cluster, and younger than ``snapshot.reuse.max_age``.
The result is one frozen ``SnapshotRecord`` for the audit log and
``runner_history``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError, WaiterError
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_fixed

from runner.aws import identifiers
from runner.aws.failures import aws_call, error_code, translate
from runner.aws.snapshot_kinds import KINDS, SnapshotKind, kind_for
from runner.aws.waiting import ProgressCallback, WaitPlan, last_status, wait_for
from runner.durations import format_ms
from runner.errors import Refused, RunnerError

if TYPE_CHECKING:
    from runner.aws.specs import SnapshotSpec

TAG_PREFIX = "migration-runner:"
NOT_FOUND_RETRIES = 3  # describe right after create may not see the snapshot yet (eventual consistency)


@dataclass(frozen=True)
class RunFacts:
    """What a snapshot is named and tagged after."""

    run_id: str
    target_name: str
    prior: str | None
    target: str | None
    operator: str


@dataclass(frozen=True)
class SnapshotRecord:
    identifier: str
    arn: str
    kind: str  # "db-snapshot" or "db-cluster-snapshot"
    source: str  # the instance or cluster identifier
    status: str
    created_at: datetime | None
    reused: bool = False
    waited_ms: int = 0
    tags: tuple[tuple[str, str], ...] = field(default=())

    @property
    def source_kind(self) -> str:
        return KINDS[self.kind].source_kind

    def describe(self) -> str:
        how = "reused" if self.reused else f"available after {format_ms(self.waited_ms)}"
        return f"{KINDS[self.kind].noun} {self.identifier} of {KINDS[self.kind].source_label(self.source)}, {how}"

    def as_event(self) -> dict[str, Any]:
        """The fields of the audit event (snapshot_available); no prose."""
        return {
            "snapshot_id": self.identifier,
            "snapshot_arn": self.arn,
            "snapshot_kind": self.kind,
            "source": self.source,
            "status": self.status,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "reused": self.reused,
            "waited_ms": self.waited_ms,
        }

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> SnapshotRecord:
        """Back from the audit event (``runner restore --audit-log``)."""
        created = event.get("created_at")
        return cls(
            identifier=str(event["snapshot_id"]),
            arn=str(event.get("snapshot_arn") or ""),
            kind=str(event["snapshot_kind"]),
            source=str(event["source"]),
            status=str(event.get("status") or "unknown"),
            created_at=datetime.fromisoformat(created) if created else None,
            reused=bool(event.get("reused")),
            waited_ms=int(event.get("waited_ms") or 0),
        )


def utc_now() -> datetime:
    return datetime.now(UTC)


def snapshot_tags(spec: SnapshotSpec, facts: RunFacts) -> list[dict[str, str]]:
    ours = {
        "run-id": facts.run_id,
        "target": facts.target_name,
        "prior-revision": facts.prior or "<base>",
        "target-revision": facts.target or "head",
        "operator": facts.operator,
    }
    tags = {f"{TAG_PREFIX}{key}": value for key, value in ours.items()}
    tags.update(dict(spec.tags))
    return [{"Key": key, "Value": value[:256]} for key, value in tags.items()]


def take_snapshot(
    rds: Any,
    spec: SnapshotSpec,
    facts: RunFacts,
    *,
    now: Callable[[], datetime] = utc_now,
    on_progress: ProgressCallback | None = None,
    delay_s: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> SnapshotRecord:
    """Create the snapshot the playbook asks for and wait until it is available."""
    kind = kind_for(spec)
    source = spec.rds_instance or spec.aurora_cluster or ""
    values = {
        "target_name": facts.target_name,
        "prior": facts.prior,
        "target": facts.target,
        "run_id": facts.run_id,
        "source": source,
        "utc": now(),
    }
    identifier = identifiers.snapshot_identifier(spec.identifier, values, cluster=kind.cluster)
    tags = snapshot_tags(spec, facts)
    doing = f"creating {kind.noun} {identifier} of {kind.source_label(source)}"
    with aws_call(doing, next_step="no step ran; fix the cause and run the same command again."):
        try:
            created = kind.create(rds, identifier, source, tags)
        except ClientError as exc:
            if error_code(exc) in kind.already_exists_codes:
                raise Refused(
                    f"A {kind.noun} named {identifier} already exists, so this run can't take a new one under that "
                    "name; no step ran.",
                    next_step=f"reuse it with --snapshot-id {identifier} if it was taken for this change, or wait a "
                    "minute so the name's timestamp moves on.",
                ) from exc
            raise
    started = clock()
    plan = WaitPlan.within(spec.wait_ceiling_ms, delay_s)
    status = _wait(rds, kind, identifier, source, spec.wait_ceiling_ms, plan, on_progress, clock, sleep)
    waited = round((clock() - started) * 1000)
    found = kind.describe(rds, identifier) or {}  # the create answer may predate its creation time
    return SnapshotRecord(
        identifier=identifier,
        arn=str(found.get(kind.arn_key) or created.get(kind.arn_key, "")),
        kind=kind.name,
        source=source,
        status=status,
        created_at=found.get("SnapshotCreateTime") or created.get("SnapshotCreateTime"),
        waited_ms=waited,
        tags=tuple((tag["Key"], tag["Value"]) for tag in tags),
    )


def _wait(
    rds: Any,
    kind: SnapshotKind,
    identifier: str,
    source: str,
    ceiling_ms: int,
    plan: WaitPlan,
    on_progress: ProgressCallback | None,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> str:
    what = f"{kind.noun} {identifier}"
    next_look = f"look at it with aws rds {kind.describe_cli} {identifier}"

    started = clock()

    def not_seen_yet(exc: BaseException) -> bool:
        return isinstance(exc, WaiterError) and kind.read(exc.last_response or {})[0] in kind.not_found_codes

    try:
        for attempt in Retrying(
            retry=retry_if_exception(not_seen_yet),
            stop=stop_after_attempt(NOT_FOUND_RETRIES),
            wait=wait_fixed(plan.delay_s),
            sleep=sleep,
            reraise=True,
        ):
            with attempt:
                left_ms = ceiling_ms - round((clock() - started) * 1000)
                polls = wait_for(
                    rds,
                    kind.waiter,
                    {kind.id_param: identifier},
                    WaitPlan.within(left_ms, plan.delay_s),
                    what=what,
                    operation=kind.describe_operation,
                    read=kind.read,
                    on_progress=on_progress,
                    clock=clock,
                )
        return polls[-1].status if polls else "available"
    except WaiterError as exc:
        raise _wait_failed(exc, kind, identifier, source, ceiling_ms, next_look) from exc
    except Exception as exc:
        raise translate(exc, f"waiting for {what}", next_step=f"no step ran; {next_look}.") from exc


def _wait_failed(
    exc: WaiterError, kind: SnapshotKind, identifier: str, source: str, ceiling_ms: int, next_look: str
) -> RunnerError:
    status, percent = last_status(exc, kind.read)
    what = f"{kind.noun} {identifier} of {kind.source_label(source)}"
    response = exc.last_response or {}
    if "Error" in response:
        error = ClientError(dict(response), kind.describe_operation)
        return translate(error, f"waiting for {what}", next_step=f"no step ran; {next_look}.")
    shown = f"{status}{f', {percent}% done' if percent is not None else ''}"
    if "terminal failure" in str(exc.kwargs.get("reason", "")):
        return Refused(
            f"The {what} became {status}, which never turns available, so the run has no snapshot to fall back "
            "on; no step ran.",
            next_step=f"{next_look}, then run the same command again to take a new snapshot.",
        )
    return Refused(
        f"The {what} was not available within the wait ceiling of {format_ms(ceiling_ms)} (still {shown}), so "
        "the run has no snapshot to fall back on yet; no step ran.",
        next_step=f"{next_look}; once it is available, run again with --snapshot-id {identifier} (within "
        "snapshot.reuse.max_age), or raise snapshot.wait_ceiling.",
    )


def reuse_snapshot(
    rds: Any, snapshot_id: str, spec: SnapshotSpec, *, now: Callable[[], datetime] = utc_now
) -> SnapshotRecord:
    """An existing snapshot, accepted only if available, of this source, and younger than the playbook's limit."""
    kind = kind_for(spec)
    source = spec.rds_instance or spec.aurora_cluster or ""
    label = f"{kind.noun} {snapshot_id}"
    if spec.reuse_max_age_ms is None:
        raise Refused(
            f"The playbook sets no snapshot.reuse.max_age, so {label} can't be reused: without a limit an old "
            "snapshot would pass for a fresh one.",
            next_step="add snapshot.reuse.max_age (such as 6h) to the playbook, or run without --snapshot-id to "
            "take a new snapshot.",
        )
    found = kind.describe(rds, snapshot_id)
    if found is None:
        raise Refused(
            f"There is no {label} in this account and region.",
            next_step=f"check the identifier (aws rds {kind.describe_cli} {snapshot_id}).",
        )
    status = str(found.get("Status", "unknown"))
    owner = str(found.get(kind.source_key) or "")
    created = found.get("SnapshotCreateTime")
    problems = []
    if status != "available":
        problems.append(f"it is {status}, not available")
    if owner.lower() != source.lower():
        problems.append(f"it is a snapshot of {kind.source_label(owner)}, not of {kind.source_label(source)}")
    if created is None:
        problems.append("AWS reports no creation time for it")
    else:
        age_ms = int((now() - created).total_seconds() * 1000)
        if age_ms > spec.reuse_max_age_ms:
            problems.append(
                f"it is {_age(age_ms)} old, older than snapshot.reuse.max_age ({format_ms(spec.reuse_max_age_ms)})"
            )
    if problems:
        raise Refused(
            f"{label[0].upper()}{label[1:]} can't be reused for this run: {'; '.join(problems)}. No step ran.",
            next_step="run without --snapshot-id to take a new snapshot.",
        )
    return SnapshotRecord(
        identifier=str(found.get(kind.id_param, snapshot_id)),
        arn=str(found.get(kind.arn_key, "")),
        kind=kind.name,
        source=owner,
        status=status,
        created_at=created,
        reused=True,
        tags=tuple((t["Key"], t["Value"]) for t in found.get("TagList") or []),
    )


def _age(ms: int) -> str:
    """An age rounded the way a person reads it: to the minute, or to the second under a minute."""
    step = 60_000 if ms >= 60_000 else 1000
    return format_ms(max(round(ms / step), 1) * step)
