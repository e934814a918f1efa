"""What every check provides, and the outcome of one, whoever ran it: a schema check or a health check.

A check is a frozen value with a ``label``, its expectation in words, and an
``evaluate`` that says how it runs. Those that read the database
(``DatabaseCheck``) are evaluated on a connection the runner gives them, inside
a READ ONLY transaction it opens and rolls back; the health checks (``http:``,
``metric:`` in ``runner.aws``) need no connection and take their own seams.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class CheckResult:
    label: str
    ok: bool
    expected: str
    found: str

    def describe(self) -> str:
        return f"{self.label}: expected {self.expected}, found {self.found}"


class Check(Protocol):
    """Any check: what it is called and what it expects, in the words its result uses."""

    @property
    def label(self) -> str: ...

    def expectation(self) -> str: ...


@runtime_checkable
class DatabaseCheck(Check, Protocol):
    """A check that reads the database, on a connection (and in a transaction) the runner gives it."""

    def evaluate(self, conn: psycopg.Connection) -> CheckResult: ...
