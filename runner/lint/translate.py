"""pglast's JSON parse tree turned into operations.

All knowledge of the parse tree's shape lives here and in ``runner.lint.alter``,
so the rules read like the PostgreSQL documentation ("ADD COLUMN with a volatile
default rewrites the table") instead of like a parse tree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from runner.lint import data_ops, objects
from runner.lint.alter import alter_table
from runner.lint.exprs import call_name, const_text, setting_value, walk_calls
from runner.lint.names import TableRef
from runner.lint.ops import Op, OpKind
from runner.lint.statements import Statement


def translate(statement: Statement) -> list[Op]:
    handler = _HANDLERS.get(statement.kind)
    if handler is None:
        return [Op(OpKind.OTHER, statement)]
    return list(handler(statement, statement.node))


def _create_table(statement: Statement, node: dict[str, Any]) -> Iterator[Op]:
    references = []
    for element in node.get("tableElts", ()):
        constraints = element["ColumnDef"].get("constraints", ()) if "ColumnDef" in element else [element]
        for item in constraints:
            constraint = item.get("Constraint", {})
            if constraint.get("contype") == "CONSTR_FOREIGN" and constraint.get("pktable"):
                references.append(TableRef.from_range_var(constraint["pktable"]))
    parents = [item.get("RangeVar", {}) for item in node.get("inhRelations", ())]
    bound = node.get("partbound")
    spec = node.get("partspec")
    yield Op(
        OpKind.CREATE_TABLE,
        statement,
        TableRef.from_range_var(node["relation"]),
        references=tuple(references),
        partition_of=TableRef.from_range_var(parents[0]) if bound and parents else None,
        default_partition=bool(bound and bound.get("is_default")),
        partition_key=_partition_key(spec) if spec else None,
        missing_ok=bool(node.get("if_not_exists")),
    )


def _partition_key(spec: dict[str, Any]) -> tuple[str, ...]:
    """The key's plain columns, with "" for each part that is an expression."""
    elements = [param.get("PartitionElem", {}) for param in spec.get("partParams", ())]
    return tuple(element.get("name") or "" for element in elements)


def _index(statement: Statement, node: dict[str, Any]) -> Iterator[Op]:
    columns = []
    plain = True
    for param in node.get("indexParams", ()):
        element = param.get("IndexElem", {})
        if element.get("name") and not element.get("expr"):
            columns.append(element["name"])
        else:
            plain = False
        if (
            element.get("opclass")
            or element.get("collation")
            or element.get("ordering")
            not in (
                None,
                "SORTBY_DEFAULT",
            )
        ):
            plain = False
    if (
        node.get("indexIncludingParams")
        or node.get("options")
        or node.get("accessMethod", "btree") != "btree"
    ):
        plain = False
    where = None
    if node.get("whereClause"):
        match = re.search(r"\bWHERE\b\s+(.*)$", statement.first_line, re.IGNORECASE)
        where = match[1].strip() if match else None
    yield Op(
        OpKind.CREATE_INDEX,
        statement,
        TableRef.from_range_var(node["relation"]),
        name=node.get("idxname"),
        columns=tuple(columns),
        concurrent=bool(node.get("concurrent")),
        unique=bool(node.get("unique")),
        index_where=where,
        plain_columns=plain,
        only=not node["relation"].get("inh", False),
        missing_ok=bool(node.get("if_not_exists")),
    )


def _drop(statement: Statement, node: dict[str, Any]) -> Iterator[Op]:
    remove = node.get("removeType")
    for item in node.get("objects", ()):
        if remove == "OBJECT_TABLE":
            table = TableRef.from_names(item.get("List", {}).get("items", []))
            yield Op(OpKind.DROP_TABLE, statement, table, missing_ok=bool(node.get("missing_ok")))
        elif remove == "OBJECT_INDEX":
            ref = TableRef.from_names(item.get("List", {}).get("items", []))
            yield Op(
                OpKind.DROP_INDEX,
                statement,
                name=ref.name,
                schema=ref.schema,
                concurrent=bool(node.get("concurrent")),
                missing_ok=bool(node.get("missing_ok")),
            )
        elif remove == "OBJECT_SCHEMA":
            yield Op(
                OpKind.DROP_SCHEMA,
                statement,
                name=str(item.get("String", {}).get("sval", "")),
                cascade=node.get("behavior") == "DROP_CASCADE",
            )
        else:
            yield Op(OpKind.OTHER, statement)


def _truncate(statement: Statement, node: dict[str, Any]) -> Iterator[Op]:
    for item in node.get("relations", ()):
        yield Op(OpKind.TRUNCATE, statement, TableRef.from_range_var(item.get("RangeVar", {})))


def _reindex(statement: Statement, node: dict[str, Any]) -> Iterator[Op]:
    concurrent = any(p.get("DefElem", {}).get("defname") == "concurrently" for p in node.get("params", ()))
    concurrent = concurrent or bool(node.get("concurrent"))  # pglast before PostgreSQL 14's grammar
    kind = node.get("kind", "")
    relation = node.get("relation")
    if relation and kind == "REINDEX_OBJECT_INDEX":
        ref = TableRef.from_range_var(relation)
        yield Op(OpKind.REINDEX, statement, name=ref.name, schema=ref.schema, concurrent=concurrent)
    elif relation:
        yield Op(OpKind.REINDEX, statement, TableRef.from_range_var(relation), concurrent=concurrent)
    else:
        yield Op(
            OpKind.REINDEX,
            statement,
            name=node.get("name"),
            concurrent=concurrent,
            what="REINDEX of a schema or database",
        )


def _lock(statement: Statement, node: dict[str, Any]) -> Iterator[Op]:
    for item in node.get("relations", ()):
        yield Op(
            OpKind.LOCK_TABLE,
            statement,
            TableRef.from_range_var(item.get("RangeVar", {})),
            lock_mode=int(node.get("mode", 8)),
        )


def _vacuum(statement: Statement, node: dict[str, Any]) -> Iterator[Op]:
    if not node.get("is_vacuumcmd"):
        yield Op(OpKind.OTHER, statement)  # ANALYZE runs fine inside a transaction
        return
    options = {o.get("DefElem", {}).get("defname") for o in node.get("options", ())}
    relations = [r.get("VacuumRelation", {}).get("relation", {}) for r in node.get("rels", ())]
    kind = OpKind.REWRITE_TABLE if "full" in options else OpKind.VACUUM
    if not relations:
        yield Op(kind, statement, what="VACUUM FULL" if "full" in options else "VACUUM")
    for relation in relations:
        yield Op(
            kind,
            statement,
            TableRef.from_range_var(relation),
            what="VACUUM FULL" if "full" in options else "VACUUM",
        )


def _cluster(statement: Statement, node: dict[str, Any]) -> Iterator[Op]:
    table = TableRef.from_range_var(node["relation"]) if node.get("relation") else None
    yield Op(OpKind.REWRITE_TABLE, statement, table, what="CLUSTER")


def _set(statement: Statement, node: dict[str, Any]) -> Iterator[Op]:
    kind = node.get("kind")
    name = node.get("name")
    if kind == "VAR_SET_VALUE":
        yield Op(OpKind.SET_SETTING, statement, name=name, value=setting_value(node.get("args", ())))
    elif kind in ("VAR_SET_DEFAULT", "VAR_RESET"):
        yield Op(OpKind.SET_SETTING, statement, name=name, value=None)
    else:
        yield Op(OpKind.OTHER, statement)


def _select(statement: Statement, node: dict[str, Any]) -> Iterator[Op]:
    """``SELECT set_config('lock_timeout', '0', false)`` changes a setting too; ``SELECT ... INTO`` copies."""
    if node.get("intoClause"):
        yield from data_ops.select_into(statement, node)
        return
    found = False
    for call in walk_calls(node.get("targetList", ())):
        if call_name(call) == "set_config":
            args = call.get("args", ())
            name = const_text(args[0]) if args else None
            if name:
                found = True
                yield Op(
                    OpKind.SET_SETTING,
                    statement,
                    name=name,
                    value=const_text(args[1]) if len(args) > 1 else None,
                )
    if not found:
        yield Op(OpKind.OTHER, statement)


_HANDLERS = {
    "CreateStmt": _create_table,
    "CreateTableAsStmt": data_ops.create_table_as,
    "IndexStmt": _index,
    "DropStmt": _drop,
    "RenameStmt": objects.rename,
    "AlterObjectSchemaStmt": objects.set_schema,
    "CreatePolicyStmt": objects.create_policy,
    "AlterTableStmt": alter_table,
    "AlterEnumStmt": objects.alter_enum,
    "CreateEnumStmt": objects.create_enum,
    "TruncateStmt": _truncate,
    "ReindexStmt": _reindex,
    "LockStmt": _lock,
    "VacuumStmt": _vacuum,
    "ClusterStmt": _cluster,
    "UpdateStmt": data_ops.update,
    "DeleteStmt": data_ops.delete,
    "InsertStmt": data_ops.insert,
    "VariableSetStmt": _set,
    "SelectStmt": _select,
}
