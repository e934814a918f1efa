"""``resume``: continue a run that halted or died, from where the database really is.

The run to continue is read from its audit log (its chain must verify): how it
was asked for (``run_started.request``), the database it locked, the path it
was on, its snapshot and the step it had in flight. A run that finished, was
refused, rolled back or needs a restore is not continued, and each says why.
The playbook must be the same file, byte for byte (its sha256); a run from
flags is asked for again with the same settings. The continuing run is an
``apply`` like any other, written to the same log: it checks, under the run
lock, that the database is the one the dead run locked and still on its path,
links the two runs (``run_resumed``), ends the dead run's sessions, and clears
what its interrupted step half-built (``runner.run.resuming``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from runner.audit.runs import LoggedRun, logged_runs
from runner.audit.verify import verify_file
from runner.commands._apply import Interaction, World, apply
from runner.commands.project import within_project
from runner.database.connections import VersionTable
from runner.errors import InvalidInput, Refused
from runner.guards import GuardPolicy, Guards, LockRetryPolicy
from runner.request import Confirmation, RunRequest
from runner.run.result import RunResult
from runner.run.resuming import BuiltIndex, Resumption
from runner.target import DatabaseTarget

RESUMABLE = ("killed", "halted", "unreachable")
SNAPSHOT_MAX_AGE_MS = (
    12 * 3_600_000
)  # a resumed run reuses its snapshot up to this old, unless the playbook says


def resume(
    audit_log: Path,
    interaction: Interaction | None = None,
    *,
    run_id: str | None = None,
    target: DatabaseTarget | None = None,
    confirmation: Confirmation | None = None,
    new_snapshot: bool = False,
    window_override: Any = None,
    command: str = "runner resume",
    world: World | None = None,
    sleep: Callable[[float], None] | None = None,
) -> RunResult:
    """Continue the last run in ``audit_log`` (or ``run_id``); a Refused that says why when it can't be."""
    dead = _the_run(audit_log, run_id)
    request = _asked_again(dead, audit_log, target, confirmation or Confirmation(), window_override, command)
    snapshot = None if new_snapshot else dead.snapshot_id
    if snapshot is not None and request.playbook is not None and request.playbook.snapshot is not None:
        spec = request.playbook.snapshot
        max_age = spec.reuse_max_age_ms or SNAPSHOT_MAX_AGE_MS
        request = replace(
            request, playbook=replace(request.playbook, snapshot=replace(spec, reuse_max_age_ms=max_age))
        )
    request = replace(request, snapshot_id=snapshot)
    resuming = Resumption(
        run_id=dead.run_id,
        audit_log=str(audit_log.resolve()),
        last_hash=dead.last_hash,
        ended=dead.status,
        step_in_flight=dead.step_in_flight if dead.direction_in_flight == "upgrade" else None,
        snapshot_id=snapshot,
        server={k: dead.server.get(k) for k in ("system_identifier", "database")},
        path=_path_of(dead),
        built_indexes=_built_indexes(request, dead),
    )
    return apply(replace(request, resuming=resuming), interaction, world=world, sleep=sleep)


def _the_run(audit_log: Path, run_id: str | None) -> LoggedRun:
    checked = verify_file(audit_log)
    if not checked.ok:
        raise InvalidInput(
            f"The audit log {checked.describe()} A run can't be resumed from a log whose chain is broken: what it "
            "says the run did can't be trusted.",
            next_step=f"runner audit verify {audit_log}; runner status shows where the database is.",
        )
    runs = [run for run in logged_runs(audit_log) if run.first("run_started")]
    if run_id is not None:
        runs = [run for run in runs if run.run_id == run_id]
        if not runs:
            raise InvalidInput(f"The audit log {audit_log} holds no run {run_id}.")
    if not runs:
        raise InvalidInput(f"The audit log {audit_log} holds no run that started.")
    tried = [run for run in runs if run.status != "refused"]  # a refused run changed nothing: look past it
    dead = (tried or runs)[-1]
    _refuse_unresumable(dead, audit_log)
    return dead


def _refuse_unresumable(dead: LoggedRun, audit_log: Path) -> None:
    status = dead.status
    if status in RESUMABLE and not _was_rolling_back(dead):
        if not dead.request:
            raise Refused(
                f"Run {dead.run_id} in {audit_log} was written by an older runner that did not record how it was "
                "asked for, so it can't be resumed as it was. Nothing was changed.",
                next_step="run the original apply command again; it continues from the current revision.",
            )
        return
    ending = dead.ending
    why = {
        "done": "it finished: there is nothing to resume",
        "nothing_to_do": "it found nothing to do",
        "refused": "it was refused before it changed anything, so there is nothing to continue",
        "rolled_back": "its policy rolled it back; continuing would apply again what it undid",
        "restore_required": "its policy asked for a restore from its snapshot",
    }.get(status, "it was rolling back when it stopped; continuing forward would undo that decision")
    next_step = (
        f"runner restore --audit-log {audit_log} --run {dead.run_id}"
        if status == "restore_required"
        else "runner status shows where the database is; fix the cause, then start a new run with apply."
    )
    detail = str(ending.get("message") or (dead.last("run_refused") or {}).get("reason") or "")
    detail = detail.replace(" Nothing was changed.", "").strip()
    raise Refused(
        f"Run {dead.run_id} can't be resumed: {why}.{' It said: ' + detail if detail else ''} Nothing was changed.",
        next_step=next_step,
    )


def _was_rolling_back(dead: LoggedRun) -> bool:
    decision = dead.last("decision_made") or {}
    return decision.get("action") == "rollback"


def _asked_again(
    dead: LoggedRun,
    audit_log: Path,
    target: DatabaseTarget | None,
    confirmation: Confirmation,
    window_override: Any,
    command: str,
) -> RunRequest:
    asked = dead.request
    book = asked.get("playbook")
    if isinstance(book, Mapping):
        request = _from_playbook(dead, book, confirmation, window_override, command)
    else:
        request = _from_settings(asked, target, confirmation, command)
    if request.target is None or request.target.display != dead.target:
        where = request.target.display if request.target is not None else "nothing"
        raise Refused(
            f"Run {dead.run_id} ran against {dead.target}, but the database URL now points at {where}. A run is "
            "resumed only on the database it started on. Nothing was changed.",
            next_step="give the same database URL (in the same variable) as the run had, then resume again.",
        )
    return replace(request, audit_log=audit_log)


def _from_playbook(
    dead: LoggedRun, book: Mapping[str, Any], confirmation: Confirmation, window_override: Any, command: str
) -> RunRequest:
    from runner.playbook import load_playbook
    from runner.request.playbook import from_playbook

    path = Path(str(book.get("path")))
    if not path.is_file():
        raise Refused(
            f"Run {dead.run_id} ran the playbook {path}, which is no longer there. Nothing was changed.",
            next_step="put the playbook back as it was, or start a new run with apply --playbook.",
        )
    playbook = load_playbook(path)
    if playbook.digest != book.get("sha256"):
        raise Refused(
            f"The playbook {path} changed since run {dead.run_id} started (sha256 {str(book.get('sha256'))[:12]}… "
            f"then, {playbook.digest[:12]}… now). A resume runs exactly what was reviewed. Nothing was changed.",
            next_step=f"review the change, then start a new run: runner apply --playbook {path}.",
        )
    acknowledged = _acknowledgements(dead.request.get("acknowledgements"), skip=playbook.acknowledgements)
    return from_playbook(
        playbook,
        acknowledgements=acknowledged,
        confirmation=confirmation,
        window_override=window_override,
        command=command,
    )


def _from_settings(
    asked: Mapping[str, Any], target: DatabaseTarget | None, confirmation: Confirmation, command: str
) -> RunRequest:
    guards = dict(asked.get("guards") or {})
    retry = dict(guards.pop("retry", {}) or {})
    source = str(guards.pop("source", "runner defaults"))
    return RunRequest(
        config=Path(str(asked.get("config"))),
        target=target,
        to=str(asked.get("to") or "head"),
        env_py_wrapper=asked.get("env_py_wrapper"),
        version_table=VersionTable.parse(str(asked.get("version_table") or "alembic_version")),
        guards=GuardPolicy.of(Guards(**guards), LockRetryPolicy(**retry), source),
        acknowledgements=_acknowledgements(asked.get("acknowledgements")),
        confirmation=confirmation,
        rehearsal_log=Path(str(asked["rehearsal_log"])) if asked.get("rehearsal_log") else None,
        command=command,
    )


def _acknowledgements(recorded: Any, *, skip: Sequence[Any] = ()) -> tuple[Any, ...]:
    from runner.lint import Acknowledgement

    reviewed = {(a.code, a.revision) for a in skip}
    found = [a for a in recorded or [] if isinstance(a, Mapping)]
    return tuple(
        Acknowledgement(str(a["code"]), str(a["revision"]), str(a["reason"]))
        for a in found
        if (a.get("code"), a.get("revision")) not in reviewed
    )


def _path_of(dead: LoggedRun) -> tuple[str, ...]:
    """The revisions the dead run could have left the database at: where it started, and each step."""
    recorded = dead.first("revision_recorded") or {}
    planned = dead.first("plan_made") or {}
    if (
        not recorded and not planned
    ):  # killed before it read where it stood: it moved nothing, any place will do
        return ()
    prior = [str(h) for h in recorded.get("prior_heads") or []]
    steps = [str(s) for s in planned.get("steps") or []]
    return (",".join(sorted(prior)), *steps)


def _built_indexes(request: RunRequest, dead: LoggedRun) -> tuple[BuiltIndex, ...]:
    """The indexes the interrupted step builds concurrently (read from its SQL, rendered offline)."""
    step = dead.step_in_flight
    if step is None or dead.direction_in_flight != "upgrade":
        return ()

    def read(opened: Any) -> tuple[BuiltIndex, ...]:
        from runner.lint.statements import collect

        project = opened.project
        revision = project.revision(step)
        (parsed,) = collect(project, [revision], version_table=str(request.version_table))
        return tuple(_concurrent(s.node) for s in parsed.statements if _is_concurrent_build(s))

    return within_project(request, read)


def _is_concurrent_build(statement: Any) -> bool:
    return (
        statement.kind == "IndexStmt"
        and bool(statement.node.get("concurrent"))
        and bool(statement.node.get("idxname"))
    )


def _concurrent(node: Mapping[str, Any]) -> BuiltIndex:
    schema = (node.get("relation") or {}).get("schemaname")
    name = _quote(str(node["idxname"]))
    return BuiltIndex(f"{_quote(schema)}.{name}" if schema else name, bool(node.get("if_not_exists")))


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
