"""Whether changing a column's type rewrites the table.

PostgreSQL skips the rewrite when the old type is binary coercible to the new one
and no USING expression changes the contents: widening ``varchar(n)``, dropping a
length limit, ``varchar`` to ``text``, raising a ``numeric`` precision at the same
scale. Everything else copies every row and rebuilds every index. Both types are
spelled the way ``format_type()`` spells them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TYPE = re.compile(
    r"^(?P<base>[a-z_][a-z0-9_ .\"]*?)(?:\((?P<mods>[0-9, ]*)\))?(?P<rest>[a-z ]*)(?P<array>(?:\[\])*)$"
)
_TEXT_LIKE = {"text", "character varying"}


@dataclass(frozen=True)
class ColumnType:
    name: str
    modifiers: tuple[int, ...] = ()
    array: bool = False

    @classmethod
    def parse(cls, text: str) -> ColumnType | None:
        match = _TYPE.match(text.strip().lower())
        if not match:
            return None
        modifiers = tuple(int(m) for m in (match["mods"] or "").replace(" ", "").split(",") if m)
        name = (match["base"].strip() + match["rest"]).strip()
        return cls(name, modifiers, bool(match["array"]))


def rewrites(old: str, new: str, *, using: bool = False) -> bool:
    """True unless the change is one PostgreSQL makes in the catalog only."""
    if using:
        return True
    before, after = ColumnType.parse(old), ColumnType.parse(new)
    if before is None or after is None or before.array != after.array:
        return True
    if before == after:
        return False
    if after.name == "text" and before.name in _TEXT_LIKE:
        return False
    if before.name == "character varying" and after.name == "character varying":
        return bool(after.modifiers) and (not before.modifiers or after.modifiers[0] < before.modifiers[0])
    if before.name == "text" and after.name == "character varying":
        return bool(after.modifiers)
    if before.name == after.name == "numeric":
        if not after.modifiers:
            return False
        if not before.modifiers:
            return True
        old_scale = before.modifiers[1] if len(before.modifiers) > 1 else 0
        new_scale = after.modifiers[1] if len(after.modifiers) > 1 else 0
        return new_scale != old_scale or after.modifiers[0] < before.modifiers[0]
    if before.name == after.name in ("bit varying", "varbit"):
        return bool(after.modifiers) and (not before.modifiers or after.modifiers[0] < before.modifiers[0])
    return not (before.name == "cidr" and after.name == "inet")
