"""Before a step takes its locks: find who is in its way, end whom the playbook allows, wait for quiet.

A step's ACCESS EXCLUSIVE waits behind any open transaction that touched its
table, and everything the application sends queues behind the step. Looking
first costs one catalog query: sessions holding a conflicting lock on a table
the step will lock (from lint's reading of the step's SQL) that are idle in a
transaction, in a transaction older than ``long_transaction``, or autovacuum.

A plain autovacuum is reported but not waited for: it cancels itself when a
lock request waits behind it. An anti-wraparound one does not, so it counts as
in the way; it is never ended, and neither is any session of the runner's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from fnmatch import fnmatchcase

import psycopg

from runner.database.blockers import InTheWay, in_the_way
from runner.database.runlock import APPLICATION_PREFIX
from runner.lint.locks import LockMode
from runner.lint.report import TableLock
from runner.playbook.book import BlockerSpec
from runner.run.decision import Action, Decision
from runner.run.hooks import RunView
from runner.run.interrupts import pause, stop_requested

# From PostgreSQL 14 the call waits (up to 5 s) for the session to be gone and its locks released.
_TERMINATE = {False: "SELECT pg_terminate_backend(%s)", True: "SELECT pg_terminate_backend(%s, 5000)"}


class MakeWay:
    """The pre-step blocker watch a playbook's ``blockers:`` section configures."""

    def __init__(
        self,
        spec: BlockerSpec,
        command: str,
        *,
        pause: Callable[[float], bool] = pause,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.spec = spec
        self.command = command  # the command that picks the run up at this step, for the halt's next step
        self.pause = pause
        self.clock = clock

    def before(self, revision: str, locks: Sequence[TableLock], run: RunView) -> Decision | None:
        wanted = {lock.table: lock.mode for lock in locks}
        if not wanted:
            return None
        found = self._look(run.conn, wanted)
        if not found:
            return None
        run.audit.emit(
            "blockers_found",
            revision=revision,
            sessions=[s.as_fields() for s in found],
            wait_ms=self.spec.wait_ms,
        )
        if self._end_allowed(revision, found, run):
            found = self._look(run.conn, wanted)
        elif self.spec.wait_ms == 0 and self.spec.then == "go":
            return None  # reported: the step's lock_timeout decides
        started = self.clock()
        found = self._wait(run.conn, wanted, found, started)
        waited_ms = round((self.clock() - started) * 1000)
        blocking = [s for s in found if _waits_behind(s)]
        if not blocking:
            run.audit.emit("blockers_cleared", revision=revision, waited_ms=waited_ms)
            return None
        run.audit.emit(
            "blockers_remain",
            revision=revision,
            sessions=[s.as_fields() for s in blocking],
            waited_ms=waited_ms,
            then=self.spec.then,
        )
        if self.spec.then != "halt" or stop_requested():
            return None  # the lock_timeout decides (a stop request halts at this boundary anyway)
        who = "session " if len(blocking) == 1 else "sessions "
        who += ", ".join(f"{s.pid} ({s.application_name or 'no application_name'})" for s in blocking)
        return Decision(
            Action.HALT,
            f"{who} still in the way of {revision} after {waited_ms} ms (blockers.then: halt)",
            next_step=f"let {who} finish (or end it), then run {self.command} again; it starts at this step.",
        )

    def _look(self, conn: psycopg.Connection, wanted: dict[str, str]) -> list[InTheWay]:
        try:
            found = in_the_way(conn, list(wanted), long_s=self.spec.long_transaction_ms / 1000)
        except psycopg.Error:
            return []  # the runner's session is in trouble: the gate before the step says so
        seen: dict[int, InTheWay] = {}
        for s in found:
            if (s.application_name or "").startswith(APPLICATION_PREFIX):
                continue
            if LockMode.named(wanted[s.relation]).waits_behind(LockMode.named(s.mode)):
                seen.setdefault(s.pid, s)
        return list(seen.values())

    def _wait(
        self, conn: psycopg.Connection, wanted: dict[str, str], found: list[InTheWay], started: float
    ) -> list[InTheWay]:
        deadline = started + self.spec.wait_ms / 1000
        delay = 0.05
        while any(_waits_behind(s) for s in found):
            left = deadline - self.clock()
            if left <= 0 or self.pause(min(delay, left)):
                break
            delay = min(delay * 2, 1.0)
            found = self._look(conn, wanted)
        return found

    def _end_allowed(self, revision: str, found: list[InTheWay], run: RunView) -> bool:
        """pg_terminate_backend for each session the playbook names; True when any was ended."""
        ended = False
        for session in found:
            if session.autovacuum or not self._may_end(session.application_name):
                continue
            try:
                row = run.conn.execute(
                    _TERMINATE[run.conn.info.server_version >= 140000], [session.pid]
                ).fetchone()
                done, why = bool(row and row[0]), "the server did not end it (it may have finished)"
            except psycopg.Error as error:
                done, why = False, (error.diag.message_primary or type(error).__name__)
            event = "blocker_terminated" if done else "blocker_not_terminated"
            run.audit.emit(
                event, revision=revision, session=session.as_fields(), **({} if done else {"why": why})
            )
            ended = ended or done
        return ended

    def _may_end(self, application_name: str | None) -> bool:
        name = application_name or ""
        return bool(name) and any(fnmatchcase(name, pattern) for pattern in self.spec.terminate)


def _waits_behind(session: InTheWay) -> bool:
    """A plain autovacuum gives way to the step by itself; everything else makes it wait."""
    return not session.autovacuum or session.wraparound
