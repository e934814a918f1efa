"""The playbook, plugged into the executor: guards, window, checks and failure policy.

The executor owns the run; these hooks only answer its questions. Before the
run: is the database on the playbook's path, is the window open and does the
first step fit, do the preflight checks pass, is the snapshot there. Before
each step: does it fit in what is left of the window (if not, halt at this step
boundary). After each step: the checks, and the policy when one fails. A
rollback's own steps are never stopped by a hook: once a rollback has started,
finishing it is the safer way out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from runner.aws.health import HealthContext
from runner.check_result import Check, CheckResult
from runner.database.connections import VersionTable
from runner.errors import Refused
from runner.lint.report import TableLock
from runner.planning.project import AlembicProject
from runner.planning.revisions import Revision
from runner.playbook.book import Playbook
from runner.playbook.check_runner import RUN_SCOPE, CheckRunner
from runner.playbook.checks import NoInvalidIndexes, RevisionIs, RevisionReverted
from runner.playbook.policy import RunState, Trouble, TroubleKind, decide
from runner.playbook.quiet import MakeWay
from runner.playbook.rollbacks import irreversible
from runner.playbook.schedule import Schedule, WindowOverride
from runner.playbook.timings import Estimator
from runner.playbook.window import Clock, utc_now
from runner.run.decision import Action, Decision
from runner.run.hooks import RunView, StandardHooks
from runner.run.interrupts import pause
from runner.run.risk import RiskReview
from runner.run.steps import Direction, Failure, Progress

__all__ = ["PlaybookHooks", "WindowOverride"]


class PlaybookHooks(StandardHooks):
    def __init__(
        self,
        playbook: Playbook,
        project: AlembicProject,
        *,
        clock: Clock = utc_now,
        estimator: Estimator | None = None,
        override: WindowOverride | None = None,
        health: HealthContext | None = None,
        sleep: Callable[[float], object] = pause,
        risk: RiskReview | None = None,
    ) -> None:
        super().__init__(playbook.guard_policy(), risk=risk)
        self.playbook = playbook
        self.project = project
        self.schedule = Schedule(
            playbook.window, estimator or Estimator(playbook), clock=clock, override=override
        )
        self.version_table = VersionTable.parse(playbook.project.version_table)
        self.checks = CheckRunner(playbook, health, sleep)
        self.make_way = MakeWay(playbook.blockers, f"runner apply --playbook {playbook.source}")

    def irreversible(self, revision: Revision) -> str | None:
        """The playbook's word first (irreversible / reversible_because), then the downgrade and lint."""
        rules = self.playbook.rules_for(revision.revision)
        if rules.reversible_because:
            return None
        return irreversible(self.playbook, revision) or super().irreversible(revision)

    # -- before the run -------------------------------------------------------------------------
    def before_run(self, run: RunView) -> None:
        book = self.playbook
        run.audit.emit(
            "playbook_loaded",
            path=str(book.path),
            sha256=book.digest,
            target=book.target.name,
            environment=book.target.environment,
            from_revision=book.project.from_revision,
            target_revision=book.project.target_revision,
        )
        refusal = self.off_path(run.prior_heads)
        if refusal is not None:
            raise refusal
        self._check_window(run)
        super().before_run(run)  # lint, sized by this database, under the run lock
        self._preflight(run)
        self._no_relevant_drift(run)

    def _no_relevant_drift(self, run: RunView) -> None:
        """``preflight.no_relevant_drift``: the target's schema must not derail a pending step."""
        if not self.playbook.preflight.no_relevant_drift or run.target is None:
            return
        from runner.drift.preflight import require_no_relevant_drift

        harmless = require_no_relevant_drift(
            self.project, run.target, run.plan, version_table=str(self.version_table)
        )
        run.audit.emit("drift_checked", conflicts=[c.describe() for c in harmless], blocking=0)

    def off_path(self, heads: Sequence[str]) -> Refused | None:
        """A refusal when the database is neither at from_revision nor part-way along the playbook's steps.

        Part-way is allowed so that a run halted at a step boundary (the window closed) resumes with the
        same playbook in the next window.
        """
        start = self.playbook.project.from_revision
        if start is None:
            return None
        target = self.playbook.project.target_revision
        path = [start, *(r.revision for r in self.project.pending((start,), target))]
        if len(heads) == 1 and heads[0] in path:
            return None
        return Refused(
            f"The database is at {_fmt(heads)}, which is not on the path of the playbook {self.playbook.source} "
            f"(from {start} to {target}). Nothing was changed.",
            next_step="runner status, then review the playbook against where the database really is.",
        )

    def _check_window(self, run: RunView) -> None:
        schedule = self.schedule
        window = schedule.window
        if window is None:
            return
        if schedule.override is not None:
            run.audit.emit(
                "window_overridden",
                reason=schedule.override.reason,
                operator=schedule.override.operator,
                window=window.describe(),
                open=window.current(schedule.clock()) is not None,
            )
            return
        now = schedule.clock()
        opening = window.current(now)
        run.audit.emit(
            "window_checked",
            window=window.describe(),
            open=opening is not None,
            closes=window.local(opening.closes) if opening else None,
            remaining_ms=opening.remaining_ms(now) if opening else 0,
            estimated_total_ms=schedule.total_ms(run.plan),
        )
        refusal = schedule.refusal(run.plan, now)
        if refusal is not None:
            raise refusal

    def _preflight(self, run: RunView) -> None:
        book = self.playbook
        wanted = [NoInvalidIndexes(), *book.checks.before]
        results = self.checks.run(run, wanted, scope=RUN_SCOPE, when="before", heads=run.prior_heads)
        self.checks.count_baselines(run, RUN_SCOPE, book.checks.after_all)
        failed = [r for r in results if not r.ok]
        if failed:
            raise Refused(
                f"Preflight checks failed before the first step: {_details(failed)}. Nothing was changed.",
                next_step="fix what the checks found (or the checks), then run the same command again.",
            )

    # -- around each step -----------------------------------------------------------------------
    def before_step(self, revision: Revision, progress: Progress, run: RunView) -> Decision | None:
        if progress.direction is not Direction.UPGRADE:
            return None
        deferral = self.schedule.deferral(revision.revision)
        if deferral is not None:
            run.audit.emit(
                "step_deferred",
                revision=revision.revision,
                estimate_ms=deferral.estimate.ms,
                estimate_source=deferral.estimate.source,
                closes=deferral.closes,
            )
            return Decision(Action.HALT, deferral.reason, next_step=self._next_window_step())
        rules = self.playbook.rules_for(revision.revision)
        self.checks.count_baselines(run, revision.revision, [*self.playbook.checks.after_each, *rules.checks])
        return self.make_way.before(revision.revision, self._locks(revision), run)

    def _locks(self, revision: Revision) -> tuple[TableLock, ...]:
        """The tables the step will lock, as lint read them from its SQL (none known: no watch)."""
        report = self.risk.report if self.risk is not None else None
        try:
            return report.step(revision.revision).locks if report is not None else ()
        except KeyError:
            return ()

    def after_step(self, revision: Revision, progress: Progress, run: RunView) -> Decision | None:
        if progress.direction is not Direction.UPGRADE:
            # A rollback's own step: audit where the database is, but never stop the rollback.
            gone = RevisionReverted(revision.revision, self.version_table)
            self.checks.run(run, [gone], scope=revision.revision, when="after", heads=progress.heads)
            return None
        heads = progress.heads

        rules = self.playbook.rules_for(revision.revision)
        wanted: list[Check] = [
            RevisionIs(heads, self.version_table),
            NoInvalidIndexes(),
            *self.playbook.checks.after_each,
            *rules.checks,
        ]
        self.checks.settle(run, self.playbook.settle_ms_for(revision.revision), revision.revision)
        results = self.checks.run(run, wanted, scope=revision.revision, when="after", heads=heads)
        failed = [r for r in results if not r.ok]
        if not failed:
            return None
        detail = f"{_count(failed)} after {revision.revision} failed: {_details(failed)}"
        trouble = Trouble(TroubleKind.CHECK_FAILED, revision.revision, detail)
        return decide(trouble, rules.policy, self._state(run, progress))

    def after_run(self, progress: Progress, run: RunView) -> Decision | None:
        target = self.project.resolve(self.playbook.project.target_revision)
        wanted = [RevisionIs(target, self.version_table), *self.playbook.checks.after_all]
        self.checks.settle(run, self.playbook.checks.settle_ms or 0, RUN_SCOPE)
        results = self.checks.run(run, wanted, scope=RUN_SCOPE, when="after", heads=progress.heads)
        failed = [r for r in results if not r.ok]
        if not failed:
            return None
        detail = f"{_count(failed)} after the last step failed: {_details(failed)}"
        trouble = Trouble(TroubleKind.RUN_CHECK_FAILED, None, detail)
        return decide(trouble, self.playbook.policy, self._state(run, progress))

    def on_failure(self, failure: Failure, progress: Progress, run: RunView) -> Decision:
        rules = self.playbook.rules_for(failure.revision or "")
        trouble = Trouble(
            TroubleKind.STEP_FAILED,
            failure.revision,
            f"step {failure.revision} failed: {failure.message}",
            non_transactional=rules.non_transactional,
        )
        return decide(trouble, rules.policy, self._state(run, progress))

    # -- helpers --------------------------------------------------------------------------------
    def _next_window_step(self) -> str:
        window = self.schedule.window
        command = f"runner apply --playbook {self.playbook.source}"
        opening = window.next_opening(self.schedule.clock()) if window else None
        if window is None or opening is None:
            return (
                f"run {command} again in the next maintenance window (the playbook lists no later opening)."
            )
        return f"run {command} again when the window next opens ({window.local(opening.opens)}); it resumes here."

    def _state(self, run: RunView, progress: Progress) -> RunState:
        heads = progress.heads
        below = frozenset(r.revision for r in self.project.downgrade_path(heads, None)) - set(heads)
        return RunState(run.prior_heads, heads, progress.applied, below)


def _details(failed: Sequence[CheckResult]) -> str:
    return "; ".join(r.describe() for r in failed)


def _count(failed: Sequence[CheckResult]) -> str:
    return "a check" if len(failed) == 1 else f"{len(failed)} checks"


def _fmt(heads: Sequence[str]) -> str:
    return ", ".join(heads) or "<base>"
