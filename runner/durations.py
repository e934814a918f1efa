"""Durations as operators write them (``2s``, ``500ms``, ``5min``) and as PostgreSQL shows them."""

from __future__ import annotations

import math
import re

_UNITS_MS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|m|h|d)?\s*$")


def parse_ms(text: str | int | float, *, default_unit: str = "ms") -> int:
    """Milliseconds from ``2s``/``1500ms``/``5min``; a bare number is in ``default_unit``."""
    if isinstance(text, int | float):
        return int(text * _UNITS_MS[default_unit])
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration such as 500ms, 2s or 5min")
    number, unit = float(match[1]), match[2] or default_unit
    unit = "min" if unit == "m" else unit
    ms = number * _UNITS_MS[unit]
    if not math.isfinite(ms):  # 400 nines: float() says infinity, which no limit can be
        raise ValueError(f"{text!r} is too large a number to be a duration")
    return round(ms)


def format_ms(ms: int | float) -> str:
    """The shortest exact way to say it: 2s, 1500ms, 5min."""
    ms = int(ms)
    for unit, size in (("h", 3_600_000), ("min", 60_000), ("s", 1000)):
        if ms and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"
