"""What earlier statements and steps of the run create or prove: the database does not have it yet.

Steps are analysed in apply order. A table an earlier step creates is empty when
a later step touches it; a CHECK an earlier step validated proves what SET NOT
NULL or ATTACH PARTITION would otherwise scan for; a table an earlier step
creates PARTITION BY is partitioned although the database has never seen it.
``StepRecord`` collects this for one step, statement by statement, and
``RunState`` carries it to the steps after.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields

from runner.lint.catalog import CheckCover, ForeignKey
from runner.lint.names import TableRef
from runner.lint.ops import Constraint, Op, OpKind


def object_key(name: str, schema: str | None) -> str:
    """'schema.name' for an index or type, with the default schema spelled out."""
    return f"{schema or 'public'}.{name}"


@dataclass
class RunState:
    tables: dict[str, str] = field(default_factory=dict)  # table key -> revision creating it
    indexes: dict[str, TableRef] = field(default_factory=dict)  # "schema.index" -> its table
    types: dict[str, str] = field(default_factory=dict)
    not_null_checks: set[tuple[str, str]] = field(default_factory=set)  # validated (table key, column)
    unvalidated_not_null: dict[tuple[str, str], str] = field(default_factory=dict)  # (table, check) -> column
    renamed: dict[str, TableRef] = field(default_factory=dict)  # new table key -> the name the database knows
    partitioned: dict[str, tuple[str, ...]] = field(default_factory=dict)  # created PARTITION BY: its key
    partitions: dict[str, list[TableRef]] = field(default_factory=dict)  # parent key -> partitions created
    checks: dict[str, set[CheckCover]] = field(default_factory=dict)  # validated CHECKs, by table key
    unvalidated: dict[tuple[str, str], CheckCover | ForeignKey] = field(default_factory=dict)
    foreign_keys: dict[str, set[ForeignKey]] = field(default_factory=dict)  # validated, by table key
    policies: set[str] = field(default_factory=set)  # tables that got a policy
    row_security: set[str] = field(default_factory=set)  # tables whose row security was enabled

    def snapshot(self) -> RunState:
        """The run as one step meets it: what later steps create must not show up in its analysis."""
        return RunState(**{f.name: copy.copy(getattr(self, f.name)) for f in fields(self)})

    def absorb(self, revision: str, record: StepRecord) -> None:
        for key in record.created_tables:
            self.tables.setdefault(key, revision)
        self.indexes.update(record.created_indexes)
        for key in record.created_types:
            self.types.setdefault(key, revision)
        self.not_null_checks |= record.validated_not_null
        self.unvalidated_not_null.update(record.unvalidated_not_null)
        self.renamed.update(record.renamed)
        self.partitioned.update(record.partitioned)
        self.partitions.update(record.partitions)
        self.checks.update(record.checks)
        self.unvalidated.update(record.unvalidated)
        self.foreign_keys.update(record.foreign_keys)
        self.policies |= record.policies
        self.row_security |= record.row_security


class StepRecord:
    """What one step creates and proves, noted op by op (rules ask about the ops before theirs)."""

    def __init__(self, run: RunState) -> None:
        self.created_tables: dict[str, int] = {}  # table key -> index of the op creating it
        self.created_indexes: dict[str, TableRef] = {}
        self.created_types: set[str] = set()
        # (table key, name) -> (segment, kind) of constraints added NOT VALID in this step
        self.not_valid_constraints: dict[tuple[str, str], tuple[int, Constraint | None]] = {}
        self.validated_not_null: set[tuple[str, str]] = set()
        self.unvalidated_not_null: dict[tuple[str, str], str] = dict(run.unvalidated_not_null)
        self.renamed: dict[str, TableRef] = dict(run.renamed)
        self.partitioned_here: dict[int, Op] = {}  # CREATE TABLE ... PARTITION BY, by op number
        self.partitions_here: dict[int, tuple[TableRef, TableRef]] = {}  # (parent, partition) by op number
        self.partitioned: dict[str, tuple[str, ...]] = {}
        self.partitions: dict[str, list[TableRef]] = {k: list(v) for k, v in run.partitions.items()}
        self.checks: dict[str, set[CheckCover]] = {k: set(v) for k, v in run.checks.items()}
        self.unvalidated: dict[tuple[str, str], CheckCover | ForeignKey] = dict(run.unvalidated)
        self.foreign_keys: dict[str, set[ForeignKey]] = {k: set(v) for k, v in run.foreign_keys.items()}
        self.policies: set[str] = set()
        self.row_security: set[str] = set()

    def note(self, number: int, op: Op) -> None:
        table, key = op.table, op.table.key if op.table else ""
        if op.kind is OpKind.CREATE_TABLE and table:
            self.created_tables.setdefault(key, number)
            if op.partition_key is not None:
                self.partitioned_here[number] = op
                self.partitioned[key] = op.partition_key
            if op.partition_of:
                self.partitions_here[number] = (op.partition_of, table)
                self.partitions.setdefault(op.partition_of.key, []).append(table)
        elif op.kind is OpKind.CREATE_INDEX and table and op.name:
            self.created_indexes[object_key(op.name, table.schema)] = table
        elif op.kind is OpKind.CREATE_TYPE and op.name:
            self.created_types.add(object_key(op.name, op.schema))
        elif op.kind is OpKind.ADD_CONSTRAINT and table:
            self._constraint(key, op)
        elif op.kind is OpKind.VALIDATE_CONSTRAINT and table and op.name:
            column = self.unvalidated_not_null.get((key, op.name))
            if column:
                self.validated_not_null.add((key, column))
            self._proven(key, self.unvalidated.get((key, op.name)))
        elif op.kind is OpKind.RENAME_TABLE and table and op.new_name:
            new = TableRef(op.new_name, table.schema)
            self.renamed[new.key] = self.renamed.get(key, table)
        elif op.kind is OpKind.CREATE_POLICY and table:
            self.policies.add(key)
        elif op.kind is OpKind.ROW_SECURITY and table and op.value in ("ENABLE", "FORCE"):
            self.row_security.add(key)

    def _constraint(self, key: str, op: Op) -> None:
        proof: CheckCover | ForeignKey | None = None
        if op.constraint is Constraint.CHECK:
            proof = CheckCover(frozenset(op.columns), frozenset(op.proves_not_null))
        elif op.constraint is Constraint.FOREIGN_KEY and op.references:
            proof = (op.columns, op.references[0].key)
        if op.not_valid and op.name:
            self.not_valid_constraints[(key, op.name)] = (op.statement.segment, op.constraint)
            if op.checks_not_null:
                self.unvalidated_not_null[(key, op.name)] = op.checks_not_null
            if proof is not None:
                self.unvalidated[(key, op.name)] = proof
        elif not op.not_valid:
            if op.checks_not_null:
                self.validated_not_null.add((key, op.checks_not_null))
            self._proven(key, proof)

    def _proven(self, key: str, proof: CheckCover | ForeignKey | None) -> None:
        if isinstance(proof, CheckCover):
            self.checks.setdefault(key, set()).add(proof)
        elif proof is not None:
            self.foreign_keys.setdefault(key, set()).add(proof)
