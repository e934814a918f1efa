"""The outcome of one check, whoever ran it: a playbook's schema check, an HTTP or metric health check."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckResult:
    label: str
    ok: bool
    expected: str
    found: str

    def describe(self) -> str:
        return f"{self.label}: expected {self.expected}, found {self.found}"
