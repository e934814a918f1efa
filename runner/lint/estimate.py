"""How long a statement holds its lock, from the size of the table it works on.

Rates are deliberately modest (a cloud database with cold cache, not a laptop):
catalog-only DDL is milliseconds once the lock is granted; scans, index builds,
rewrites and row changes grow with the table. A rehearsal's audit log can
calibrate them: each ``step_applied`` event carries the measured ``duration_ms``
of a revision, and the ratio of measured to estimated time over the steps that
did size-proportional work scales every such estimate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from runner.lint.locks import Work
from runner.lint.sizing import TableStats

CATALOG_MS = 2.0  # a catalog-only statement once its lock is granted
SCAN_BYTES_PER_MS = 150_000  # ~150 MB/s: a validation scan
BUILD_BYTES_PER_MS = 40_000  # ~40 MB/s of table: read, sort and write an index
REWRITE_BYTES_PER_MS = 30_000  # ~30 MB/s of table and indexes: copy the table, rebuild every index
ROWS_PER_MS = 20.0  # ~20,000 rows/s: UPDATE/DELETE with index maintenance and WAL

CALIBRATION_BOUNDS = (0.05, 50.0)


@dataclass(frozen=True)
class Calibration:
    """Measured step durations from a rehearsal, and the factor they imply for this plan."""

    measured_ms: Mapping[str, int] = field(default_factory=dict, compare=False)
    factor: float = 1.0
    source: str | None = None

    def with_factor(self, factor: float) -> Calibration:
        low, high = CALIBRATION_BOUNDS
        return Calibration(self.measured_ms, min(max(factor, low), high), self.source)


def work_ms(work: Work, stats: TableStats, *, factor: float = 1.0) -> float:
    """Time for one statement doing ``work`` on a table of this size."""
    return CATALOG_MS + proportional_ms(work, stats, factor=factor)


def proportional_ms(work: Work, stats: TableStats, *, factor: float = 1.0) -> float:
    """The part of a statement's time that grows with the table (0 for catalog-only work)."""
    if work is Work.CATALOG:
        return 0.0
    if work is Work.SCAN:
        proportional = stats.table_bytes / SCAN_BYTES_PER_MS
    elif work is Work.BUILD:
        proportional = stats.table_bytes / BUILD_BYTES_PER_MS
    elif work is Work.REWRITE:
        proportional = stats.total_bytes / REWRITE_BYTES_PER_MS
    else:
        proportional = stats.rows / ROWS_PER_MS
    return proportional * factor


def read_calibration(path: str | Path) -> Calibration:
    """The measured duration of each revision in a rehearsal's audit log (``runner.audit.timings``)."""
    from runner.audit.timings import step_durations

    return Calibration(measured_ms=step_durations(Path(path)), source=str(path))


def about(ms: float | None) -> str:
    """A duration rounded the way people say it: 40ms, 4.2s, 12min."""
    if ms is None:
        return "unknown"
    if ms < 1_000:
        return f"{max(1, round(ms))}ms"
    if ms < 60_000:
        return _trim(ms / 1_000, "s")
    if ms < 3_600_000:
        return _trim(ms / 60_000, "min")
    return _trim(ms / 3_600_000, "h")


def size_text(size: int) -> str:
    """Bytes the way pg_size_pretty rounds them, with one decimal."""
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1024:
            return f"{int(value)} bytes" if unit == "bytes" else _trim(value, f" {unit}")
        value /= 1024
    return _trim(value, " TB")


def _trim(value: float, unit: str) -> str:
    text = f"{value:.1f}" if value < 10 else f"{value:.0f}"
    return text.removesuffix(".0") + unit
