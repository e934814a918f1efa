"""What the rollback drill found, as values: per step, and for the upgrade that follows it.

Each difference is said from the drill's point of view ("column public.t.note is
there after the downgrade but was not before the upgrade"), and kept whole as
drift's ``Difference`` for the JSON and the audit event (``drill_finished``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from runner.drift.differences import CHANGED, ONLY_IN_SOURCE, ONLY_IN_TARGET, Difference

AFTER_DOWNGRADE, BEFORE_UPGRADE = "after the downgrade", "before the upgrade"
AFTER_REUPGRADE, AFTER_FIRST_UPGRADE = "after the upgrade again", "after the first upgrade"


class StepStatus(StrEnum):
    REVERTED = "reverted"  # the downgrade restored the schema recorded before the upgrade
    ONE_WAY = "one_way"  # not attempted: the step can't be undone; the drill stopped before it
    MISMATCH = "mismatch"  # the downgrade ran but left the schema different
    FAILED = "failed"  # the downgrade raised; the drill stopped there


class UpgradeStatus(StrEnum):
    SAME = "same"  # upgraded again, the schema equals the first upgrade's
    DIFFERENT = "different"
    FAILED = "failed"
    SKIPPED = "skipped"  # nothing was downgraded, or a downgrade failed and left an unknown state


def sentence(difference: Difference, now: str, then: str) -> str:
    """One difference in the drill's words: ``now`` is the database as it is, ``then`` what it is held to."""
    d = difference
    contents = f" (with {d.describe_contents()})" if d.contains else ""
    if d.status == ONLY_IN_SOURCE:
        return f"{d.kind} {d.name}{contents} is there {now} but was not {then}"
    if d.status == ONLY_IN_TARGET:
        return f"{d.kind} {d.name}{contents} is missing {now} but was there {then}"
    if d.status == CHANGED:
        parts = []
        for change in d.changes:
            if d.kind == "enum" and change.attribute == "values":
                kept = [v for v in change.source if v not in change.target]
                gone = [v for v in change.target if v not in change.source]
                if kept and not gone:
                    listed = ", ".join(repr(v) for v in kept)
                    parts.append(f"value {listed} is there {now} but was not {then}")
                    continue
            parts.append(f"{change.attribute} is {change.source!r} {now}, {change.target!r} {then}")
        return f"{d.kind} {d.name}: {'; '.join(parts)}"
    return f"{d.kind} {d.name} {now} is {d.new_name} {then} (same definition)"


@dataclass(frozen=True)
class StepDrill:
    """One step of the drill: its revision, what happened, and why or what differed."""

    revision: str
    status: StepStatus
    reason: str | None = None  # why a step is one-way, or the error a failed downgrade raised
    differences: tuple[Difference, ...] = ()
    notes: tuple[str, ...] = ()  # differences not in the schema (the version table reads something else)
    duration_ms: int = 0

    @property
    def sentences(self) -> tuple[str, ...]:
        return (*self.notes, *(sentence(d, AFTER_DOWNGRADE, BEFORE_UPGRADE) for d in self.differences))

    def describe(self) -> str:
        if self.status is StepStatus.REVERTED:
            return f"{self.revision}: reverted; the schema is as it was before its upgrade ({self.duration_ms} ms)"
        if self.status is StepStatus.ONE_WAY:
            return f"{self.revision}: one-way ({self.reason}); not downgraded, the drill stops before it"
        if self.status is StepStatus.FAILED:
            return f"{self.revision}: the downgrade failed: {self.reason}"
        return f"{self.revision}: the downgrade did not restore the schema: {'; '.join(self.sentences)}"

    def as_event(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "status": str(self.status),
            "reason": self.reason,
            "differences": list(self.sentences),
            "details": [d.as_json() for d in self.differences],
            "duration_ms": self.duration_ms,
        }


@dataclass(frozen=True)
class UpgradeAgain:
    """The upgrade after the drill, through the steps it downgraded, compared with the first upgrade."""

    status: UpgradeStatus
    revisions: tuple[str, ...] = ()
    differences: tuple[Difference, ...] = ()
    error: str | None = None  # the revision that failed, and how
    duration_ms: int = 0

    @property
    def sentences(self) -> tuple[str, ...]:
        return tuple(sentence(d, AFTER_REUPGRADE, AFTER_FIRST_UPGRADE) for d in self.differences)

    def describe(self) -> str:
        if self.status is UpgradeStatus.SAME:
            return (
                f"upgraded again through {', '.join(self.revisions)}: the schema equals the first upgrade's"
            )
        if self.status is UpgradeStatus.SKIPPED:
            return f"not upgraded again: {self.error}"
        if self.status is UpgradeStatus.FAILED:
            return f"upgrading again failed: {self.error}"
        return f"upgraded again, but the schema differs from the first upgrade's: {'; '.join(self.sentences)}"

    def as_event(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "revisions": list(self.revisions),
            "differences": list(self.sentences),
            "details": [d.as_json() for d in self.differences],
            "error": self.error,
            "duration_ms": self.duration_ms,
        }


@dataclass(frozen=True)
class DrillResult:
    """The whole drill: each step from the newest down, where it stopped, and the upgrade after it."""

    steps: tuple[StepDrill, ...]
    upgrade_again: UpgradeAgain
    start: tuple[str, ...] = ()  # the revision(s) the drill would end at: before the first step
    not_reached: tuple[str, ...] = ()  # older steps below a one-way step or a failure, never downgraded

    @property
    def stopped_before(self) -> str | None:
        return next((s.revision for s in self.steps if s.status is StepStatus.ONE_WAY), None)

    @property
    def clean(self) -> bool:
        """Every downgrade restored its schema, and the upgrade after them matches the first one."""
        bad = {StepStatus.MISMATCH, StepStatus.FAILED}
        return not any(s.status in bad for s in self.steps) and self.upgrade_again.status in (
            UpgradeStatus.SAME,
            UpgradeStatus.SKIPPED,
        )

    def describe(self) -> list[str]:
        return [*(s.describe() for s in self.steps), self.upgrade_again.describe()]

    def as_event(self) -> dict[str, Any]:
        """The fields of the ``drill_finished`` audit event."""
        return {
            "clean": self.clean,
            "start": list(self.start),
            "steps": [s.as_event() for s in self.steps],
            "stopped_before": self.stopped_before,
            "not_reached": list(self.not_reached),
            "upgrade_again": self.upgrade_again.as_event(),
        }
