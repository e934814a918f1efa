"""How many rows a data statement can touch when its WHERE clause bounds a key.

``UPDATE t SET ... WHERE id BETWEEN 1 AND 5000`` is one batch of a backfill, not a
change to the whole table: if ``id`` is unique it touches at most 5,000 rows.
Only conditions joined by AND at the top of the WHERE clause count, on one plain
column compared with integer constants (BETWEEN, >=, >, <=, <, =, IN). Whether
the column is unique is decided where the table is known (``StepContext``).
"""

from __future__ import annotations

from typing import Any

from runner.lint.exprs import const_value, strings
from runner.lint.ops import RowBound

_LOWER = {">=": 0, ">": 1}
_UPPER = {"<=": 0, "<": -1}
_FLIP = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "=": "="}


def row_bound(where: Any) -> RowBound | None:
    """The tightest bound the top-level conditions put on one column, or None."""
    if not where:
        return None
    terms = where["BoolExpr"]["args"] if _is_and(where) else [where]
    lows: dict[str, int] = {}
    highs: dict[str, int] = {}
    exact: dict[str, tuple[int, str]] = {}
    for term in terms:
        expr = term.get("A_Expr") if isinstance(term, dict) else None
        if not expr:
            continue
        found = _condition(expr)
        if found is None:
            continue
        column, operator, values = found
        if operator == "between":
            lows[column] = max(lows.get(column, values[0]), values[0])
            highs[column] = min(highs.get(column, values[1]), values[1])
        elif operator in _LOWER:
            lows[column] = max(lows.get(column, values[0] + _LOWER[operator]), values[0] + _LOWER[operator])
        elif operator in _UPPER:
            highs[column] = min(highs.get(column, values[0] + _UPPER[operator]), values[0] + _UPPER[operator])
        elif operator == "=":
            exact[column] = (1, f"{column} = {values[0]}")
        elif operator == "in":
            exact[column] = (len(set(values)), f"{column} IN ({len(set(values))} values)")
    candidates = [RowBound(column, rows, text) for column, (rows, text) in exact.items()]
    for column in lows.keys() & highs.keys():
        low, high = lows[column], highs[column]
        candidates.append(RowBound(column, max(high - low + 1, 0), f"{column} from {low:,} to {high:,}"))
    return min(candidates, key=lambda b: b.rows, default=None)


def _is_and(node: dict[str, Any]) -> bool:
    boolop: object = node.get("BoolExpr", {}).get("boolop")
    return boolop == "AND_EXPR"


def _condition(expr: dict[str, Any]) -> tuple[str, str, list[int]] | None:
    kind = expr.get("kind")
    operator = "".join(strings(expr.get("name", ())))
    left, right = expr.get("lexpr"), expr.get("rexpr")
    if kind == "AEXPR_BETWEEN":
        column, items = _column(left), _ints((right or {}).get("List", {}).get("items", ()))
        return (column, "between", items) if column and items and len(items) == 2 else None
    if kind == "AEXPR_IN" and operator == "=":
        column, items = _column(left), _ints((right or {}).get("List", {}).get("items", ()))
        return (column, "in", items) if column and items else None
    if kind != "AEXPR_OP" or operator not in _FLIP:
        return None
    column = _column(left)
    values = _ints([right]) if column else []
    if column and values:
        return column, operator, values
    column = _column(right)
    values = _ints([left]) if column else []
    if column and values:
        return column, _FLIP[operator], values
    return None


def _column(node: Any) -> str | None:
    fields = (node or {}).get("ColumnRef", {}).get("fields", ())
    names = strings(fields)
    return names[-1] if names and len(names) == len(fields) else None


def _ints(items: Any) -> list[int]:
    """Integer constants, or [] if any item is something else."""
    values = []
    for item in items:
        if not isinstance(item, dict):
            return []
        node = item.get("TypeCast", {}).get("arg", item)
        value = const_value(node) if "A_Const" in node else None
        if isinstance(value, bool) or not isinstance(value, int):
            return []
        values.append(value)
    return values
