"""What is wrong with a playbook, and where: one paragraph per problem.

Every problem names the file, the line and the field path, says what was
found and what is allowed. Shape, consistency and meaning checks all produce
the same ``Problem`` so the command line prints them the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from runner.errors import InvalidInput

Path_ = tuple[str | int, ...]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


def field_path(path: Path_) -> str:
    """``steps.20260131_0000.checks[0].type`` from its parts."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass(frozen=True)
class Locations:
    """The line each key or list item of the file is on (1-based)."""

    lines: Mapping[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int:
        """The line of ``path``, or of its nearest enclosing key that is in the file."""
        for end in range(len(path), 0, -1):
            found = self.lines.get(tuple(path[:end]))
            if found is not None:
                return found
        return 1


@dataclass(frozen=True)
class Problem:
    path: Path_
    message: str  # a clause: what was found and what is allowed
    severity: Severity = Severity.ERROR
    line: int | None = None  # when known without a path (YAML syntax errors)

    def render(self, source: str, locations: Locations) -> str:
        line = self.line if self.line is not None else locations.line_of(self.path)
        where = f"{source} line {line}"
        if self.path:
            where += f", {field_path(self.path)}"
        text = self.message.rstrip()
        if not text.endswith((".", "?")):
            text += "."
        return f"{where}: {text}"


class InvalidPlaybook(InvalidInput):
    """The playbook can't be used; each problem is one rendered paragraph."""

    def __init__(self, source: str, problems: Iterable[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def render_all(problems: Iterable[Problem], source: str, locations: Locations) -> list[str]:
    ordered = sorted(problems, key=lambda p: (p.line or locations.line_of(p.path), field_path(p.path)))
    return [p.render(source, locations) for p in ordered]


def raise_if_errors(problems: Iterable[Problem], source: str, locations: Locations) -> None:
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if errors:
        raise InvalidPlaybook(source, render_all(errors, source, locations))
