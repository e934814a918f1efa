"""How every rule grades and words a finding, so the same harm reads the same everywhere.

Severity means harm on this database: a write-blocking lock held for a second is
an outage for a busy table, a tenth of a second is not. Durations are said with
the sizes they come from ("about 4.2s here (providers has about ...)"), or with
the reason they are unknown.
"""

from __future__ import annotations

from runner.lint.codes import slug_of
from runner.lint.estimate import about
from runner.lint.findings import Finding, Severity, acknowledge_text
from runner.lint.locks import LockMode
from runner.lint.names import TableRef
from runner.lint.ops import Op
from runner.lint.size import Origin, Size, joined_names

INFO_BELOW_MS = 100  # a lock held for less is harmless at any traffic level
BLOCK_FROM_MS = 1_000  # a write-blocking lock held this long is an outage for a busy table


class Wording:
    """Mixed into StepContext: grading and the sentences shared by every rule."""

    revision: str

    def grade(self, size: Size, ms: float | None) -> Severity:
        """Severity of holding a lock for ``ms`` on this table, here."""
        if size.empty:
            return Severity.INFO
        if ms is None:
            return Severity.BLOCK
        if ms < INFO_BELOW_MS:
            return Severity.INFO
        return Severity.WARN if ms < BLOCK_FROM_MS else Severity.BLOCK

    def grade_loss(self, size: Size) -> Severity:
        """Severity of destroying a table's rows: only harmless when there are none."""
        return Severity.INFO if size.empty else Severity.BLOCK

    def duration(self, size: Size, ms: float | None, work: str) -> str:
        """How long, said for this table: 'about 4.2s here (providers has about ...)'."""
        return self.duration_many([size], ms, work)

    def duration_many(self, sizes: list[Size], ms: float | None, work: str) -> str:
        """The same for a lock on several tables at once, held for ``ms``."""
        names = joined_names([str(size.table) for size in sizes])
        if any(size.origin is Origin.ASSUMED for size in sizes):
            if ms is not None:
                noun = "size" if len(sizes) == 1 else "sizes"
                return f"about {about(ms)} once granted, whatever the {noun} of {names}"
            unknown = [size for size in sizes if size.origin is Origin.ASSUMED]
            return f"as long as {work} takes, and {'; '.join(size.describe() for size in unknown)}"
        facts = "; ".join(size.describe() for size in sizes)
        if all(size.empty for size in sizes):
            return f"milliseconds here ({facts})"
        return f"about {about(ms)} here ({facts})"

    def until(self, op: Op) -> str:
        return "until the step commits" if op.statement.in_transaction else "until it finishes"

    def finding(
        self,
        code: str,
        severity: Severity,
        message: str,
        help: str,
        *,
        table: TableRef | None = None,
        lock: LockMode | None = None,
        ms: float | None = None,
        op: Op | None = None,
        one_way: str | None = None,
    ) -> Finding:
        return Finding(
            revision=self.revision,
            code=code,
            slug=slug_of(code),
            severity=severity,
            message=message,
            help=help,
            acknowledge=acknowledge_text(code, self.revision, severity),
            table=str(table) if table else None,
            lock_mode=lock.label if lock else None,
            estimated_lock_ms=None if ms is None else round(ms),
            statement=op.sql if op else None,
            one_way=one_way,
        )
