"""Damage done to a playbook's YAML text and bytes: what editors, copy-paste, YAML's own features and disks do.

Anchors and aliases, tags, duplicate keys, unquoted ``20260131_0000``-like
numbers, dates that don't exist, huge numbers and durations, deep flow
nesting, very long lines, control characters, a second document, lines cut,
inserted or repeated; and at the byte level invalid UTF-8, a BOM, a null byte,
a flipped bit. With ``safe=True`` the line naming the audit log is left alone,
so a case run on the command line can't send the log outside its directory.
"""

from __future__ import annotations

import re

from hypothesis import strategies as st

AUDIT_LOG = "audit.jsonl"

ODD_SCALARS = (
    "20260131_0000",
    "7702d353e5b8",
    "1e999",
    "-.inf",
    ".nan",
    "0x1F",
    "0o17",
    "1_000",
    "1:30:00",
    "9" * 5000,
    "9" * 400 + "s",
    "1" + "0" * 310 + ".5min",
    "-" + "9" * 5000,
    "2026-13-45",
    "2026-02-30 25:61:00",
    "~",
    "yes",
    "off",
    "!!binary aGVsbG8=",
    "!!python/object/apply:builtins.len [x]",
    "!custom value",
    "!!set {a, b}",
    "!!omap [{a: 1}]",
    "!!timestamp 2026-02-30",
    "!!int twelve",
    "!!float abc",
    "!!str 12",
    "*undefined_alias",
    "<<: {a: 1}",
    "x" * 100_000,
    "'unterminated",
    "{a: [1, 2}",
    "@reserved",
    "`backtick",
    "a\x00b",
    "\x07\x1b[31m",
)
_SCALAR_LINE = re.compile(r"^(\s*(?:- )?)([^\s:#'\"][^:]*): (\S.*)$")


def _protected(line: str) -> bool:
    return AUDIT_LOG in line or line.strip().startswith(("audit:", "log:"))


def change_text(draw: st.DrawFn, lines: list[str], *, safe: bool) -> list[str]:
    free = [i for i, line in enumerate(lines) if not (safe and _protected(line))]
    if not free:
        return lines
    index = draw(st.sampled_from(free))
    line = lines[index]
    how = draw(
        st.sampled_from(
            ("odd scalar", "anchor", "duplicate", "delete", "cut", "insert text", "deep flow", "document")
        )
    )
    scalar = _SCALAR_LINE.match(line)
    if how == "odd scalar" and scalar:
        return [
            *lines[:index],
            f"{scalar[1]}{scalar[2]}: {draw(st.sampled_from(ODD_SCALARS))}",
            *lines[index + 1 :],
        ]
    if how == "anchor" and scalar:
        changed = [*lines]
        changed[index] = f"{scalar[1]}{scalar[2]}: &shared {scalar[3]}"
        later = [i for i in free if i > index and _SCALAR_LINE.match(lines[i])]
        if later:
            at = draw(st.sampled_from(later))
            target = _SCALAR_LINE.match(lines[at])
            assert target is not None
            changed[at] = f"{target[1]}{target[2]}: *shared"
        return changed
    if how == "duplicate":
        return [*lines[: index + 1], line, *lines[index + 1 :]]
    if how == "delete":
        return [*lines[:index], *lines[index + 1 :]]
    if how == "cut":
        return [*lines[:index], line[: draw(st.integers(0, len(line)))]]  # the file ends here
    if how == "deep flow" and scalar:
        depth = draw(st.sampled_from((60, 150, 400)))  # ruamel takes seconds past a thousand levels
        opener, closer = draw(st.sampled_from((("[", "]"), ("{a: ", "}"))))
        return [
            *lines[:index],
            f"{scalar[1]}{scalar[2]}: {opener * depth}1{closer * depth}",
            *lines[index + 1 :],
        ]
    if how == "document":
        return [*lines[: index + 1], "---", "version: 1", *lines[index + 1 :]]
    text = draw(st.text(min_size=1, max_size=8))
    at = draw(st.integers(0, len(line)))
    return [*lines[:index], line[:at] + text + line[at:], *lines[index + 1 :]]


def change_bytes(draw: st.DrawFn, data: bytes, *, safe: bool) -> bytes:
    how = draw(st.sampled_from(("invalid utf-8", "bom", "flip", "null")))
    if how == "bom":
        return b"\xef\xbb\xbf" + data
    at = draw(st.integers(0, len(data)))
    if safe:  # keep the audit log's line as it is
        line_start = data.rfind(b"\n", 0, at) + 1
        line_end = data.find(b"\n", at)
        if AUDIT_LOG.encode() in data[line_start : line_end if line_end >= 0 else None]:
            at = line_start
    if how == "invalid utf-8":
        return (
            data[:at]
            + draw(st.sampled_from((b"\xff", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80")))
            + data[at:]
        )
    if how == "null":
        return data[:at] + b"\x00" + data[at:]
    if at == len(data):
        return data
    return data[:at] + bytes([data[at] ^ (1 << draw(st.integers(0, 7)))]) + data[at + 1 :]
