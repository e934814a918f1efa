"""``rehearse``: the window end to end on a throwaway PostgreSQL, the rollback drill, and the report.

The playbook (or the flags) runs exactly as ``apply`` runs it: the same
request, executor, guards, checks and failure policies, into the same kind of
audit log. What differs is said in the log (``rehearsal_prepared``) and on the
console: the target is a throwaway database brought to the starting state here
(migrated through env.py, or a real database's schema cloned, then filled), the
window is treated as open, AWS is an in-process moto server (so the snapshot and
restore runbook run for real against a stand-in), health checks and
notifications are not sent anywhere. After the run, the rollback drill; then the
HTML report; then everything made is thrown away, however the rehearsal ended.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from runner.audit import AuditLog
from runner.commands._apply import Extension, Interaction, World, apply
from runner.commands.project import Opened, within_project
from runner.errors import ExitCode, RunnerError
from runner.rehearsal.baselines import BaselineRecorder, schema_reader
from runner.rehearsal.contention import Countdown, HeldLock, holding
from runner.rehearsal.drill import drill
from runner.rehearsal.drill_result import DrillResult
from runner.rehearsal.moto_world import moto_aws, moto_missing
from runner.rehearsal.observer import RecordingHooks
from runner.request import Confirmation, RunRequest
from runner.run.hooks import RunHooks
from runner.run.result import RunResult, RunStatus
from runner.run.steps import Direction
from runner.target import DatabaseTarget

REHEARSAL = "a rehearsal on a throwaway database: no application stands behind it"


@dataclass(frozen=True)
class RehearsalOptions:
    kind: str = "auto"  # local, container, server or auto
    server_url: DatabaseTarget | None = None  # for kind server
    major_version: int | None = None  # None: the clone source's, else whatever the target runs
    start: str | None = None  # the starting revision; None: the playbook's from_revision, else base
    clone_from: DatabaseTarget | None = None  # start from this database's schema instead
    fill: str | None = None  # MODULE:FUNCTION that fills the starting state with rows
    scale: int = 1
    hold_lock: HeldLock | None = None
    drill: bool = True
    report: Path | None = None  # the HTML report; None: next to the audit log
    audit_log: Path | None = None  # None: the playbook's rehearsal log (see rehearsal_log)


@dataclass(frozen=True)
class Rehearsal:
    result: RunResult
    target: str  # what the throwaway target was
    notes: tuple[str, ...]  # what differs from production, and anything the target could not match
    drill: DrillResult | None
    drill_skipped: str | None
    report: Path | None
    audit_log: Path

    @property
    def exit_code(self) -> ExitCode:
        """As apply's, or DRILL_MISMATCH when the run went well and a downgrade did not restore the schema."""
        if self.result.exit_code is ExitCode.DONE and self.drill is not None and not self.drill.clean:
            return ExitCode.DRILL_MISMATCH
        return self.result.exit_code


def rehearse(
    request: RunRequest,
    options: RehearsalOptions | None = None,
    interaction: Interaction | None = None,
    *,
    sleep: Callable[[float], None] | None = None,
) -> Rehearsal:
    """Rehearse ``request`` on a throwaway target (its own target is never touched)."""
    from runner.throwaway.targets import throwaway_target

    asked = options or RehearsalOptions()
    threading.Thread(target=_warm_up, name="rehearsal-imports", daemon=True).start()
    major = asked.major_version or _major_of(asked.clone_from)
    with throwaway_target(asked.kind, server_url=asked.server_url, major_version=major) as target:
        notes = [n for n in (target.note, *(r.describe() for r in target.reaped)) if n]
        database = target.new_database("rehearsal")
        rehearsed, changed = _for_rehearsal(request, database, asked.audit_log or rehearsal_log(request))
        notes += [*changed, _starting_state(rehearsed, database, asked)]
        drilled: dict[str, Any] = {}
        with _aws(rehearsed) as world:
            if world.aws is _no_aws:
                notes.append(moto_missing() or "no snapshot to take: no AWS stand-in is needed")
            with holding(database, asked.hold_lock) as countdown:
                extension = _extension(
                    rehearsed, database, asked, target.describe(), notes, drilled, countdown
                )
                result = apply(rehearsed, interaction, world=world, sleep=sleep, extension=extension)
    report = _write_report(rehearsed.audit_log, result.run_id, asked.report)
    return Rehearsal(
        result,
        target.describe(),
        tuple(notes),
        drilled.get("result"),
        drilled.get("skipped"),
        report,
        rehearsed.audit_log,
    )


# What the run, the drill and the report import, loaded while initdb and pg_ctl start the cluster (the
# subprocesses wait outside the GIL, so the two overlap on a second core).
_LATER = (
    "runner.run.executor",
    "runner.playbook.hooks",
    "runner.lint.engine",
    "runner.drift.snapshot",
    "runner.audit.html_report",
    "sqlalchemy.dialects.postgresql",
)


def _warm_up() -> None:
    for name in _LATER:
        try:
            importlib.import_module(name)
        except Exception:  # the real import, later, reports it
            return


def _major_of(source: DatabaseTarget | None) -> int | None:
    if source is None:
        return None
    from runner.database import connections

    with connections.connect(source, application_name="migration-runner rehearsal") as conn:
        return int(conn.info.server_version) // 10000


def rehearsal_log(request: RunRequest) -> Path:
    """Where a rehearsal's evidence goes: where the real run reads it from, never the real run's own log.

    A rehearsal playbook's own log; else the log the playbook's ``timings.rehearsal_log`` reads (so the
    production plan shows what this rehearsal measured); else the playbook's log with ``-rehearsal``.
    """
    book = request.playbook
    if book is None or book.target.environment == "rehearsal":
        return request.audit_log
    if book.timings.rehearsal_log is not None:
        return book.timings.rehearsal_log
    return request.audit_log.with_name(f"{request.audit_log.stem}-rehearsal{request.audit_log.suffix}")


def _for_rehearsal(request: RunRequest, database: DatabaseTarget, log: Path) -> tuple[RunRequest, list[str]]:
    """The same request aimed at the throwaway database; what had to change for that, in words."""
    from runner.playbook.schedule import WindowOverride

    changed: list[str] = []
    book = request.playbook
    override = request.window_override
    if book is not None:
        if book.window is not None:
            override = WindowOverride("a rehearsal: the window is treated as open", request.operator)
            changed.append(f"the window ({book.window.describe()}) is treated as open")
        if book.notify is not None:
            book = replace(book, notify=None)
            changed.append("notifications are not sent from a rehearsal")
        if book.snapshot is not None and book.snapshot.required and moto_missing():
            book = replace(book, snapshot=replace(book.snapshot, required=False, reason=moto_missing()))
    aimed = replace(
        request, target=database, playbook=book, window_override=override, snapshot_id=None, audit_log=log
    )
    return replace(aimed, confirmation=Confirmation(yes=True, target_name=aimed.target_name)), changed


def _starting_state(request: RunRequest, database: DatabaseTarget, asked: RehearsalOptions) -> str:
    """Bring the throwaway database to where production is; say how."""
    from runner.rehearsal import clone, starting

    if asked.clone_from is not None:
        cloned = clone.clone_schema(asked.clone_from, database, version_table=request.version_table)
        how = f"the schema of {asked.clone_from.display} (at {', '.join(cloned.heads) or '<base>'}) cloned"
    else:
        book = request.playbook
        revision = asked.start or (book.project.from_revision if book is not None else None) or "base"
        within_project(
            request, lambda opened: starting.migrate_to(opened.project, database, revision), need_target=False
        )
        how = (
            f"migrated from base to {revision} through env.py"
            if revision != "base"
            else "an empty database (base)"
        )
    if asked.fill is not None:
        filled = starting.fill(asked.fill, database, asked.scale)
        how += f", then filled by {filled.describe()}"
    return f"starting state: {how}"


@contextmanager
def _aws(request: RunRequest) -> Iterator[World]:
    """moto standing in for AWS when the playbook takes a snapshot; no AWS at all otherwise."""
    book = request.playbook
    spec = book.snapshot if book is not None else None
    if spec is None or not spec.required:
        yield World(aws=_no_aws, rehearsal=REHEARSAL)
        return
    with moto_aws(spec) as clients:
        yield World(aws=clients, rehearsal=REHEARSAL)


def _no_aws(service: str) -> Any:
    raise RunnerError(f"A rehearsal without a snapshot reaches no AWS service ({service} was asked for).")


def _extension(
    request: RunRequest,
    database: DatabaseTarget,
    asked: RehearsalOptions,
    target: str,
    notes: list[str],
    drilled: dict[str, Any],
    countdown: Countdown,
) -> Extension:
    recorder = BaselineRecorder(database, read=schema_reader(request.version_table))
    wrapped: list[RecordingHooks] = []

    def around(hooks: RunHooks) -> RunHooks:
        wrapped.append(RecordingHooks(hooks, recorder))
        return wrapped[0]

    def before(audit: AuditLog) -> None:
        held = asked.hold_lock.describe() if asked.hold_lock else None
        audit.emit("rehearsal_prepared", target=target, notes=list(notes), held_lock=held)
        audit.listeners.append(lambda event: countdown.start() if event.name == "step_started" else None)

    def after(result: RunResult, audit: AuditLog, opened: Opened) -> None:
        steps = [s.revision for s in result.applied if s.direction is Direction.UPGRADE]
        skipped = _why_no_drill(result, steps, asked)
        if skipped is not None or not wrapped:
            drilled["skipped"] = skipped or "the run never reached its steps"
            audit.emit("drill_skipped", reason=drilled["skipped"])
            return
        try:
            done = drill(
                opened.project,
                database,
                steps,
                recorder.baselines,
                one_way=wrapped[0].irreversible,
                version_table=request.version_table,
            )
        except RunnerError as exc:
            drilled["skipped"] = exc.message
            audit.emit("drill_skipped", reason=exc.message)
            return
        drilled["result"] = done
        audit.emit("drill_finished", **done.as_event())

    return Extension(before=before, around=around, after=after, own_target=True)


def _why_no_drill(result: RunResult, steps: list[str], asked: RehearsalOptions) -> str | None:
    if not asked.drill:
        return "--no-drill"
    if result.status is not RunStatus.DONE:
        return f"the run ended {result.status}, not at its target: there is nothing to drill back from"
    if not steps:
        return "no step was applied"
    return None


def _write_report(log: Path, run_id: str, wanted: Path | None) -> Path | None:
    from runner.audit.html_report import render_html
    from runner.audit.private_file import write_private
    from runner.audit.reader import read_events

    path = wanted or log.with_name(f"{log.stem}-{run_id}.html")
    try:
        events = read_events(log)
        write_private(path, render_html(events, run_id, log=str(log)), option="--report", log=log)
    except (RunnerError, ValueError, OSError):
        return None  # the run's result stands; the report can be made again with runner audit report --html
    return path


__all__ = ["Rehearsal", "RehearsalOptions", "rehearse"]
