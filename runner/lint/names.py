"""Table names as a migration writes them, and one key to compare them by.

A migration usually writes ``providers``; the catalog knows ``public.providers``.
Inside one run the linter compares names by ``schema.name`` with an unqualified
name taken as ``public`` (the default search path); against a live database an
unqualified name is resolved through that session's search path instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_SCHEMA = "public"


@dataclass(frozen=True)
class TableRef:
    name: str
    schema: str | None = None

    @property
    def key(self) -> str:
        return f"{self.schema or DEFAULT_SCHEMA}.{self.name}"

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name

    @classmethod
    def parse(cls, text: str) -> TableRef:
        schema, _, name = text.rpartition(".")
        return cls(name=name, schema=schema or None)

    @classmethod
    def from_range_var(cls, node: dict[str, Any]) -> TableRef:
        return cls(name=str(node.get("relname", "")), schema=node.get("schemaname"))

    @classmethod
    def from_names(cls, items: list[Any]) -> TableRef:
        """A dotted name given as a list of String nodes (DROP TABLE, DROP INDEX)."""
        parts = [str(item.get("String", {}).get("sval", "")) for item in items]
        if len(parts) >= 2:
            return cls(name=parts[-1], schema=parts[-2])
        return cls(name=parts[-1] if parts else "")
