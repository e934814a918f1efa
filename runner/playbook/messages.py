"""pydantic's validation errors, said the way an operator reads them.

Each error becomes one ``Problem`` at the key that is wrong: what was found,
and what is allowed there (the allowed keys, the allowed values, the field's
own description). The models are walked along the error's location to find
those, so the messages follow the models without a second copy of them.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from runner.playbook.model import PlaybookModel
from runner.playbook.model_checks import CHECK_KINDS, CHECK_MODELS, TAG_PREFIX
from runner.playbook.problems import Path_, Problem

_TYPE_WORDS = {
    "string_type": "text",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "date_type": "a date as YYYY-MM-DD",
    "date_parsing": "a date as YYYY-MM-DD",
    "date_from_datetime_parsing": "a date as YYYY-MM-DD",
    "date_from_datetime_inexact": "a date as YYYY-MM-DD",
}

_CUSTOM = {
    "duration",
    "out_of_range",
    "time_of_day",
    "time_zone",
    "env_name",
    "lint_code",
    "check_kinds",
    "app_pattern",
}


def problems_from(errors: list[ErrorDetails]) -> list[Problem]:
    """One problem per error; a union's per-member noise is left out."""
    seen: set[tuple[Path_, str]] = set()
    found: list[Problem] = []
    for error in errors:
        problem = _problem(error)
        key = (problem.path, problem.message)
        if key not in seen:
            seen.add(key)
            found.append(problem)
    return found


def display_path(loc: tuple[Any, ...]) -> Path_:
    """The location as the operator sees it: no union tags, no pydantic key markers."""
    return tuple(
        part
        for part in loc
        if not (isinstance(part, str) and (part.startswith(TAG_PREFIX) or part == "[key]"))
    )


def _problem(error: ErrorDetails) -> Problem:
    loc = tuple(error["loc"])
    path = display_path(loc)
    kind = error["type"]
    found = show(error.get("input"))
    if kind == "extra_forbidden":
        return Problem(path, _unknown_key(loc))
    if kind == "missing":
        description = _description(loc)
        extra = f" ({description[0].lower()}{description[1:].rstrip('.')})" if description else ""
        return Problem(path, f"required key is missing{extra}")
    if kind in ("literal_error", "enum"):
        allowed = _literal_values(loc) or [str(error.get("ctx", {}).get("expected", ""))]
        if len(allowed) == 1:
            return Problem(path, f"must be {allowed[0]}, found {found}")
        return Problem(path, f"{found} is not one of {', '.join(allowed)}")
    if kind == "check_kind":
        return Problem(path, _check_kind(error.get("input")))
    if kind in _CUSTOM or kind == "value_error":
        message = str(error["msg"])
        return Problem(path, message.removeprefix("Value error, "))
    if kind in _TYPE_WORDS:
        return Problem(path, f"expected {_TYPE_WORDS[kind]}, found {found}")
    ctx = error.get("ctx") or {}
    if kind in ("greater_than_equal", "greater_than"):
        return Problem(path, f"must be at least {ctx.get('ge', ctx.get('gt'))}, found {found}")
    if kind in ("less_than_equal", "less_than"):
        return Problem(path, f"must be at most {ctx.get('le', ctx.get('lt'))}, found {found}")
    if kind in ("too_short", "string_too_short"):
        return Problem(path, "must not be empty")
    return Problem(path, f"{error['msg']}, found {found}")


def show(value: Any) -> str:
    """A found value, short: quoted text, a number, or what kind of thing it is."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(getattr(value, "raw", value))


def _unknown_key(loc: tuple[Any, ...]) -> str:
    key = str(loc[-1])
    model = _model_at(loc[:-1])
    if model is None:
        return "unknown key"
    allowed = sorted(model.model_fields, key=lambda name: name not in CHECK_KINDS)  # a check's kind key first
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    where = "at the top level" if not display_path(loc[:-1]) else "here"
    return f"unknown key {key!r}{hint}; the keys allowed {where} are {', '.join(allowed)}"


def _check_kind(value: Any) -> str:
    kinds = ", ".join(CHECK_KINDS)
    if isinstance(value, dict):
        keys = ", ".join(str(k) for k in value)
        close = [difflib.get_close_matches(str(k), CHECK_KINDS, n=1, cutoff=0.6) for k in value]
        hint = next((f" (did you mean {c[0]}?)" for c in close if c), "")
        found = (
            f"found {'the key' if len(value) == 1 else 'the keys'} {keys}{hint}" if value else "found none"
        )
        return f"a check names its kind with one of the keys {kinds}; {found}"
    return f"expected a check (a mapping with one of the keys {kinds}), found {show(value)}"


def _description(loc: tuple[Any, ...]) -> str | None:
    model = _model_at(loc[:-1])
    if model is None:
        return None
    field = model.model_fields.get(str(loc[-1]))
    return field.description if field is not None else None


def _literal_values(loc: tuple[Any, ...]) -> list[str]:
    annotation = _annotation_at(loc)
    for candidate in _members(annotation):
        if get_origin(candidate) is Literal:
            return [str(value) for value in get_args(candidate)]
    return []


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    found = _annotation_at(loc)
    for candidate in _members(found):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _annotation_at(loc: tuple[Any, ...]) -> Any:
    current: Any = PlaybookModel
    for part in loc:
        if isinstance(part, str) and part.startswith(TAG_PREFIX):
            current = CHECK_MODELS.get(part[len(TAG_PREFIX) :])
            continue
        if part == "[key]":
            return None
        current = _step(current, part)
        if current is None:
            return None
    return current


def _step(annotation: Any, part: Any) -> Any:
    for candidate in _members(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            field = candidate.model_fields.get(str(part))
            return field.annotation if field is not None else None
        origin = get_origin(candidate)
        if origin is dict:
            return get_args(candidate)[1]
        if origin is list and isinstance(part, int):
            return get_args(candidate)[0]
    return None


def _members(annotation: Any) -> list[Any]:
    """The alternatives of an annotation, without Annotated wrappers or None."""
    if annotation is None:
        return []
    if get_origin(annotation) is typing.Annotated:
        return _members(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        members: list[Any] = []
        for arg in get_args(annotation):
            if arg is not type(None):
                members.extend(_members(arg))
        return members
    return [annotation]
