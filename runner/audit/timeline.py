"""The run's steps on a time axis, as shapes for the HTML report's inline SVG: the geometry, not the drawing.

One row for the run itself (snapshot, run-wide checks, decisions) and one per
revision, in the order they were first started. Each attempt of a step is a bar
from its ``step_started`` to the event that ended it, coloured by how it ended,
with the time it waited for locks shaded at its start; retries, lock timeouts
and checks are marks at the moment they were logged.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from runner.audit.normal import Event, readable_time, timestamp
from runner.audit.run_record import STEP_ENDS, RunRecord
from runner.durations import parse_ms

WIDTH = 960
LEFT = 160  # the labels' column
RIGHT = 70  # room for the last bar's duration
TOP = 34  # the axis and its labels
ROW = 28
BAR = 14
MIN_BAR = 2.0


@dataclass(frozen=True)
class Row:
    label: str
    y: float  # the row's middle


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    lock_width: float  # the share of the bar spent waiting for locks, drawn at its start
    kind: str  # applied, reverted, failed, unfinished
    text: str  # its duration, beside it
    title: str  # the tooltip


@dataclass(frozen=True)
class Mark:
    x: float
    y: float
    kind: str  # retry, lock_timeout, check_passed, check_failed, decision, snapshot
    title: str


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    left: int
    rows: tuple[Row, ...]
    bars: tuple[Bar, ...]
    marks: tuple[Mark, ...]
    ticks: tuple[Tick, ...]
    span_ms: float


def _ms(label: float) -> str:
    return f"{label:.0f} ms" if label < 1000 else f"{label / 1000:.1f} s"


def _ticks(span_ms: float, x: Callable[[float], float]) -> tuple[Tick, ...]:
    raw = span_ms / 5
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    count = int(span_ms // step) + 1
    return tuple(Tick(x(i * step), _ms(i * step)) for i in range(count))


_MARKS: dict[str, tuple[str, Callable[[Event], str]]] = {
    "retry_scheduled": (
        "retry",
        lambda e: f"retry {e.get('attempt')} of {e.get('max_attempts')} in {e.get('wait_s')}s",
    ),
    "lock_timeout_hit": ("lock_timeout", lambda e: f"lock_timeout {e.get('lock_timeout')} hit"),
    "check_passed": ("check_passed", lambda e: f"check passed: {e.get('check')} ({e.get('found')})"),
    "check_failed": (
        "check_failed",
        lambda e: f"check FAILED: {e.get('check')}: expected {e.get('expected')}, found {e.get('found')}",
    ),
    "decision_made": ("decision", lambda e: f"decision: {e.get('action')} ({e.get('reason')})"),
}


def _waited(hit: Event) -> int:
    """A lock timeout means the statement waited the whole lock_timeout, whatever the watcher measured."""
    try:
        timeout = parse_ms(str(hit.get("lock_timeout") or 0))
    except ValueError:
        timeout = 0
    return max(int(hit.get("lock_waited_ms") or 0), timeout)


def layout(record: RunRecord) -> Timeline | None:
    """The timeline of ``record``; None when no step was started."""
    started = record.named("step_started")
    if not started or not readable_time(record.events[0]["ts"]):
        return None
    zero = timestamp(record.events[0]["ts"])
    at = {id(e): (timestamp(e["ts"]) - zero).total_seconds() * 1000 for e in record.events}
    span = max(max(at.values()), 1.0)
    plot = WIDTH - LEFT - RIGHT
    revisions = list(dict.fromkeys(str(e["revision"]) for e in started))
    rows = [Row("run", TOP + ROW / 2)] + [Row(r, TOP + ROW * (i + 1.5)) for i, r in enumerate(revisions)]
    row_of = {row.label: row.y for row in rows[1:]}

    def x(ms: float) -> float:
        return round(LEFT + ms / span * plot, 1)

    bars = _bars(record, at, row_of, x, span)
    marks: list[Mark] = []
    for event in record.events:
        name = str(event["event"])
        y = row_of.get(str(event.get("revision")), rows[0].y)
        if (
            name in ("check_passed", "check_failed") and event.get("scope") == "run"
        ) or name == "decision_made":
            y = rows[0].y
        if name in _MARKS:
            kind, title = _MARKS[name]
            marks.append(Mark(x(at[id(event)]), y, kind, title(event)))
        elif name.startswith("snapshot_"):
            marks.append(
                Mark(x(at[id(event)]), rows[0].y, "snapshot", f"{name}: {event.get('snapshot_id', '')}")
            )
    height = int(TOP + ROW * len(rows) + 10)
    return Timeline(WIDTH, height, LEFT, tuple(rows), tuple(bars), tuple(marks), _ticks(span, x), span)


def _bars(
    record: RunRecord,
    at: dict[int, float],
    row_of: dict[str, float],
    x: Callable[[float], float],
    span: float,
) -> list[Bar]:
    bars: list[Bar] = []
    open_: dict[str, Event] = {}
    kinds = {"step_applied": "applied", "step_reverted": "reverted", "step_failed": "failed"}

    timed_out: dict[str, int] = {}  # lock waits that ended in a lock timeout, per open attempt

    def bar(start: Event, end_ms: float, kind: str, end: Event | None) -> Bar:
        begin = at[id(start)]
        x0, x1 = x(begin), x(end_ms)
        width = max(x1 - x0, MIN_BAR)
        took = (end or {}).get("duration_ms", round(end_ms - begin))
        waited = (end or {}).get("lock_waited_ms") or timed_out.pop(str(start["revision"]), 0)
        lock = min(width, width * waited / max(end_ms - begin, 1)) if waited else 0.0
        attempt = f", attempt {start.get('attempt')}" if (start.get("attempt") or 1) > 1 else ""
        title = f"{start['revision']} {start.get('direction', 'upgrade')}{attempt}: {kind} in {took} ms"
        if waited:
            title += f", {waited} ms waiting for locks"
        return Bar(
            x0, row_of[str(start["revision"])] - BAR / 2, width, round(lock, 1), kind, f"{took} ms", title
        )

    for event in record.events:
        name = str(event["event"])
        if name == "step_started":
            open_[str(event["revision"])] = event
            timed_out.pop(str(event["revision"]), None)
        elif name == "lock_timeout_hit":
            revision = str(event.get("revision"))
            timed_out[revision] = timed_out.get(revision, 0) + _waited(event)
        elif name in STEP_ENDS and str(event.get("revision")) in open_:
            start = open_.pop(str(event["revision"]))
            bars.append(bar(start, at[id(event)], kinds[name], event))
    for start in open_.values():
        bars.append(bar(start, span, "unfinished", None))
    return bars
