"""Fuzzed playbook files: generated from the playbook's JSON Schema, written as YAML, then damaged.

A case is built in three layers, each drawn by hypothesis so a failure shrinks
to the smallest file that shows it:

1. a document from ``PlaybookModel.model_json_schema()`` (``schema_strategy``),
   with hints that name the example project's revisions, its alembic.ini and the
   variable holding the test database's URL, or one of the example playbooks
   pointed at the same, so many cases reach the checks of meaning and some run;
2. changes to the data: a value of the wrong type (huge and negative numbers,
   NaN, unicode, very long text, lists, mappings, binary), an unknown key, a key
   removed, a value nested deeply;
3. changes to the YAML text and bytes: anchors and aliases, tags, duplicate
   keys, unquoted ``20260131_0000``-like numbers, dates that don't exist, huge
   numbers, deep flow nesting, very long lines, null bytes, a BOM, a second
   document, lines cut, inserted or repeated, invalid UTF-8.

With ``safe=True`` (cases the command line runs) the audit log is always
``audit.jsonl`` beside the playbook and no ``env_py_wrapper`` is named, so a
case can't make the runner write outside its directory or import a module.
"""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from ruamel.yaml import YAML

from runner.playbook.loader import parse_yaml
from runner.playbook.model import PlaybookModel
from runner.playbook.scalars import RawFloat, RawInt, plain, raw_text
from tests.conftest import EXAMPLE_INI, ROOT
from tests.fuzz.schema_strategy import KEY, SchemaStrategy
from tests.fuzz.target import CLOSED_PORT, URL_ENV
from tests.fuzz.yaml_damage import AUDIT_LOG, change_bytes, change_text

REVISIONS = (
    "20260101_0100",
    "20260108_0100",
    "20260115_0200",
    "20260115_0300",
    "20260127_0100",
    "7702d353e5b8",
    "20260131_0000",
)
PLAYBOOKS = ROOT / "playbooks"

_revision = st.sampled_from((*REVISIONS, "head", "heads", "base", "7702", "2026"))
HINTS: dict[str, st.SearchStrategy[Any]] = {
    "alembic_config": st.just(str(EXAMPLE_INI)),
    "target_revision": _revision,
    "from_revision": _revision,
    "rollback_to": _revision,
    "revision": _revision,
    f"steps{KEY}": _revision,
    "url_env": st.just(URL_ENV),
    "environment": st.sampled_from(("rehearsal", "rehearsal", "staging", "production")),
    "log": st.just(AUDIT_LOG),
    "rehearsal_log": st.sampled_from(("rehearsal.jsonl", "missing/rehearsal.jsonl")),
    "env_py_wrapper": st.just("fuzz_no_such_module:wrap"),
    "timezone": st.sampled_from(
        ("UTC", "America/New_York", "Europe/London", "Asia/Kolkata", "Pacific/Chatham")
    ),
    "table": st.sampled_from(
        ("providers", "licenses", "payment_methods", "public.providers", "no_such_table")
    ),
    "code": st.sampled_from(("LK101", "RW101", "IR101", "DS101", "XX999")),
    "profile": st.sampled_from(("slow", "concurrent")),
    f"profiles{KEY}": st.sampled_from(("slow", "concurrent")),
    "http": st.just(f"{CLOSED_PORT}/health"),
    "sql": st.sampled_from(
        ("SELECT 1", "SELECT count(*) FROM providers", "DELETE FROM providers", "SELECT 1; SELECT 2")
    ),
}
_duration = st.sampled_from(("500ms", "2s", "60s", "5min", "1h", "0s", "90min", "2.5s", "25h", "700h"))
for _name in (
    "lock_timeout",
    "statement_timeout",
    "idle_in_transaction_timeout",
    "first_wait",
    "max_wait",
    "budget",
    "default_estimate",
    "finish_margin",
    "estimate",
    "settle",
    "timeout",
    "wait_ceiling",
    "max_age",
):
    HINTS[_name] = _duration
HINTS["start"] = HINTS["end"] = st.sampled_from(("02:00", "04:00", "23:30", "00:00", "24:00", "2:5"))
SCHEMA = PlaybookModel.model_json_schema()

_long_text = st.builds(lambda char, size: char * size, st.characters(), st.integers(1_000, 100_000))
WRONG_VALUES = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.booleans(),
    st.none(),
    st.text(max_size=30),
    _long_text,
    st.binary(max_size=16),
    st.dates(),
    st.lists(st.one_of(st.integers(), st.text(max_size=8)), max_size=3),
    st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=8)), max_size=3),
)
UNKNOWN_KEYS = st.one_of(st.text(max_size=20), st.integers(), st.sampled_from(("x-note", "versions", "step")))


def _seed(path: Path) -> dict[str, Any]:
    """An example playbook as plain data, pointed at the example project and the test database."""
    data, _lines = parse_yaml(path.read_text(), str(path))
    data = _written(data)
    data["project"]["alembic_config"] = str(EXAMPLE_INI)
    data["target"]["url_env"] = URL_ENV
    data["target"].pop("database", None)
    if "timings" in data:
        data["timings"]["rehearsal_log"] = "rehearsal.jsonl"
    return data


def _written(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _written(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_written(value) for value in node]
    if isinstance(node, RawInt | RawFloat):  # 1 stays a number, 20260131_0000 stays the text it was
        return plain(node) if str(plain(node)) == node.raw else raw_text(node)
    return node


SEEDS = tuple(_seed(path) for path in sorted(PLAYBOOKS.glob("*.yaml")))
DOCUMENTS = st.one_of(
    SchemaStrategy(SCHEMA, HINTS, hints_only=True).root(),
    SchemaStrategy(SCHEMA, HINTS).root(),
    st.sampled_from(SEEDS).map(copy.deepcopy),
)
HOW_MANY = st.sampled_from((0, 0, 0, 1, 1, 2, 3))  # changes per layer: a few cases keep the document whole
FEWER = st.sampled_from((0, 0, 0, 0, 0, 1, 2))  # for the command line's small sample: more cases get to run


@dataclass(frozen=True)
class PlaybookCase:
    data: bytes


def seed_case(name: str) -> PlaybookCase:
    """An example playbook, pointed at the test database and left whole (``credentialmate-production``)."""
    index = sorted(path.stem for path in PLAYBOOKS.glob("*.yaml")).index(name)
    document = copy.deepcopy(SEEDS[index])
    document["audit"] = {"log": AUDIT_LOG}
    return PlaybookCase(_dump(document).encode())


@st.composite
def playbook_cases(draw: st.DrawFn, *, safe: bool = False) -> PlaybookCase:
    how_many = FEWER if safe else HOW_MANY
    document = draw(DOCUMENTS)
    for _ in range(draw(how_many)):
        document = _change_data(draw, document)
    if safe and isinstance(document, dict):
        document["audit"] = {"log": AUDIT_LOG}
        if isinstance(document.get("project"), dict):
            document["project"].pop("env_py_wrapper", None)
    lines = _dump(document).split("\n")
    for _ in range(draw(how_many)):
        lines = change_text(draw, lines, safe=safe)
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    for _ in range(draw(st.sampled_from((0, 0, 0, 0, 0, 0, 0, 0, 1)))):
        data = change_bytes(draw, data, safe=safe)
    return PlaybookCase(data)


def _dump(document: Any) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.width = 4096
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*path, index))
    return found


def _at(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


def _change_data(draw: st.DrawFn, document: Any) -> Any:
    path = draw(st.sampled_from(_paths(document)))
    how = draw(st.sampled_from(("wrong type", "unknown key", "remove key", "wrap in list", "nest deeply")))
    node = _at(document, path)
    if how == "unknown key" and isinstance(node, dict):
        node[draw(UNKNOWN_KEYS)] = draw(WRONG_VALUES)
        return document
    if how == "remove key" and isinstance(node, dict) and node:
        node.pop(draw(st.sampled_from(sorted(node, key=repr))))
        return document
    if how == "wrap in list":
        new: Any = [node]
    elif how == "nest deeply":
        new = node
        for _ in range(draw(st.integers(5, 60))):
            new = {"a": new}
    else:
        new = draw(WRONG_VALUES)
    if not path:
        return new
    _at(document, path[:-1])[path[-1]] = new
    return document
