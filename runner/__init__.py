"""A guarded production migration runner for Alembic projects on PostgreSQL.

The Python API is the command layer the command line itself calls::

    from runner import Confirmation, DatabaseTarget, RunRequest
    from runner.commands import apply

    request = RunRequest(
        config=Path("alembic.ini"),
        target=DatabaseTarget.parse(os.environ["DATABASE_URL"]),
        confirmation=Confirmation(yes=True),
    )
    result = apply(request)          # a RunResult; a refusal raises a RunnerError
    if result.exit_code: ...

``runner.commands.status``, ``plan`` and ``lint`` take the same request. Names
are imported on first use, so ``import runner`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runner.errors import ExitCode, RunnerError
    from runner.guards import GuardPolicy
    from runner.request import Confirmation, RunRequest
    from runner.run.result import RunResult, RunStatus
    from runner.target import DatabaseTarget

__version__ = "0.1.0"

_EXPORTS = {
    "Confirmation": "runner.request",
    "RunRequest": "runner.request",
    "GuardPolicy": "runner.request.guards",
    "RunResult": "runner.run.result",
    "RunStatus": "runner.run.result",
    "DatabaseTarget": "runner.target",
    "ExitCode": "runner.errors",
    "RunnerError": "runner.errors",
}
__all__ = [
    "Confirmation",
    "DatabaseTarget",
    "ExitCode",
    "GuardPolicy",
    "RunRequest",
    "RunResult",
    "RunStatus",
    "RunnerError",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'runner' has no attribute {name!r}")
