"""One migration script as an operator needs to see it: its id, parents, message, and whether it can be undone."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Downgrade(StrEnum):
    FULL = "full"  # downgrade() does something
    EMPTY = "empty"  # downgrade() exists but only passes: the step is one-way
    MISSING = "missing"  # no downgrade() at all


@dataclass(frozen=True)
class Revision:
    """One migration script, described the way an operator needs to see it."""

    revision: str
    down_revisions: tuple[str, ...]
    message: str
    path: str
    downgrade: Downgrade

    @property
    def down_revision(self) -> str | None:
        """The parent as Alembic prints it: one id, or a comma-joined merge."""
        return ",".join(self.down_revisions) or None

    @property
    def reversible(self) -> bool:
        return self.downgrade is Downgrade.FULL

    def describe(self) -> str:
        return f"{self.down_revision or '<base>'} -> {self.revision} ({self.message})"


def downgrade_kind(path: str) -> Downgrade:
    """Read the script's source: a downgrade that only passes can't undo anything."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return Downgrade.FULL  # Alembic loaded it, so it exists; assume the author meant it
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "downgrade":
            body = [
                stmt
                for stmt in node.body
                if not isinstance(stmt, ast.Pass)
                and not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
            ]
            return Downgrade.FULL if body else Downgrade.EMPTY
    return Downgrade.MISSING
