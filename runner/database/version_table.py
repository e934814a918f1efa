"""Where Alembic keeps its revision(s), as a name: read by every command, so it doesn't load psycopg."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from psycopg import sql


@dataclass(frozen=True)
class VersionTable:
    """Where Alembic keeps its revision(s); ``alembic_version`` on the search path by default."""

    name: str = "alembic_version"
    schema: str | None = None

    @classmethod
    def parse(cls, value: str) -> VersionTable:
        schema, _, name = value.rpartition(".")
        return cls(name=name, schema=schema or None)

    def identifier(self) -> sql.Composable:
        from psycopg import sql

        if self.schema:
            return sql.Identifier(self.schema, self.name)
        return sql.Identifier(self.name)

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name
