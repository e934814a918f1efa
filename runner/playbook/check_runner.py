"""Running a playbook's checks at a point in the run, and writing each result to the audit log.

Each round of checks opens its own read-only connection (never the run lock's
session); the playbook's own checks run as ``checks.role`` when it names one,
the runner's (the revision, no INVALID indexes) as the runner's user. Row-count
baselines for ``rows_unchanged`` are taken before the step they guard. Health
checks (``http:``, ``metric:``) need no connection: they run through
``runner.aws.health`` with the runner's ``HealthContext``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence

import psycopg

from runner.aws.health import HealthContext, is_health_check, run_health_check, settle
from runner.check_result import Check, CheckResult, DatabaseCheck
from runner.playbook.book import Playbook
from runner.playbook.checks import (
    NoInvalidIndexes,
    QueryCheck,
    RevisionIs,
    RevisionReverted,
    RowsUnchanged,
    checks_connection,
    count_rows,
    run_check,
)
from runner.run.hooks import RunView

RUN_SCOPE = "<run>"
RUNNER_CHECKS = (RevisionIs, RevisionReverted, NoInvalidIndexes)  # always on, never run as checks.role


class CheckRunner:
    def __init__(
        self,
        playbook: Playbook,
        health: HealthContext | None = None,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.playbook = playbook
        self.health = health or HealthContext()  # HTTP and CloudWatch checks reach the world through it
        self.sleep = sleep
        self._baselines: dict[tuple[str, str], int | None] = {}

    def settle(self, run: RunView, ms: int, scope: str) -> None:
        """Wait before checks (``settle:``), so metrics and health endpoints catch up with the step."""
        if ms > 0:
            run.audit.emit("checks_settling", revision=scope, wait_ms=ms)
            settle(ms, self.sleep)

    def count_baselines(self, run: RunView, scope: str, checks: Iterable[Check]) -> None:
        counted = [check for check in checks if isinstance(check, RowsUnchanged)]
        if not counted:
            return
        timeout = self.playbook.checks.timeout_ms
        with checks_connection(run.target, run.run_id) as conn:
            for check in counted:
                count = None
                if not isinstance(conn, str):
                    count = count_rows(check, conn, timeout, role=self._role_for(check))
                self._baselines[(scope, check.table)] = count

    def run(
        self, run: RunView, wanted: Iterable[Check], *, scope: str, when: str, heads: Sequence[str]
    ) -> list[CheckResult]:
        """Run ``wanted`` now; ``scope`` is the step they belong to (or RUN_SCOPE), ``heads`` where the database is."""
        timeout = self.playbook.checks.timeout_ms
        with checks_connection(run.target, run.run_id) as conn:
            return [self._run_one(run, conn, check, timeout, scope, when, heads) for check in wanted]

    def _role_for(self, check: Check) -> str | None:
        return None if isinstance(check, RUNNER_CHECKS) else self.playbook.checks.role

    def _run_one(
        self,
        run: RunView,
        conn: psycopg.Connection | str,
        check: Check,
        timeout: int,
        scope: str,
        when: str,
        heads: Sequence[str],
    ) -> CheckResult:
        baseline = self._baselines.get((scope, check.table)) if isinstance(check, RowsUnchanged) else None
        role = None if is_health_check(check) else self._role_for(check)
        if is_health_check(check):  # HTTP or CloudWatch: no database connection involved
            result = run_health_check(check, self.health)
        elif isinstance(conn, str):  # no connection could be opened: the check fails with the reason
            result = CheckResult(check.label, False, check.expectation(), f"error: {conn}")
        elif isinstance(check, DatabaseCheck):
            result = run_check(check, conn, timeout, baseline, role=role)
        else:
            raise TypeError(f"{check!r} is neither a database check nor a health check")
        run.audit.emit(
            "check_passed" if result.ok else "check_failed",
            # the step the check belongs to, or for the run's own checks where the database is, so the
            # console line reads "check failed after REV"; ``scope`` says which it was
            revision=scope if scope != RUN_SCOPE else (", ".join(heads) or "<base>"),
            scope="step" if scope != RUN_SCOPE else "run",
            when=when,
            check=result.label,
            expected=result.expected,
            found=result.found,
            **({"sql": check.sql} if isinstance(check, QueryCheck) else {}),
            **({"role": role} if role else {}),
        )
        return result
