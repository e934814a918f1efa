"""The operations rules reason about, one per thing a statement does.

One statement can hold several operations (``ALTER TABLE t ADD COLUMN a ...,
ADD CONSTRAINT ...``); each is an ``Op``, a value that says what happens in
PostgreSQL's own terms. ``runner.lint.translate`` builds them from the parse tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from runner.lint.names import TableRef
from runner.lint.statements import Statement


class OpKind(StrEnum):
    CREATE_TABLE = "create_table"
    CREATE_INDEX = "create_index"
    DROP_INDEX = "drop_index"
    ADD_COLUMN = "add_column"
    DROP_COLUMN = "drop_column"
    ALTER_COLUMN_TYPE = "alter_column_type"
    SET_NOT_NULL = "set_not_null"
    ADD_CONSTRAINT = "add_constraint"
    VALIDATE_CONSTRAINT = "validate_constraint"
    RENAME_COLUMN = "rename_column"
    RENAME_TABLE = "rename_table"
    ALTER_TABLE = "alter_table"  # any other ALTER TABLE subcommand: catalog only
    REWRITE_TABLE = "rewrite_table"  # VACUUM FULL, CLUSTER, SET TABLESPACE, SET LOGGED/UNLOGGED
    DROP_TABLE = "drop_table"
    TRUNCATE = "truncate"
    DROP_SCHEMA = "drop_schema"
    CREATE_TYPE = "create_type"
    ADD_ENUM_VALUE = "add_enum_value"
    REINDEX = "reindex"
    LOCK_TABLE = "lock_table"
    VACUUM = "vacuum"  # plain VACUUM: cannot run inside a transaction
    UPDATE = "update"
    DELETE = "delete"
    INSERT = "insert"
    SET_SETTING = "set_setting"
    ATTACH_PARTITION = "attach_partition"
    DETACH_PARTITION = "detach_partition"
    SET_SCHEMA = "set_schema"  # ALTER TABLE/VIEW/TYPE/... SET SCHEMA
    RENAME_OBJECT = "rename_object"  # any rename besides a table's or a column's
    RENAME_ENUM_VALUE = "rename_enum_value"
    DISABLE_TRIGGER = "disable_trigger"
    ENABLE_TRIGGER = "enable_trigger"
    ROW_SECURITY = "row_security"  # ALTER TABLE ... ENABLE/DISABLE/FORCE/NO FORCE ROW LEVEL SECURITY
    CREATE_POLICY = "create_policy"
    OTHER = "other"


class Fill(StrEnum):
    """How ADD COLUMN fills the rows a table already has."""

    NULL = "null"  # nothing stored: catalog only
    CONSTANT = "constant"  # a non-volatile default, stored once in the catalog (PostgreSQL 11+)
    VOLATILE = "volatile"  # evaluated per row: the table is rewritten
    GENERATED = "generated"  # a stored generated column: computed per row, the table is rewritten


class Constraint(StrEnum):
    CHECK = "CHECK"
    FOREIGN_KEY = "FOREIGN KEY"
    UNIQUE = "UNIQUE"
    PRIMARY_KEY = "PRIMARY KEY"
    EXCLUSION = "EXCLUDE"


@dataclass(frozen=True)
class RowBound:
    """A WHERE clause that limits a statement to a range of one column: ``id BETWEEN 1 AND 5000``."""

    column: str
    rows: int  # at most this many rows if the column is unique
    text: str  # as written, for messages


@dataclass(frozen=True)
class Op:
    kind: OpKind
    statement: Statement
    table: TableRef | None = None
    name: str | None = None  # the column, index, constraint, type, schema or setting
    schema: str | None = None  # of an index or type named by ``name``
    new_name: str | None = None
    columns: tuple[str, ...] = ()
    references: tuple[TableRef, ...] = ()
    ref_columns: tuple[str, ...] = ()
    concurrent: bool = False
    unique: bool = False
    not_valid: bool = False
    constraint: Constraint | None = None
    using_index: str | None = None
    type_name: str | None = None  # a column's type, spelled as format_type() spells it
    fill: Fill | None = None
    filler: str | None = None  # what computes each row's value: "random()", "bigserial", ...
    filler_known_volatile: bool = True
    not_null: bool = False
    has_default: bool = False
    value: str | None = None  # an enum label, a setting's value (None: RESET / DEFAULT)
    where: bool = False
    cascade: bool = False
    using: bool = False  # ALTER COLUMN TYPE ... USING: the contents change, the table is rewritten
    reads: tuple[TableRef, ...] = ()
    lock_mode: int | None = None  # LOCK TABLE's mode, 1 (ACCESS SHARE) .. 8 (ACCESS EXCLUSIVE)
    checks_not_null: str | None = None  # CHECK (col IS NOT NULL): that column
    proves_not_null: tuple[str, ...] = ()  # a CHECK's IS NOT NULL tests joined by AND
    index_where: str | None = None  # a partial index's predicate, as written
    plain_columns: bool = True  # an index over plain columns (renderable as op.create_index)
    what: str = ""  # the command, for messages: "VACUUM FULL", "SET TABLESPACE"
    only: bool = False  # CREATE INDEX ... ON ONLY: the partitioned table itself, not its partitions
    partition: TableRef | None = None  # ATTACH/DETACH PARTITION: the partition
    partition_of: TableRef | None = None  # CREATE TABLE ... PARTITION OF: the partitioned table
    partition_key: tuple[str, ...] | None = None  # CREATE TABLE ... PARTITION BY: its plain key columns
    default_partition: bool = False  # CREATE TABLE ... PARTITION OF ... DEFAULT
    on_new_column: bool = False  # a constraint declared inline on a column this statement adds, all NULL
    bound: RowBound | None = None  # UPDATE/DELETE/SELECT limited to a key range: at most that many rows
    object_type: str | None = None  # for renames and moves: "index", "sequence", "view", "type", ...
    missing_ok: bool = False  # IF [NOT] EXISTS: the statement does nothing instead of failing

    @property
    def sql(self) -> str:
        return self.statement.first_line

    @property
    def label(self) -> str:
        """A short name for messages: 'ADD COLUMN status on providers', 'CREATE INDEX ix on providers'."""
        words = _LABELS.get(self.kind, self.statement.kind.removesuffix("Stmt").upper())
        if self.kind is OpKind.CREATE_INDEX and self.concurrent:
            words = "CREATE INDEX CONCURRENTLY"
        named = f"{words} {self.name}" if self.name and self.kind in _NAMED else words
        return f"{named} on {self.table}" if self.table and self.kind not in (OpKind.CREATE_TABLE,) else named


_LABELS = {
    OpKind.CREATE_TABLE: "CREATE TABLE",
    OpKind.CREATE_INDEX: "CREATE INDEX",
    OpKind.DROP_INDEX: "DROP INDEX",
    OpKind.ADD_COLUMN: "ADD COLUMN",
    OpKind.DROP_COLUMN: "DROP COLUMN",
    OpKind.ALTER_COLUMN_TYPE: "ALTER COLUMN TYPE",
    OpKind.SET_NOT_NULL: "SET NOT NULL",
    OpKind.ADD_CONSTRAINT: "ADD CONSTRAINT",
    OpKind.VALIDATE_CONSTRAINT: "VALIDATE CONSTRAINT",
    OpKind.RENAME_COLUMN: "RENAME COLUMN",
    OpKind.RENAME_TABLE: "RENAME TABLE",
    OpKind.ALTER_TABLE: "ALTER TABLE",
    OpKind.DROP_TABLE: "DROP TABLE",
    OpKind.TRUNCATE: "TRUNCATE",
    OpKind.LOCK_TABLE: "LOCK TABLE",
    OpKind.UPDATE: "UPDATE",
    OpKind.DELETE: "DELETE",
    OpKind.INSERT: "INSERT",
    OpKind.ATTACH_PARTITION: "ATTACH PARTITION",
    OpKind.DETACH_PARTITION: "DETACH PARTITION",
    OpKind.SET_SCHEMA: "SET SCHEMA",
    OpKind.RENAME_OBJECT: "RENAME",
    OpKind.RENAME_ENUM_VALUE: "RENAME VALUE",
    OpKind.DISABLE_TRIGGER: "DISABLE TRIGGER",
    OpKind.ENABLE_TRIGGER: "ENABLE TRIGGER",
    OpKind.ROW_SECURITY: "ROW LEVEL SECURITY",
    OpKind.CREATE_POLICY: "CREATE POLICY",
}


_NAMED = {
    OpKind.CREATE_INDEX,
    OpKind.DROP_INDEX,
    OpKind.ADD_COLUMN,
    OpKind.DROP_COLUMN,
    OpKind.ALTER_COLUMN_TYPE,
    OpKind.SET_NOT_NULL,
    OpKind.ADD_CONSTRAINT,
    OpKind.VALIDATE_CONSTRAINT,
    OpKind.RENAME_COLUMN,
}
