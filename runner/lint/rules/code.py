"""Paste-ready Alembic snippets with the migration's real names.

Each rule's help shows the safer version as code an operator can copy into the
revision; these helpers keep the quoting and indentation of those snippets
consistent across rules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence

from runner.lint.names import TableRef

INDENT = "    "


def py(value: str | None) -> str:
    """A Python string literal (double-quoted), or None."""
    return "None" if value is None else json.dumps(value, ensure_ascii=False)


def py_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(py(v) for v in values) + "]"


def table_args(table: TableRef) -> str:
    """The table argument of an op.* call, with schema= when it is qualified."""
    return py(table.name) + (f", schema={py(table.schema)}" if table.schema else "")


def block(*lines: str, autocommit: bool = False) -> str:
    """Indented code lines; inside ``autocommit_block()`` when the statement can't run in a transaction."""
    body = list(lines)
    if autocommit:
        body = ["with op.get_context().autocommit_block():", *(INDENT + line for line in body)]
    return "\n".join(INDENT + line if line else "" for line in body)


def concurrently(sql: str, keyword: str = "INDEX") -> str:
    """The same CREATE/DROP/REINDEX statement with CONCURRENTLY added."""
    pattern = rf"^(\s*(?:CREATE\s+(?:UNIQUE\s+)?|DROP\s+|REINDEX\s+(?:\([^)]*\)\s*)?)(?:{keyword}))\s+"
    return re.sub(pattern, r"\1 CONCURRENTLY ", sql, count=1, flags=re.IGNORECASE)


def joined(names: Iterable[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(names)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def parenthesized_after(sql: str, keyword: str) -> str:
    """The text inside the parentheses that follow ``keyword`` (a regex): CHECK (...), AS (...)."""
    start = re.search(rf"\b{keyword}\s*\(", sql, re.IGNORECASE)
    if not start:
        return "..."
    depth, begin = 0, start.end() - 1
    for position in range(begin, len(sql)):
        depth += {"(": 1, ")": -1}.get(sql[position], 0)
        if depth == 0:
            return sql[begin + 1 : position].strip()
    return "..."
