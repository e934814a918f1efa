"""The server-side limits a step runs under: one value, imported by lint, playbooks and the run alike.

Every limit carries its unit, has a safe default, and is checked against its
accepted range (``runner.limits``) the moment it is built, so a value that got
this far is one the runner will set and read back on env.py's connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner import limits
from runner.durations import format_ms
from runner.errors import ConfigError


@dataclass(frozen=True)
class Guards:
    """Server-side limits for one step, each within its range in ``limits`` (0, 'wait forever', never)."""

    lock_timeout_ms: int = 2_000
    statement_timeout_ms: int = 60_000
    idle_in_transaction_timeout_ms: int = 60_000

    def __post_init__(self) -> None:
        for name, value in self.settings_ms().items():
            problem = limits.GUARDS[name].problem(value)
            if problem is not None:
                raise ConfigError(f"{name} {format_ms(value)} {problem}.")

    def settings_ms(self) -> dict[str, int]:
        return {
            "lock_timeout": self.lock_timeout_ms,
            "statement_timeout": self.statement_timeout_ms,
            "idle_in_transaction_session_timeout": self.idle_in_transaction_timeout_ms,
        }

    def pgoptions(self) -> str:
        """The same limits for PGOPTIONS: a second layer for connections env.py opens."""
        return " ".join(f"-c {name}={ms}ms" for name, ms in self.settings_ms().items())

    def describe(self) -> str:
        return ", ".join(f"{name} {format_ms(ms)}" for name, ms in self.settings_ms().items())
