"""boto3's own waiters, bounded by a ceiling, reporting every poll as progress.

The waiter (``db_snapshot_available`` and friends) keeps its acceptors: which
statuses are success and which can never become it. Its ``WaiterConfig`` comes
from the ceiling: a delay of a sixtieth of it (at least 1 s, at most boto3's
30 s) and as many polls as fit. Each poll's answer reaches ``on_progress``
through the client's ``after-call`` event, so the console can draw status and
percent while the waiter, not the runner, decides when waiting is over.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

BOTO_DELAY_S = 30.0
MIN_DELAY_S = 1.0


@dataclass(frozen=True)
class WaitPlan:
    delay_s: float
    max_attempts: int

    @classmethod
    def within(cls, ceiling_ms: int, delay_s: float | None = None) -> WaitPlan:
        """Polls every ``delay_s`` (default from the ceiling) for at most ``ceiling_ms``."""
        ceiling_s = max(ceiling_ms, 0) / 1000
        if delay_s is None:
            delay_s = min(BOTO_DELAY_S, max(MIN_DELAY_S, ceiling_s / 60))
        return cls(delay_s, max(1, math.floor(ceiling_s / delay_s + 1e-9) + 1))

    def config(self) -> dict[str, Any]:
        return {"Delay": self.delay_s, "MaxAttempts": self.max_attempts}


@dataclass(frozen=True)
class Progress:
    """One poll of something being waited on: what the CLI draws as a live line."""

    what: str  # "snapshot pre-migration-...", "instance credmate-prod-restored-..."
    status: str
    percent: int | None
    elapsed_s: float
    polls: int

    def describe(self) -> str:
        percent = f" {self.percent}%" if self.percent is not None else ""
        return f"{self.what}: {self.status}{percent} after {self.elapsed_s:.0f}s"


ProgressCallback = Callable[[Progress], None]
Reader = Callable[[dict[str, Any]], tuple[str, int | None]]  # a describe answer -> (status, percent)


def first_item(list_key: str, status_key: str) -> Reader:
    """A reader for ``describe_*`` answers: the first item's status and PercentProgress."""

    def read(parsed: dict[str, Any]) -> tuple[str, int | None]:
        items = parsed.get(list_key) or []
        if not items:
            error = parsed.get("Error") or {}
            return (str(error.get("Code") or "not found"), None)
        item = items[0]
        percent = item.get("PercentProgress")
        return (str(item.get(status_key, "unknown")), int(percent) if percent is not None else None)

    return read


def wait_for(
    client: Any,
    waiter_name: str,
    arguments: dict[str, Any],
    plan: WaitPlan,
    *,
    what: str,
    operation: str,
    read: Reader,
    on_progress: ProgressCallback | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> list[Progress]:
    """Run the waiter; returns every poll seen. Raises botocore's WaiterError (or ClientError) unchanged."""
    started = clock()
    seen: list[Progress] = []

    def polled(parsed: dict[str, Any] | None = None, **_: Any) -> None:
        status, percent = read(parsed or {})
        progress = Progress(what, status, percent, clock() - started, len(seen) + 1)
        seen.append(progress)
        if on_progress is not None:
            on_progress(progress)

    event = f"after-call.{client.meta.service_model.service_id.hyphenize()}.{operation}"
    unique = f"runner-wait-{uuid.uuid4().hex}"
    client.meta.events.register(event, polled, unique_id=unique)
    try:
        client.get_waiter(waiter_name).wait(**arguments, WaiterConfig=plan.config())
    finally:
        client.meta.events.unregister(event, unique_id=unique)
    return seen


def last_status(error: Any, read: Reader) -> tuple[str, int | None]:
    """The status and percent in a WaiterError's last response."""
    response = getattr(error, "last_response", None) or {}
    return read(dict(response))
