"""Reading a playbook file: YAML with line numbers, then shape, then consistency.

ruamel.yaml's round-trip loader keeps the line of every key and list item, so
every problem can name the line to edit. Plain scalars that YAML would read as
numbers keep their written text (``20260131_0000`` is a revision, not
202601310000). Problems are collected, not raised one at a time: an operator
fixing a playbook sees all of them at once, each as one paragraph, and never a
traceback.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from runner.playbook import consistency
from runner.playbook.book import Playbook
from runner.playbook.build import build
from runner.playbook.messages import problems_from
from runner.playbook.model import PlaybookModel
from runner.playbook.problems import InvalidPlaybook, Locations, Path_, Problem, raise_if_errors, render_all
from runner.playbook.scalars import RawFloat, RawInt

TOP_LEVEL_KEYS = ", ".join(PlaybookModel.model_fields)


class _Constructor(RoundTripConstructor):
    """Numbers keep the text they were written as; a value YAML can't build is an error at its line."""

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:  # 2026-13-45, an integer of 5000 digits
            raise ConstructorError(None, None, _unreadable(node, exc), node.start_mark) from None

    def construct_yaml_int(self, node: Any) -> Any:
        value = super().construct_yaml_int(node)
        return value if isinstance(value, bool) else RawInt(int(value), str(node.value))

    def construct_yaml_float(self, node: Any) -> Any:
        return RawFloat(float(super().construct_yaml_float(node)), str(node.value))


def _unreadable(node: Any, exc: Exception) -> str:
    text = str(node.value) if isinstance(node.value, str) else ""
    shown = repr(text) if len(text) <= 40 else f"{text[:20]!r}... ({len(text)} characters)"
    reason = "it has too many digits" if "digits" in str(exc) else str(exc)
    kind = node.tag.rsplit(":", 1)[-1]
    return f"{shown} can't be read as {_KINDS.get(kind, kind)} ({reason})"


_KINDS = {"int": "a whole number", "float": "a number", "timestamp": "a date"}


_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor.construct_yaml_int)
_Constructor.add_constructor("tag:yaml.org,2002:float", _Constructor.construct_yaml_float)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    return yaml


def load_playbook(path: str | Path) -> Playbook:
    """Read, check shape and consistency, and build the playbook; InvalidPlaybook on any problem."""
    source = str(path)
    text, digest = _read(Path(path), source)
    data, locations = parse_yaml(text, source)
    if not isinstance(data, dict):
        found = "nothing (the file is empty)" if data is None else f"a {type(data).__name__}"
        message = f"a playbook is a mapping with the keys {TOP_LEVEL_KEYS}; found {found}"
        raise InvalidPlaybook(source, [Problem((), message, line=1).render(source, locations)])
    try:
        model = PlaybookModel.model_validate(data)
    except ValidationError as exc:
        raise InvalidPlaybook(source, render_all(problems_from(exc.errors()), source, locations)) from None
    raise_if_errors(consistency.problems(model), source, locations)
    return build(model, Path(path).resolve(), source, digest, locations)


def _read(path: Path, source: str) -> tuple[str, str]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InvalidPlaybook(source, [f"{source}: no such playbook file."]) from None
    except IsADirectoryError:
        raise InvalidPlaybook(source, [f"{source}: is a directory, not a playbook file."]) from None
    except OSError as exc:
        raise InvalidPlaybook(source, [f"{source}: can't be read ({exc.strerror})."]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidPlaybook(source, [f"{source} line {line}: is not UTF-8 text."]) from None
    return text, hashlib.sha256(raw).hexdigest()


def parse_yaml(text: str, source: str) -> tuple[Any, Locations]:
    """Plain Python data (string keys) and the line of every key and item."""
    try:
        document = _yaml().load(text)
        lines: dict[Path_, int] = {}
        return _plain(document, (), lines), Locations(lines)
    except MarkedYAMLError as exc:
        raise InvalidPlaybook(source, [_yaml_error(exc, source, text)]) from None
    except YAMLError as exc:
        raise InvalidPlaybook(source, [f"{source}: is not valid YAML ({exc})."]) from None
    except RecursionError:  # the parser and the walk recurse once per level
        raise InvalidPlaybook(
            source, [f"{source}: is nested too deeply to be read; a playbook is a few levels deep."]
        ) from None


def _yaml_error(exc: MarkedYAMLError, source: str, text: str) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f"{source} line {mark.line + 1}" if mark is not None else source
    problem = str(exc.problem or exc.context or "not valid YAML")
    duplicate = re.match(r'found duplicate key "(.*)" with value', problem)
    if duplicate:
        key = duplicate[1]
        if mark is not None:  # the key as written: YAML has already turned 20260131_0000 into a number
            key = text.splitlines()[mark.line][mark.column :].split(":")[0].strip() or key
        return (
            f"{where}: the key {key!r} appears twice in the same mapping; YAML would keep only one of "
            "them, so remove or rename the other."
        )

    context = f" ({exc.context})" if exc.context and exc.problem else ""
    return f"{where}: is not valid YAML: {problem}{context}."


def _key_text(key: Any) -> str:
    if isinstance(key, RawInt | RawFloat):
        return key.raw
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


def _plain(node: Any, path: Path_, lines: dict[Path_, int]) -> Any:
    if isinstance(node, CommentedMap):
        result: dict[str, Any] = {}
        for key, value in node.items():
            text = _key_text(key)
            lines[(*path, text)] = _line(node, key, path, lines, mapping=True)
            result[text] = _plain(value, (*path, text), lines)
        return result
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            lines[(*path, index)] = _line(node, index, path, lines, mapping=False)
            items.append(_plain(value, (*path, index), lines))
        return items
    if isinstance(node, str):
        return str(node)
    return node


def _line(node: Any, key: Any, path: Path_, lines: dict[Path_, int], *, mapping: bool) -> int:
    try:
        position = node.lc.key(key) if mapping else node.lc.item(key)
        return int(position[0]) + 1
    except (
        KeyError,
        TypeError,
        AttributeError,
        IndexError,
    ):  # merged keys (<<) have no position of their own
        return lines.get(path, 1)
