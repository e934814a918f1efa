"""What the linter says about a step, and how an operator accepts it.

A finding is a value: which rule, which revision, how bad *on this database*,
what happens, what to write instead, and how to acknowledge it. An
acknowledgement names a finding by code and revision and always carries a reason,
because the audit log must say why a known risk was taken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum

from runner.errors import ConfigError


class Severity(StrEnum):
    """How much harm a finding does on the database it was sized against."""

    BLOCK = "block"  # real harm here: apply refuses the step until it is acknowledged
    WARN = "warn"  # harm that does not depend on size (one-way step, rename, missing downgrade)
    INFO = "info"  # worth knowing; harmless at this size

    @property
    def rank(self) -> int:
        return {"block": 2, "warn": 1, "info": 0}[self.value]


@dataclass(frozen=True)
class Finding:
    """One rule firing on one step (and, for most rules, one table)."""

    revision: str
    code: str
    slug: str
    severity: Severity
    message: str  # what happens: the lock, what it blocks, for how long on this table
    help: str  # the safer version, in Alembic code with the real names
    acknowledge: str  # how to accept it as it is
    table: str | None = None
    lock_mode: str | None = None
    estimated_lock_ms: int | None = None
    statement: str | None = None  # the SQL that triggered it, as rendered offline
    one_way: str | None = None  # why this makes the step impossible to undo, when it does
    acknowledged: bool = False
    reason: str | None = None

    def acknowledged_by(self, acknowledgement: Acknowledgement) -> Finding:
        return replace(self, acknowledged=True, reason=acknowledgement.reason)

    def text(self) -> str:
        """Message, help and acknowledgement as one block, for a terminal."""
        return f"{self.message}\n{self.help}\n{self.acknowledge}"

    def as_json(self) -> dict[str, object]:
        return {
            "revision": self.revision,
            "code": self.code,
            "slug": self.slug,
            "severity": str(self.severity),
            "message": self.message,
            "help": self.help,
            "acknowledge": self.acknowledge,
            "table": self.table,
            "lock_mode": self.lock_mode,
            "estimated_lock_ms": self.estimated_lock_ms,
            "statement": self.statement,
            "one_way": self.one_way,
            "acknowledged": self.acknowledged,
            "reason": self.reason,
        }


_CODE = re.compile(r"^[A-Z]{2}\d{3}$")


@dataclass(frozen=True)
class Acknowledgement:
    """An operator's decision to run a flagged step as written, and why."""

    code: str
    revision: str
    reason: str

    def __post_init__(self) -> None:
        if not _CODE.match(self.code):
            raise ConfigError(
                f"Acknowledgement {self.code}:{self.revision}: {self.code!r} is not a rule code such as LK101 "
                "(runner lint lists the codes of every finding)."
            )
        if not self.revision:
            raise ConfigError(f"Acknowledgement {self.code}: names no revision; write CODE:REVISION.")
        if not self.reason.strip():
            raise ConfigError(
                f"Acknowledgement {self.code}:{self.revision} has no reason; the audit log must say why the "
                'risk is accepted (--reason "...", or reason: in the playbook).'
            )

    @classmethod
    def parse(cls, spec: str, reason: str) -> Acknowledgement:
        """``CODE:REVISION`` as written on the command line, plus the reason."""
        code, sep, revision = spec.strip().partition(":")
        if not sep:
            raise ConfigError(
                f"--acknowledge {spec!r} is not CODE:REVISION (for example LK101:20260131_0000)."
            )
        return cls(code=code.strip().upper(), revision=revision.strip(), reason=reason.strip())

    @classmethod
    def of(cls, value: object) -> Acknowledgement:
        """Any object with code, revision and reason (a playbook's acknowledgement, for one)."""
        if isinstance(value, cls):
            return value
        return cls(
            code=str(getattr(value, "code", "")).strip().upper(),
            revision=str(getattr(value, "revision", "")).strip(),
            reason=str(getattr(value, "reason", "") or ""),
        )

    def matches(self, finding: Finding) -> bool:
        return self.code == finding.code and self.revision == finding.revision

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "revision": self.revision, "reason": self.reason}


def acknowledge_text(code: str, revision: str, severity: Severity) -> str:
    how = (
        f"in the playbook, acknowledgements: [{{code: {code}, revision: {revision}, reason: ...}}]; "
        f'on the command line, --acknowledge {code}:{revision} --reason "...". '
        f"runner lint --explain {code} explains the rule."
    )
    if severity is Severity.BLOCK:
        return f"Apply refuses this step until it is acknowledged with a reason: {how}"
    return f"To record that it was reviewed, acknowledge it with a reason: {how}"
