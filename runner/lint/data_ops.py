"""Data statements as operations, with the tables they read and the rows they can touch.

UPDATE, DELETE, INSERT ... SELECT, CREATE TABLE ... AS and SELECT ... INTO take
their time from the rows they touch: a WHERE clause that bounds a key
(``runner.lint.bounds``) limits that to a batch, which rules judge by its bound.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from runner.lint.bounds import row_bound
from runner.lint.exprs import range_vars
from runner.lint.names import TableRef
from runner.lint.ops import Op, OpKind, RowBound
from runner.lint.statements import Statement


def create_table_as(statement: Statement, node: dict[str, Any]) -> Iterator[Op]:
    into = node.get("into", {}).get("rel", {})
    query = node.get("query", {}).get("SelectStmt", {})
    yield Op(
        OpKind.CREATE_TABLE,
        statement,
        TableRef.from_range_var(into),
        reads=tuple(range_vars(node)),
        bound=select_bound(query),
        where=bool(query.get("whereClause")),
        what="CREATE TABLE AS",
    )


def select_bound(select: dict[str, Any]) -> RowBound | None:
    """A SELECT from one table whose WHERE clause bounds a key."""
    sources = select.get("fromClause", ())
    if len(sources) != 1 or "RangeVar" not in sources[0]:
        return None
    return row_bound(select.get("whereClause"))


def update(statement: Statement, node: dict[str, Any]) -> Iterator[Op]:
    reads = tuple(r for item in node.get("fromClause", ()) for r in range_vars(item))
    yield Op(
        OpKind.UPDATE,
        statement,
        TableRef.from_range_var(node["relation"]),
        where=bool(node.get("whereClause")),
        reads=reads,
        bound=row_bound(node.get("whereClause")),
    )


def delete(statement: Statement, node: dict[str, Any]) -> Iterator[Op]:
    yield Op(
        OpKind.DELETE,
        statement,
        TableRef.from_range_var(node["relation"]),
        where=bool(node.get("whereClause")),
        bound=row_bound(node.get("whereClause")),
    )


def insert(statement: Statement, node: dict[str, Any]) -> Iterator[Op]:
    select = node.get("selectStmt", {})
    reads = tuple(range_vars(select))
    yield Op(
        OpKind.INSERT,
        statement,
        TableRef.from_range_var(node["relation"]),
        reads=reads,
        bound=select_bound(select.get("SelectStmt", {})),
        where=bool(select.get("SelectStmt", {}).get("whereClause")),
    )


def select_into(statement: Statement, node: dict[str, Any]) -> Iterator[Op]:
    """SELECT ... INTO copies like CREATE TABLE ... AS."""
    yield Op(
        OpKind.CREATE_TABLE,
        statement,
        TableRef.from_range_var(node["intoClause"].get("rel", {})),
        reads=tuple(range_vars({k: v for k, v in node.items() if k != "intoClause"})),
        bound=select_bound(node),
        where=bool(node.get("whereClause")),
        what="SELECT INTO",
    )
