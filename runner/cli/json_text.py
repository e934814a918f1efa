"""A ``--json`` document's text: every string redacted and the whole indented, in one walk.

The same text as ``json.dumps(redact(payload), indent=2, default=str)``, which
walks a thousand-step plan twice, building a redacted copy and then indenting it
in the standard library's pure-Python encoder (the C one does no indentation).
Strings are quoted by the standard library's own (C) function. Anything that is
not JSON (a path, a URL object, an exception) is written as its ``str()``,
redacted too: ``json.dumps(..., default=str)`` would have let a secret in one
through.
"""

from __future__ import annotations

from collections.abc import Callable
from json.encoder import encode_basestring_ascii
from typing import Any

_INDENT = "  "


def json_text(payload: Any, redact_text: Callable[[str], str]) -> str:
    """``payload`` as indented JSON (ASCII, keys in their order), each string value through ``redact_text``."""
    out: list[str] = []
    write = out.append
    quoted: dict[str, str] = {}  # a plan repeats its strings (kinds, codes, tables): redact each once

    def string(text: str) -> str:
        found = quoted.get(text)
        if found is None:
            found = quoted[text] = encode_basestring_ascii(redact_text(text))
        return found

    def value(obj: Any, level: int) -> None:
        if isinstance(obj, str):
            write(string(obj))
        elif obj is None:
            write("null")
        elif obj is True:
            write("true")
        elif obj is False:
            write("false")
        elif isinstance(obj, int):
            write(int.__repr__(obj))
        elif isinstance(obj, float):
            write(_float(obj))
        elif isinstance(obj, list | tuple):
            if not obj:
                write("[]")
                return
            inner = "\n" + _INDENT * (level + 1)
            separator = "," + inner
            write("[" + inner)
            for index, item in enumerate(obj):
                if index:
                    write(separator)
                if type(item) is str:
                    write(string(item))
                else:
                    value(item, level + 1)
            write("\n" + _INDENT * level + "]")
        elif isinstance(obj, dict):
            if not obj:
                write("{}")
                return
            inner = "\n" + _INDENT * (level + 1)
            separator = "," + inner
            write("{" + inner)
            for index, (key, item) in enumerate(obj.items()):
                write((separator if index else "") + encode_basestring_ascii(_key(key)) + ": ")
                if type(item) is str:
                    write(string(item))
                else:
                    value(item, level + 1)
            write("\n" + _INDENT * level + "}")
        else:
            write(string(str(obj)))

    value(payload, 0)
    return "".join(out)


def _float(number: float) -> str:
    if number != number:
        return "NaN"
    if number == float("inf"):
        return "Infinity"
    if number == -float("inf"):
        return "-Infinity"
    return float.__repr__(number)


def _key(key: Any) -> str:
    """A dict key as JSON writes it (keys are not redacted, as ``redact`` leaves them)."""
    if isinstance(key, str):
        return key
    if isinstance(key, float):
        return _float(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
