"""Plain YAML scalars that look like numbers, with the text the operator wrote.

YAML reads ``20260131_0000`` as the integer 202601310000 and ``123456e78901``
as a float, yet both are valid Alembic revision ids. The loader builds these
number types instead of plain ones, so a field that wants text (a revision, a
name) gets back exactly what is in the file, and a field that wants a number
still gets a number.
"""

from __future__ import annotations

from typing import Any


class RawInt(int):
    raw: str

    def __new__(cls, value: int, raw: str) -> RawInt:
        made = super().__new__(cls, value)
        made.raw = raw
        return made


class RawFloat(float):
    raw: str

    def __new__(cls, value: float, raw: str) -> RawFloat:
        made = super().__new__(cls, value)
        made.raw = raw
        return made


def raw_text(value: Any) -> Any:
    """The written text of a number-looking scalar; anything else unchanged."""
    if isinstance(value, RawInt | RawFloat):
        return value.raw
    return value


def plain(value: Any) -> Any:
    """A plain int or float (for values compared with query results)."""
    if isinstance(value, RawInt):
        return int(value)
    if isinstance(value, RawFloat):
        return float(value)
    return value
