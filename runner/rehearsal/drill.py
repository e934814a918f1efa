"""The rollback drill: after a rehearsal's upgrade, walk back down step by step, then up again.

Each step is downgraded on its own through the application's env.py (exactly
that revision: ``planning.migrate``), and the schema after it is compared with
the one recorded before that step's upgrade (``baselines``); a column, index,
constraint or enum value left behind is reported by name. A one-way step (its
downgrade does nothing or is missing, or the caller marks it: an enum value
added) is not attempted: the drill stops before it, since in production the
only way past it is a restore. A downgrade that raises ends the drill there.
Then the downgraded steps are upgraded again, one at a time, and the schema is
compared with the first upgrade's: a migration that can't be re-run cleanly is
found here rather than in the next window. This is for throwaway databases only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing

from runner.database import connections as db
from runner.database.connections import VersionTable
from runner.drift.compare import compare
from runner.drift.differences import Difference
from runner.drift.objects import SchemaSnapshot
from runner.errors import EnvPyError, Refused
from runner.planning.app_errors import error_text
from runner.planning.migrate import DOWNGRADE, migrate
from runner.planning.project import AlembicProject
from runner.planning.revisions import Downgrade, Revision
from runner.rehearsal.baselines import Baselines, SchemaReader, schema_reader
from runner.rehearsal.drill_result import DrillResult, StepDrill, StepStatus, UpgradeAgain, UpgradeStatus
from runner.target import DatabaseTarget

OneWay = Callable[[Revision], str | None]


class DrillRefused(Refused):
    """The drill can't start: the database is not where the steps end, or a baseline is missing."""


def downgrade_one_way(revision: Revision) -> str | None:
    """Why a step can't be undone, from its script alone; None when its downgrade does something."""
    if revision.downgrade is Downgrade.EMPTY:
        return "its downgrade() does nothing"
    if revision.downgrade is Downgrade.MISSING:
        return "it has no downgrade()"
    return None


def drill(
    project: AlembicProject,
    target: DatabaseTarget,
    steps: Sequence[str],
    baselines: Baselines,
    *,
    one_way: OneWay = downgrade_one_way,
    marked_one_way: Mapping[str, str] | None = None,
    version_table: VersionTable | None = None,
    read: SchemaReader | None = None,
) -> DrillResult:
    """Drill ``steps`` (applied in this order, the database now at the last) back down and up again.

    ``one_way`` says why a revision can't be undone (a run's ``hooks.irreversible`` fits);
    ``marked_one_way`` adds the caller's own {revision: reason}.
    """
    table = version_table or VersionTable()
    read = read or schema_reader(table)
    revisions = [project.revision(step) for step in steps]
    marked = dict(marked_one_way or {})
    to_drill, stop = _walk(revisions, lambda r: marked.get(r.revision) or one_way(r))
    _check_start(target, table, revisions, to_drill, baselines)
    upgraded = read(target)
    done: list[StepDrill] = []
    reported: set[tuple[str, str, str]] = set()
    for revision in to_drill:
        step = _downgrade(project, target, revision, baselines.of(revision.revision), table, read, reported)
        done.append(step)
        if step.status is StepStatus.FAILED:
            break
    if stop is not None and len(done) == len(to_drill):
        done.append(StepDrill(stop[0].revision, StepStatus.ONE_WAY, stop[1]))
    drilled = [r for r, s in zip(to_drill, done, strict=False) if s.status is not StepStatus.FAILED]
    failed = any(s.status is StepStatus.FAILED for s in done)
    reached = {s.revision for s in done}
    return DrillResult(
        steps=tuple(done),
        upgrade_again=_upgrade_again(project, target, drilled, upgraded, read, failed),
        start=revisions[0].down_revisions if revisions else (),
        not_reached=tuple(r.revision for r in reversed(revisions) if r.revision not in reached),
    )


def _walk(revisions: list[Revision], why: OneWay) -> tuple[list[Revision], tuple[Revision, str] | None]:
    """The steps to downgrade, newest first, up to the first one-way step (and that step, with why)."""
    to_drill: list[Revision] = []
    for revision in reversed(revisions):
        reason = why(revision)
        if reason:
            return to_drill, (revision, reason)
        to_drill.append(revision)
    return to_drill, None


def _check_start(
    target: DatabaseTarget,
    table: VersionTable,
    revisions: list[Revision],
    to_drill: list[Revision],
    baselines: Baselines,
) -> None:
    with closing(db.connect(target, "migration-runner drill")) as conn:
        heads = db.read_heads(conn, table)
    if revisions and revisions[-1].revision not in heads:
        raise DrillRefused(
            f"The rollback drill starts where the steps end, at {revisions[-1].revision}, but {target.display} is "
            f"at {', '.join(heads) or '<base>'}; nothing was downgraded."
        )
    missing = [r.revision for r in to_drill if baselines.of(r.revision) is None]
    if missing:
        raise DrillRefused(
            f"No schema was recorded before the upgrade of {', '.join(missing)}, so a downgrade can't be checked; "
            "nothing was downgraded. Record one with BaselineRecorder.before() before each step."
        )


def _downgrade(
    project: AlembicProject,
    target: DatabaseTarget,
    revision: Revision,
    before: SchemaSnapshot | None,
    table: VersionTable,
    read: SchemaReader,
    reported: set[tuple[str, str, str]],
) -> StepDrill:
    started = time.monotonic()
    purpose = f"the rollback drill can't downgrade {revision.revision}"
    try:
        migrate(project, target, [revision.revision], direction=DOWNGRADE, purpose=purpose)
    except EnvPyError:
        raise
    except Exception as exc:  # the application's downgrade raised
        return StepDrill(revision.revision, StepStatus.FAILED, error_text(exc), duration_ms=_ms(started))
    duration = _ms(started)
    assert before is not None
    differences = _new(compare(read(target), before).differences, reported)
    with closing(db.connect(target, "migration-runner drill")) as conn:
        heads = db.read_heads(conn, table)
    notes: tuple[str, ...] = ()
    if sorted(heads) != sorted(revision.down_revisions):
        expected = ", ".join(revision.down_revisions) or "<base>"
        notes = (
            f"{table} reads {', '.join(heads) or '<base>'} after the downgrade, {expected} was expected",
        )
    status = StepStatus.MISMATCH if differences or notes else StepStatus.REVERTED
    return StepDrill(revision.revision, status, None, differences, notes, duration)


def _new(found: tuple[Difference, ...], reported: set[tuple[str, str, str]]) -> tuple[Difference, ...]:
    """Differences not already reported for a newer step (what one downgrade left stays there for the next)."""
    fresh = tuple(d for d in found if (d.kind, d.name, d.status) not in reported)
    reported.update((d.kind, d.name, d.status) for d in found)
    return fresh


def _upgrade_again(
    project: AlembicProject,
    target: DatabaseTarget,
    drilled: list[Revision],
    upgraded: SchemaSnapshot,
    read: SchemaReader,
    failed: bool,
) -> UpgradeAgain:
    if failed:
        return UpgradeAgain(
            UpgradeStatus.SKIPPED, error="a downgrade failed, so the database's state is unknown"
        )
    if not drilled:
        return UpgradeAgain(UpgradeStatus.SKIPPED, error="no step was downgraded")
    started = time.monotonic()
    revisions = tuple(r.revision for r in reversed(drilled))
    for revision in revisions:
        try:
            migrate(project, target, [revision], purpose=f"the rollback drill can't upgrade {revision} again")
        except EnvPyError:
            raise
        except Exception as exc:  # the application's upgrade raised on the second run
            return UpgradeAgain(
                UpgradeStatus.FAILED,
                revisions,
                error=f"{revision}: {error_text(exc)}",
                duration_ms=_ms(started),
            )
    duration = _ms(started)
    differences = compare(read(target), upgraded).differences
    status = UpgradeStatus.DIFFERENT if differences else UpgradeStatus.SAME
    return UpgradeAgain(status, revisions, differences, duration_ms=duration)


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
