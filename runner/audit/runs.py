"""The runs an audit log holds, read for continuing one: asked for how, ended how, stopped where.

``runner resume`` reads the run it continues from here, on top of the same
``RunRecord`` the reports use. A run whose log has no ending event never ended:
its process was killed, or its host went away.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.audit.normal import Event
from runner.audit.reader import read_events
from runner.audit.run_record import STEP_ENDS, RunRecord, runs_in


@dataclass(frozen=True)
class LoggedRun:
    record: RunRecord

    @property
    def run_id(self) -> str:
        return self.record.run_id

    def first(self, name: str) -> Event:
        return self.record.first(name)

    def last(self, name: str) -> Event:
        found = self.record.named(name)
        return found[-1] if found else {}

    @property
    def status(self) -> str:
        """done, nothing_to_do, halted, refused, rolled_back, restore_required, unreachable; or killed."""
        if not self.record.finished:
            return "killed"
        ending = self.record.ending
        return "refused" if ending["event"] == "run_refused" else str(ending.get("status"))

    @property
    def ending(self) -> Event:
        return self.record.ending if self.record.finished else {}

    @property
    def request(self) -> Mapping[str, Any]:
        request = self.first("run_started").get("request")
        return request if isinstance(request, Mapping) else {}

    @property
    def target(self) -> str | None:
        return self.first("run_started").get("target")

    @property
    def server(self) -> Mapping[str, Any]:
        server = self.first("run_lock_acquired").get("server")
        return server if isinstance(server, Mapping) else {}

    @property
    def snapshot_id(self) -> str | None:
        found = self.last("snapshot_available").get("snapshot_id")
        return str(found) if found else None

    @property
    def last_hash(self) -> str:
        return str(self.record.last.get("hash", ""))

    @property
    def in_flight(self) -> Event | None:
        """The ``step_started`` of the step the run had not finished when its log ends."""
        for event in reversed(self.record.events):
            if event["event"] in STEP_ENDS:
                return None
            if event["event"] == "step_started":
                return event
        return None

    @property
    def step_in_flight(self) -> str | None:
        started = self.in_flight
        return str(started["revision"]) if started else None

    @property
    def direction_in_flight(self) -> str | None:
        started = self.in_flight
        return str(started.get("direction", "upgrade")) if started else None


def logged_runs(path: str | Path) -> list[LoggedRun]:
    """Every run in the log at ``path``, in the order they started."""
    events = read_events(path)
    return [LoggedRun(RunRecord.of(events, run_id)) for run_id in runs_in(events)]
