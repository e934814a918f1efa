"""Statements on named objects: renames, moves to another schema, enum values, policies.

What these statements risk depends on who names the object: the application
names tables, views, types, functions and enum labels in its queries, while the
database itself refers to indexes, sequences and constraints by OID. The kind of
object is kept on the operation (``object_type``) so the rules can tell them apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from runner.lint.exprs import strings
from runner.lint.names import TableRef
from runner.lint.ops import Op, OpKind
from runner.lint.statements import Statement

# renameType / objectType -> the words used in messages
OBJECT_TYPES = {
    "OBJECT_TABLE": "table",
    "OBJECT_VIEW": "view",
    "OBJECT_MATVIEW": "materialized view",
    "OBJECT_FOREIGN_TABLE": "foreign table",
    "OBJECT_INDEX": "index",
    "OBJECT_SEQUENCE": "sequence",
    "OBJECT_TYPE": "type",
    "OBJECT_DOMAIN": "domain",
    "OBJECT_FUNCTION": "function",
    "OBJECT_PROCEDURE": "procedure",
    "OBJECT_ROUTINE": "routine",
    "OBJECT_SCHEMA": "schema",
    "OBJECT_TABCONSTRAINT": "constraint",
    "OBJECT_DOMCONSTRAINT": "constraint",
    "OBJECT_TRIGGER": "trigger",
    "OBJECT_POLICY": "policy",
    "OBJECT_COLUMN": "column",
    "OBJECT_ATTRIBUTE": "attribute",
}
_RELATIONS = {"table", "view", "materialized view", "foreign table", "index", "sequence"}


def rename(statement: Statement, node: dict[str, Any]) -> Iterator[Op]:
    kind = node.get("renameType")
    table = TableRef.from_range_var(node["relation"]) if node.get("relation") else None
    if kind == "OBJECT_COLUMN" and node.get("relationType") in (None, "OBJECT_TABLE"):
        yield Op(
            OpKind.RENAME_COLUMN, statement, table, name=node.get("subname"), new_name=node.get("newname")
        )
    elif kind == "OBJECT_TABLE":
        yield Op(OpKind.RENAME_TABLE, statement, table, new_name=node.get("newname"))
    elif kind in OBJECT_TYPES:
        what = OBJECT_TYPES[kind]
        if what in _RELATIONS and table is not None:
            # the object itself is the relation: ALTER INDEX ix RENAME TO ...
            name, schema, table = table.name, table.schema, None
        elif node.get("subname"):
            name, schema = node["subname"], None  # a constraint, trigger or policy of ``table``, or a schema
        else:
            ref = _object_name(node.get("object"))
            name, schema = ref.name, ref.schema
        yield Op(
            OpKind.RENAME_OBJECT,
            statement,
            table,
            name=name,
            schema=schema,
            new_name=node.get("newname"),
            object_type=what,
        )
    else:
        yield Op(OpKind.OTHER, statement)


def set_schema(statement: Statement, node: dict[str, Any]) -> Iterator[Op]:
    what = OBJECT_TYPES.get(node.get("objectType", ""), "object")
    if node.get("relation"):
        ref = TableRef.from_range_var(node["relation"])
    else:
        ref = _object_name(node.get("object"))
    table = ref if what == "table" else None
    yield Op(
        OpKind.SET_SCHEMA,
        statement,
        table,
        name=ref.name,
        schema=ref.schema,
        new_name=node.get("newschema"),
        object_type=what,
    )


def alter_enum(statement: Statement, node: dict[str, Any]) -> Iterator[Op]:
    ref = TableRef.from_names(node.get("typeName", []))
    if node.get("newVal") is not None and node.get("oldVal") is None:
        yield Op(
            OpKind.ADD_ENUM_VALUE,
            statement,
            name=ref.name,
            schema=ref.schema,
            value=node["newVal"],
            missing_ok=bool(node.get("skipIfNewValExists")),
        )
    elif node.get("newVal") is not None:
        yield Op(
            OpKind.RENAME_ENUM_VALUE,
            statement,
            name=ref.name,
            schema=ref.schema,
            value=node["oldVal"],
            new_name=node["newVal"],
        )
    else:
        yield Op(OpKind.OTHER, statement)


def create_enum(statement: Statement, node: dict[str, Any]) -> Iterator[Op]:
    ref = TableRef.from_names(node.get("typeName", []))
    yield Op(OpKind.CREATE_TYPE, statement, name=ref.name, schema=ref.schema)


def create_policy(statement: Statement, node: dict[str, Any]) -> Iterator[Op]:
    yield Op(
        OpKind.CREATE_POLICY,
        statement,
        TableRef.from_range_var(node.get("table", {})),
        name=node.get("policy_name"),
        value=str(node.get("cmd_name") or "all").upper(),
        what="PERMISSIVE" if node.get("permissive") else "RESTRICTIVE",  # false is left out of the tree
    )


def _object_name(node: Any) -> TableRef:
    """A dotted name given as a List of Strings, or a function's ObjectWithArgs."""
    node = node or {}
    if "ObjectWithArgs" in node:
        return TableRef.from_names(node["ObjectWithArgs"].get("objname", []))
    if "List" in node:
        return TableRef.from_names(node["List"].get("items", []))
    if "String" in node:
        return TableRef(strings([node])[0])
    return TableRef("")
