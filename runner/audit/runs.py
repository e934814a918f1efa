"""The runs an audit log holds, each as the story its events tell: asked for how, ended how, stopped where.

``runner resume`` reads the run it continues from here, and ``status`` and the
report can ask the same questions. A run whose log has no ``run_finished`` or
``run_halted`` never ended: its process was killed, or its host went away.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.audit.reader import read_events

_STEP_ENDS = ("step_applied", "step_reverted", "step_failed")


@dataclass(frozen=True)
class LoggedRun:
    run_id: str
    events: tuple[Mapping[str, Any], ...]

    def first(self, name: str) -> Mapping[str, Any] | None:
        return next((e for e in self.events if e.get("event") == name), None)

    def last(self, name: str) -> Mapping[str, Any] | None:
        return next((e for e in reversed(self.events) if e.get("event") == name), None)

    @property
    def ending(self) -> Mapping[str, Any] | None:
        """``run_finished`` or ``run_halted``; None for a run that never ended."""
        return self.last("run_finished") or self.last("run_halted")

    @property
    def status(self) -> str:
        """done, nothing_to_do, halted, refused, rolled_back, restore_required, unreachable; or killed."""
        if self.ending is not None:
            return str(self.ending.get("status"))
        return "refused" if self.last("run_refused") is not None else "killed"

    @property
    def request(self) -> Mapping[str, Any]:
        started = self.first("run_started") or {}
        request = started.get("request")
        return request if isinstance(request, Mapping) else {}

    @property
    def target(self) -> str | None:
        started = self.first("run_started") or {}
        return started.get("target")

    @property
    def server(self) -> Mapping[str, Any]:
        locked = self.first("run_lock_acquired") or {}
        server = locked.get("server")
        return server if isinstance(server, Mapping) else {}

    @property
    def snapshot_id(self) -> str | None:
        available = self.last("snapshot_available") or {}
        found = available.get("snapshot_id") or available.get("identifier")
        return str(found) if found else None

    @property
    def last_hash(self) -> str:
        return str(self.events[-1].get("hash", ""))

    @property
    def step_in_flight(self) -> str | None:
        """The step the run had started and not finished when its log ends (its last attempt)."""
        for event in reversed(self.events):
            if event.get("event") in _STEP_ENDS:
                return None
            if event.get("event") == "step_started":
                return str(event.get("revision"))
        return None

    @property
    def direction_in_flight(self) -> str | None:
        started = self.last("step_started")
        return str(started.get("direction")) if started and self.step_in_flight else None

    @property
    def applied(self) -> list[str]:
        return [str(e.get("revision")) for e in self.events if e.get("event") == "step_applied"]


def logged_runs(path: str | Path) -> list[LoggedRun]:
    """Every run in the log at ``path``, in the order they started."""
    return group(read_events(path))


def group(events: Sequence[Mapping[str, Any]]) -> list[LoggedRun]:
    runs: dict[str, list[Mapping[str, Any]]] = {}
    for event in events:
        runs.setdefault(str(event.get("run_id")), []).append(event)
    return [LoggedRun(run_id, tuple(found)) for run_id, found in runs.items()]
