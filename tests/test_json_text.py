"""The --json writer: the very text json.dumps(redact(payload), indent=2, default=str) writes, in one walk."""

from __future__ import annotations

import json
import math
from datetime import date
from enum import IntEnum, StrEnum
from pathlib import Path

import pytest

from runner.cli.json_text import json_text
from runner.redact import Redactor


class Level(StrEnum):
    BLOCK = "block"


class Code(IntEnum):
    FOUR = 4


SECRET = "hunter2-very-secret"

PAYLOADS = [
    {},
    [],
    "plain",
    None,
    {"a": [], "b": {}, "c": [[], [{}], ()], "d": ({"e": None},)},
    {
        "url": "postgresql://app:pw@db/app",
        "sql": "ALTER ROLE app PASSWORD 'x'; SELECT 1",
        "known": f"uses {SECRET} here",
        "nested": [{"password": SECRET, "n": [1, 2.5, -0.0, 1e300, True, False, None]}],
        "level": Level.BLOCK,
        "code": Code.FOUR,
        "unicode": 'naïve — ✓ \u2028 "quoted" \\ tab\t',
        "other": (Path("/tmp/x"), date(2026, 1, 2), {"set"}),
        "floats": [math.nan, math.inf, -math.inf],
        1: "int key",
        2.5: "float key",
        False: "bool key",
        None: "none key",
        Level.BLOCK: "enum key",
        "repeated": ["same", "same", f"{SECRET}", f"{SECRET}"],
    },
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_text_is_what_json_dumps_writes_for_the_redacted_payload(payload):
    redactor = Redactor([SECRET])
    expected = json.dumps(redactor.value(payload), indent=2, default=str)

    assert json_text(payload, redactor.text) == expected
    assert SECRET not in expected or not isinstance(payload, dict)


def test_a_key_json_cannot_write_is_refused_as_json_refuses_it():
    with pytest.raises(TypeError):
        json.dumps({(1, 2): "tuple key"}, indent=2)
    with pytest.raises(TypeError):
        json_text({(1, 2): "tuple key"}, str)


def test_a_value_written_as_its_str_is_redacted_too():
    """json.dumps(default=str) would let a secret inside a path or an exception through; the writer doesn't."""
    redactor = Redactor([SECRET])
    payload = {"where": Path(f"/tmp/{SECRET}/log"), "error": ValueError(f"login failed for {SECRET}")}

    text = json_text(payload, redactor.text)

    assert SECRET not in text
    assert json.loads(text)["where"].startswith("/tmp/")
