"""What the executor needs to know about the run it was asked for: where, how far, under which limits.

``runner.request.RunRequest`` (how the run was asked for: flags, a playbook)
hands the executor this smaller value, so the engine depends on nothing above it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.database.version_table import VersionTable
from runner.guards import GuardPolicy
from runner.run.resuming import Resumption
from runner.target import DatabaseTarget


@dataclass(frozen=True)
class RunSettings:
    target: DatabaseTarget
    to: str = "head"
    version_table: VersionTable = field(default_factory=VersionTable)
    guards: GuardPolicy = field(default_factory=GuardPolicy)
    operator: str = "unknown"
    command: str = "runner apply"  # how the operator asked, repeated in "Next:" hints
    target_name: str = ""  # what the operator confirmed: the playbook's target name, or the database's
    request_record: Mapping[str, Any] = field(
        default_factory=dict
    )  # how it was asked for (RunRequest.record)
    resuming: Resumption | None = None  # the run this one continues (runner resume)
