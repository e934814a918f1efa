"""Expressions and type names in the parse tree: volatility, format_type() spelling, constants."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from runner.lint.names import TableRef

KNOWN_VOLATILE = {
    "random",
    "clock_timestamp",
    "timeofday",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "nextval",
    "setval",
    "random_normal",
    "txid_current",
}
# Functions often used in defaults that are STABLE or IMMUTABLE: evaluated once for ADD COLUMN.
KNOWN_NON_VOLATILE = {
    "now",
    "transaction_timestamp",
    "statement_timestamp",
    "current_setting",
    "lower",
    "upper",
    "btrim",
    "concat",
    "to_jsonb",
    "to_json",
    "jsonb_build_object",
    "json_build_object",
    "jsonb_build_array",
    "json_build_array",
    "make_date",
    "make_timestamp",
    "make_timestamptz",
    "make_interval",
    "date_trunc",
    "timezone",
    "array_fill",
    "length",
    "abs",
    "round",
}
SERIAL_TYPES = {"serial", "bigserial", "smallserial", "serial4", "serial8", "serial2"}
_TYPE_NAMES = {
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "float4": "real",
    "float8": "double precision",
    "bool": "boolean",
    "varchar": "character varying",
    "bpchar": "character",
    "timestamptz": "timestamp with time zone",
    "timestamp": "timestamp without time zone",
    "timetz": "time with time zone",
    "time": "time without time zone",
    "varbit": "bit varying",
    "int": "integer",
    "decimal": "numeric",
}


def volatile_call(expression: Any) -> str | None:
    """The first function in ``expression`` not known to be STABLE or IMMUTABLE, as ``name()``."""
    for call in walk_calls(expression):
        name = call_name(call)
        if name not in KNOWN_NON_VOLATILE:
            return f"{name}()"
    return None


def type_text(type_node: dict[str, Any]) -> str:
    """A TypeName as ``format_type()`` would print it: ``character varying(200)``, ``bigint[]``."""
    base = type_base(type_node)
    name = _TYPE_NAMES.get(base, base)
    modifiers = [str(const_value(m)) for m in type_node.get("typmods", ())]
    text = f"{name}({','.join(modifiers)})" if modifiers else name
    if name.startswith("timestamp") and modifiers:
        zone = name.removeprefix("timestamp")
        text = f"timestamp({','.join(modifiers)}){zone}"
    return text + "[]" * len(type_node.get("arrayBounds", ()))


def type_base(type_node: dict[str, Any]) -> str:
    names = [n.get("String", {}).get("sval", "") for n in type_node.get("names", ())]
    names = [n for n in names if n != "pg_catalog"]
    return ".".join(names) if names else ""


def walk_calls(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "FuncCall":
                yield value
            yield from walk_calls(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from walk_calls(item)


def call_name(call: dict[str, Any]) -> str:
    names = call.get("funcname", ())
    return str(names[-1].get("String", {}).get("sval", "")) if names else ""


def range_vars(node: Any) -> Iterator[TableRef]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "RangeVar":
                yield TableRef.from_range_var(value)
            else:
                yield from range_vars(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from range_vars(item)


def not_null_test(expression: Any) -> str | None:
    test = (expression or {}).get("NullTest")
    if not test or test.get("nulltesttype") != "IS_NOT_NULL":
        return None
    fields = test.get("arg", {}).get("ColumnRef", {}).get("fields", ())
    names = strings(fields)
    return names[-1] if names else None


def strings(items: Any) -> tuple[str, ...]:
    return tuple(str(item.get("String", {}).get("sval", "")) for item in items if "String" in item)


def const_value(node: dict[str, Any]) -> Any:
    const = node.get("A_Const", node)
    if "ival" in const:
        return const["ival"].get("ival", 0)
    if "sval" in const:
        return const["sval"].get("sval", "")
    if "fval" in const:
        return const["fval"].get("fval", "0")
    if "boolval" in const:
        return bool(const["boolval"].get("boolval", False))
    return None


def const_text(node: dict[str, Any]) -> str | None:
    if "TypeCast" in node:
        node = node["TypeCast"].get("arg", {})
    if "A_Const" not in node:
        return None
    value = const_value(node)
    return None if value is None else str(value)


def setting_value(args: Any) -> str | None:
    values = [const_text(a) for a in args]
    if len(values) == 1 and values[0] is not None:
        return values[0]
    return " ".join(v for v in values if v is not None) or None


def column_names(node: Any) -> tuple[str, ...]:
    """Every column an expression refers to, in order of appearance, once each."""
    found: dict[str, None] = {}

    def visit(item: Any) -> None:
        if isinstance(item, dict):
            for key, value in item.items():
                if key == "ColumnRef":
                    names = strings(value.get("fields", ()))
                    if names:
                        found.setdefault(names[-1], None)
                else:
                    visit(value)
        elif isinstance(item, list | tuple):
            for element in item:
                visit(element)

    visit(node)
    return tuple(found)


def proven_not_null(expression: Any) -> tuple[str, ...]:
    """Columns an expression proves NOT NULL: IS NOT NULL tests, alone or joined by AND."""
    node = expression or {}
    boolean = node.get("BoolExpr", {})
    terms = boolean.get("args", ()) if boolean.get("boolop") == "AND_EXPR" else [node]
    return tuple(column for column in (not_null_test(term) for term in terms) if column)
