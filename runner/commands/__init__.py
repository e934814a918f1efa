"""The runner's commands as a Python API: each takes a ``RunRequest`` and returns a typed result.

``runner.commands.status``, ``plan``, ``lint`` and ``apply`` are what the
command line calls (it only parses options, calls one of these and renders the
result), and what a deploy script or a test fixture calls directly. Every
failure is a ``RunnerError`` carrying its documented exit code; nothing here
prints, prompts or exits unless the caller hands it a function to do so.
Each command is imported on first use, so the command line starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runner.commands._apply import Extension, Interaction, Preview, World, apply, refusals_audited
    from runner.commands._lint import LintResult, lint
    from runner.commands._plan import PlanResult, plan
    from runner.commands._rehearse import Rehearsal, RehearsalOptions, rehearse
    from runner.commands._resume import resume
    from runner.commands._status import environments, status

_HOME = {
    "status": "_status",
    "environments": "_status",
    "plan": "_plan",
    "PlanResult": "_plan",
    "lint": "_lint",
    "LintResult": "_lint",
    "apply": "_apply",
    "Interaction": "_apply",
    "Preview": "_apply",
    "World": "_apply",
    "refusals_audited": "_apply",
    "resume": "_resume",
    "rehearse": "_rehearse",
    "Rehearsal": "_rehearse",
    "RehearsalOptions": "_rehearse",
    "Extension": "_apply",
}
__all__ = [
    "Extension",
    "Interaction",
    "LintResult",
    "PlanResult",
    "Preview",
    "Rehearsal",
    "RehearsalOptions",
    "World",
    "apply",
    "environments",
    "lint",
    "plan",
    "refusals_audited",
    "rehearse",
    "resume",
    "status",
]


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(f"runner.commands.{_HOME[name]}"), name)
    raise AttributeError(f"module 'runner.commands' has no attribute {name!r}")
