"""One migration script as an operator needs to see it: its id, parents, message, and whether it can be undone."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import CodeType


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


def downgrade_kind(path: str, loaded: object = None) -> Downgrade:
    """Read the script's source: a downgrade that only passes can't undo anything.

    ``loaded`` is the module's ``downgrade`` as Alembic loaded it: when its code
    is longer than a function that only passes, and it is the script's first
    top-level ``def downgrade``, it does something, and the source needs no parse.
    """
    try:
        source = Path(path).read_text(encoding="utf-8")
        if _surely_does_something(source, path, loaded):
            return Downgrade.FULL
        tree = ast.parse(source)
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


def _passes() -> None:
    pass


def _surely_does_something(source: str, path: str, loaded: object) -> bool:
    """True when ``loaded`` is the first top-level ``def downgrade`` in ``source`` and compiles to more than a pass.

    A body of ``pass``, a docstring and other constants compiles to what ``_passes``
    does; any other statement adds instructions (a statement the compiler drops,
    such as ``if False: ...``, is left to the parse). A ``def`` at column 0 is at
    the top level, so when no line above the function's starts one naming
    ``downgrade`` (or continues onto the next line), it is the first.
    """
    code = getattr(loaded, "__code__", None)
    if not isinstance(code, CodeType) or code.co_name != "downgrade" or code.co_filename != str(path):
        return False
    if len(code.co_code) <= len(_passes.__code__.co_code):
        return False
    lines = source.split("\n")
    number = code.co_firstlineno
    if not 1 <= number <= len(lines) or not lines[number - 1].startswith("def downgrade("):
        return False
    return not any(
        line.startswith("def") and ("downgrade" in line or line.endswith("\\"))
        for line in lines[: number - 1]
    )
