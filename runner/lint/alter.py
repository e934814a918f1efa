"""ALTER TABLE, subcommand by subcommand: columns, constraints, and the lock each takes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from runner.lint.exprs import (
    KNOWN_VOLATILE,
    SERIAL_TYPES,
    column_names,
    not_null_test,
    proven_not_null,
    strings,
    type_base,
    type_text,
    volatile_call,
)
from runner.lint.names import TableRef
from runner.lint.ops import Constraint, Fill, Op, OpKind
from runner.lint.statements import Statement


def alter_table(statement: Statement, node: dict[str, Any]) -> Iterator[Op]:
    if node.get("objtype", "OBJECT_TABLE") != "OBJECT_TABLE":
        yield Op(OpKind.OTHER, statement)
        return
    table = TableRef.from_range_var(node["relation"])
    for item in node.get("cmds", ()):
        yield from _alter_command(statement, table, item.get("AlterTableCmd", {}))


_REWRITING_SUBTYPES = {
    "AT_SetTableSpace": "SET TABLESPACE",
    "AT_SetLogged": "SET LOGGED",
    "AT_SetUnLogged": "SET UNLOGGED",
}
# Subcommands that take less than ACCESS EXCLUSIVE (PostgreSQL's ALTER TABLE reference).
_WEAKER_SUBTYPES = {
    "AT_SetStatistics": 4,
    "AT_ClusterOn": 4,
    "AT_DropCluster": 4,
    "AT_SetRelOptions": 4,
    "AT_ResetRelOptions": 4,
}
# ENABLE/DISABLE TRIGGER take SHARE ROW EXCLUSIVE; the value says which triggers.
_TRIGGER_SUBTYPES = {
    "AT_EnableTrig": (OpKind.ENABLE_TRIGGER, None),
    "AT_EnableAlwaysTrig": (OpKind.ENABLE_TRIGGER, None),
    "AT_EnableReplicaTrig": (OpKind.ENABLE_TRIGGER, None),
    "AT_DisableTrig": (OpKind.DISABLE_TRIGGER, None),
    "AT_EnableTrigAll": (OpKind.ENABLE_TRIGGER, "ALL"),
    "AT_DisableTrigAll": (OpKind.DISABLE_TRIGGER, "ALL"),
    "AT_EnableTrigUser": (OpKind.ENABLE_TRIGGER, "USER"),
    "AT_DisableTrigUser": (OpKind.DISABLE_TRIGGER, "USER"),
}
_ROW_SECURITY_SUBTYPES = {
    "AT_EnableRowSecurity": "ENABLE",
    "AT_DisableRowSecurity": "DISABLE",
    "AT_ForceRowSecurity": "FORCE",
    "AT_NoForceRowSecurity": "NO FORCE",
}


def _alter_command(statement: Statement, table: TableRef, cmd: dict[str, Any]) -> Iterator[Op]:
    subtype: str = cmd.get("subtype") or ""
    if subtype == "AT_AddColumn":
        column = cmd.get("def", {}).get("ColumnDef", {})
        yield from _add_column(statement, table, column, missing_ok=bool(cmd.get("missing_ok")))
    elif subtype == "AT_DropColumn":
        yield Op(
            OpKind.DROP_COLUMN, statement, table, name=cmd.get("name"), missing_ok=bool(cmd.get("missing_ok"))
        )
    elif subtype == "AT_AlterColumnType":
        column = cmd.get("def", {}).get("ColumnDef", {})
        yield Op(
            OpKind.ALTER_COLUMN_TYPE,
            statement,
            table,
            name=cmd.get("name"),
            type_name=type_text(column.get("typeName", {})),
            using=bool(column.get("raw_default")),
        )
    elif subtype == "AT_SetNotNull":
        yield Op(OpKind.SET_NOT_NULL, statement, table, name=cmd.get("name"))
    elif subtype == "AT_AddConstraint":
        yield from _constraint(statement, table, cmd.get("def", {}).get("Constraint", {}))
    elif subtype == "AT_ValidateConstraint":
        yield Op(OpKind.VALIDATE_CONSTRAINT, statement, table, name=cmd.get("name"))
    elif subtype in ("AT_AttachPartition", "AT_DetachPartition", "AT_DetachPartitionFinalize"):
        command = cmd.get("def", {}).get("PartitionCmd", {})
        yield Op(
            OpKind.ATTACH_PARTITION if subtype == "AT_AttachPartition" else OpKind.DETACH_PARTITION,
            statement,
            table,
            partition=TableRef.from_range_var(command.get("name", {})),
            concurrent=bool(command.get("concurrent")),
            default_partition=bool(command.get("bound", {}).get("is_default")),
            what="FINALIZE" if subtype == "AT_DetachPartitionFinalize" else "",
        )
    elif subtype in _TRIGGER_SUBTYPES:
        kind, which = _TRIGGER_SUBTYPES[subtype]
        yield Op(kind, statement, table, name=cmd.get("name"), value=which, lock_mode=6)
    elif subtype in _ROW_SECURITY_SUBTYPES:
        yield Op(OpKind.ROW_SECURITY, statement, table, value=_ROW_SECURITY_SUBTYPES[subtype], lock_mode=8)
    elif subtype in _REWRITING_SUBTYPES:
        yield Op(
            OpKind.REWRITE_TABLE, statement, table, what=f"ALTER TABLE ... {_REWRITING_SUBTYPES[subtype]}"
        )
    else:
        yield Op(
            OpKind.ALTER_TABLE,
            statement,
            table,
            name=cmd.get("name"),
            lock_mode=_WEAKER_SUBTYPES.get(subtype, 8),
        )


def _add_column(
    statement: Statement, table: TableRef, column: dict[str, Any], *, missing_ok: bool = False
) -> Iterator[Op]:
    name = column.get("colname")
    type_node = column.get("typeName", {})
    type_name = type_text(type_node)
    fill, filler, known = Fill.NULL, None, True
    not_null = has_default = False
    extra: list[dict[str, Any]] = []  # constraints declared with the column
    base = type_base(type_node)
    if base in SERIAL_TYPES:
        fill, filler, not_null, has_default = Fill.VOLATILE, base, True, True
    for item in column.get("constraints", ()):
        constraint = item.get("Constraint", {})
        contype = constraint.get("contype")
        if contype == "CONSTR_NOTNULL":
            not_null = True
        elif contype == "CONSTR_DEFAULT":
            has_default = True
            volatile = volatile_call(constraint.get("raw_expr"))
            if volatile is None:
                fill = Fill.CONSTANT if fill is Fill.NULL else fill
            else:
                fill, filler, known = Fill.VOLATILE, volatile, volatile.split("(")[0] in KNOWN_VOLATILE
        elif contype == "CONSTR_IDENTITY":
            fill, filler, has_default, not_null = Fill.VOLATILE, "an identity sequence", True, True
        elif contype == "CONSTR_GENERATED" and constraint.get("generated_kind", "s") == "s":
            fill, filler, has_default = Fill.GENERATED, "its generation expression", True
        elif contype in ("CONSTR_PRIMARY", "CONSTR_UNIQUE", "CONSTR_FOREIGN", "CONSTR_CHECK"):
            extra.append(constraint)
    yield Op(
        OpKind.ADD_COLUMN,
        statement,
        table,
        name=name,
        type_name=type_name,
        fill=fill,
        filler=filler,
        filler_known_volatile=known,
        not_null=not_null,
        has_default=has_default,
        missing_ok=missing_ok,
    )
    for constraint in extra:
        for op in _constraint(statement, table, constraint, column=name):
            # PostgreSQL marks a foreign key declared on a new column without a default valid
            # without checking a row: every value is NULL (checked on PostgreSQL 15).
            empty = fill is Fill.NULL and op.constraint is Constraint.FOREIGN_KEY
            yield replace(op, on_new_column=True) if empty else op


def _constraint(
    statement: Statement, table: TableRef, constraint: dict[str, Any], column: str | None = None
) -> Iterator[Op]:
    contype = constraint.get("contype")
    name = constraint.get("conname")
    not_valid = bool(constraint.get("skip_validation"))
    if contype == "CONSTR_CHECK":
        yield Op(
            OpKind.ADD_CONSTRAINT,
            statement,
            table,
            name=name,
            constraint=Constraint.CHECK,
            not_valid=not_valid,
            checks_not_null=not_null_test(constraint.get("raw_expr")),
            columns=column_names(constraint.get("raw_expr")),
            proves_not_null=proven_not_null(constraint.get("raw_expr")),
        )
    elif contype == "CONSTR_FOREIGN":
        columns = strings(constraint.get("fk_attrs", ())) or ((column,) if column else ())
        yield Op(
            OpKind.ADD_CONSTRAINT,
            statement,
            table,
            name=name,
            constraint=Constraint.FOREIGN_KEY,
            not_valid=not_valid,
            columns=columns,
            references=(TableRef.from_range_var(constraint.get("pktable", {})),),
            ref_columns=strings(constraint.get("pk_attrs", ())),
        )
    elif contype in ("CONSTR_UNIQUE", "CONSTR_PRIMARY"):
        columns = strings(constraint.get("keys", ())) or ((column,) if column else ())
        yield Op(
            OpKind.ADD_CONSTRAINT,
            statement,
            table,
            name=name,
            constraint=Constraint.UNIQUE if contype == "CONSTR_UNIQUE" else Constraint.PRIMARY_KEY,
            using_index=constraint.get("indexname"),
            columns=columns,
        )
    elif contype == "CONSTR_EXCLUSION":
        yield Op(OpKind.ADD_CONSTRAINT, statement, table, name=name, constraint=Constraint.EXCLUSION)
    elif contype == "CONSTR_NOTNULL":  # PostgreSQL 18: ADD CONSTRAINT name NOT NULL col
        keys = strings(constraint.get("keys", ()))
        yield Op(OpKind.SET_NOT_NULL, statement, table, name=keys[0] if keys else column)
    else:
        yield Op(OpKind.ALTER_TABLE, statement, table, name=name, lock_mode=8)
