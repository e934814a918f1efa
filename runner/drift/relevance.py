"""Drift that matters to the plan: what in the database makes a pending step fail or act differently.

Each pending step's SQL (rendered offline, parsed by the linter: the statements
apply would run) is played, operation by operation, against the source's schema
as it really is, with what earlier steps create added as they go. A step that
creates something the database already has fails (or, with IF NOT EXISTS, does
nothing and keeps what is there); one that changes something the database lacks
fails; an index or a constraint that exists under another name with the same
definition is built a second time. Only objects that were there before the plan
count: what an earlier pending step creates is the plan's own business.

``explain`` does the reverse for a comparison with the code head: it names the
pending revision that makes each difference, so what is merely pending can be
told apart from real drift.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from runner.drift.compare import Comparison
from runner.drift.objects import SchemaSnapshot
from runner.drift.replay import DOES_NOTHING, DUPLICATES, FAILS, Replay, index_key, table_schema
from runner.lint.ops import Op, OpKind
from runner.lint.statements import StepSQL
from runner.lint.translate import translate


@dataclass(frozen=True)
class Conflict:
    """One pending operation that the database's present schema makes fail or behave differently."""

    revision: str
    operation: str  # 'ADD COLUMN home_address on providers'
    effect: str  # FAILS, DOES_NOTHING or DUPLICATES
    reason: str  # what in the database causes it
    statement: str
    blocks: bool = True  # False: harmless (the object is already exactly what the step wants)

    def describe(self) -> str:
        return f"{self.revision}: {self.operation} {self.effect}: {self.reason}."

    def as_json(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "operation": self.operation,
            "effect": self.effect,
            "reason": self.reason,
            "statement": self.statement,
            "blocks": self.blocks,
        }


def operations(steps: Sequence[StepSQL]) -> Iterator[tuple[str, Op]]:
    """Every operation of every step, in apply order, with its revision."""
    for step in steps:
        for statement in step.statements:
            for op in translate(statement):
                yield step.revision.revision, op


def conflicts(
    steps: Sequence[StepSQL], snapshot: SchemaSnapshot, *, reference: SchemaSnapshot | None = None
) -> tuple[Conflict, ...]:
    """What in ``snapshot`` makes a step of ``steps`` fail or act differently.

    ``reference`` (a database at the code head) gives the exact definition of what
    the steps create, so an index under another name is recognised by its definition.
    """
    state = Replay(snapshot, reference)
    found: list[Conflict] = []
    for revision, op in operations(steps):
        for effect, reason, blocks in state.apply(op):
            found.append(Conflict(revision, label(op), effect, reason, op.sql, blocks))
    return tuple(found)


def label(op: Op) -> str:
    """The operation as an operator reads it: 'ADD COLUMN home_address on providers'."""
    if op.kind is OpKind.CREATE_TABLE:
        return f"CREATE TABLE {op.table}"
    if op.kind is OpKind.CREATE_TYPE:
        return f"CREATE TYPE {f'{op.schema}.' if op.schema else ''}{op.name}"
    if op.kind is OpKind.ADD_ENUM_VALUE:
        return f"ADD VALUE {op.value!r} to {f'{op.schema}.' if op.schema else ''}{op.name}"
    return op.label


def explain(comparison: Comparison, steps: Sequence[StepSQL]) -> Comparison:
    """The comparison with each difference a pending revision makes marked with that revision."""
    touched: dict[tuple[str, str], str] = {}
    for pending, op in operations(steps):
        for key in _touches(op):
            touched.setdefault(key, pending)
    explained = []
    for difference in comparison.differences:
        name = difference.name
        revision = touched.get((difference.kind, name)) or (
            touched.get((difference.kind, difference.new_name or "")) if difference.new_name else None
        )
        if revision is None and difference.kind in ("constraint", "index"):
            owner = getattr(difference.target_object or difference.source_object, "on", None) or getattr(
                difference.target_object or difference.source_object, "table", None
            )
            revision = touched.get((f"unnamed {difference.kind}", str(owner)))
        explained.append(replace(difference, explained_by=revision) if revision else difference)
    return replace(comparison, differences=tuple(explained))


def _touches(op: Op) -> list[tuple[str, str]]:
    table = op.table.key if op.table else ""
    if op.kind is OpKind.CREATE_TABLE or op.kind is OpKind.DROP_TABLE:
        return [("table", table)]
    if op.kind is OpKind.RENAME_TABLE:
        return [("table", table), ("table", f"{table_schema(op.table)}.{op.new_name}")]
    if op.kind in (OpKind.ADD_COLUMN, OpKind.DROP_COLUMN, OpKind.ALTER_COLUMN_TYPE, OpKind.SET_NOT_NULL):
        return [("column", f"{table}.{op.name}")]
    if op.kind is OpKind.ALTER_TABLE and op.name:
        return [("column", f"{table}.{op.name}"), ("constraint", f"{table}.{op.name}")]
    if op.kind is OpKind.RENAME_COLUMN:
        return [("column", f"{table}.{op.name}"), ("column", f"{table}.{op.new_name}")]
    if op.kind in (OpKind.ADD_CONSTRAINT, OpKind.VALIDATE_CONSTRAINT):
        return [("constraint", f"{table}.{op.name}")] if op.name else [("unnamed constraint", table)]
    if op.kind is OpKind.CREATE_INDEX:
        return [("index", index_key(op))] if op.name else [("unnamed index", table)]
    if op.kind is OpKind.DROP_INDEX:
        return [("index", f"{op.schema or 'public'}.{op.name}")]
    if op.kind in (OpKind.CREATE_TYPE, OpKind.ADD_ENUM_VALUE):
        return [("enum", f"{op.schema or 'public'}.{op.name}")]
    return []


__all__ = ["DOES_NOTHING", "DUPLICATES", "FAILS", "Conflict", "conflicts", "explain", "operations"]
