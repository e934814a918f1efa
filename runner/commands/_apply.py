"""``apply``: the guarded run, from a request to a result.

The audit log is opened first, so that every refusal, wherever it comes from
(an unknown revision, a closed window, a database off the playbook's path, no
confirmation, a guard inside the run), is written once, by ``refusals_audited``.
Then, inside env.py's wrapper: the target revision is resolved, the database's
status read, the playbook's path and window checked, the plan shown, the target
confirmed, and the executor runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from runner.audit import AuditLog
from runner.commands.anchoring import anchoring
from runner.commands.confirm import Prompt, confirm
from runner.commands.notifying import notify_start
from runner.commands.project import Opened, within_project
from runner.database.reads import ReadBlocked
from runner.errors import RunnerError
from runner.planning.status import Status, read_status
from runner.request import RunRequest
from runner.run.executor import Executor
from runner.run.hooks import RunHooks, StandardHooks
from runner.run.result import RunResult, new_run_id
from runner.run.risk import RiskReview
from runner.run.settings import RunSettings

if TYPE_CHECKING:
    from runner.aws.clients import ClientFactory
    from runner.aws.identity import Resolver
    from runner.aws.waiting import Progress as SnapshotProgress
    from runner.playbook.hooks import PlaybookHooks


@dataclass(frozen=True)
class Preview:
    """What the operator should see before confirming: where the database is, what will run."""

    status: Status
    request: RunRequest
    hooks: RunHooks
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Interaction:
    """What apply may do with a person; by default nothing is shown and nothing is asked."""

    show: Callable[[Preview], None] = field(default=lambda preview: None)
    prompt: Prompt | None = None  # asks for the target's name; None: no one can answer (refused if needed)
    watch: Callable[[AuditLog], None] = field(default=lambda audit: None)  # e.g. print each event
    snapshot_progress: Callable[[SnapshotProgress], None] | None = None  # each poll while a snapshot is made


@dataclass(frozen=True)
class Extension:
    """What a caller adds to a run (a rehearsal): hooks around apply's own, and work after the run ends,
    in the same audit log and inside env.py's wrapper (a rollback drill)."""

    before: Callable[[AuditLog], None] = field(default=lambda audit: None)  # first, in the run's log
    around: Callable[[RunHooks], RunHooks] = field(default=lambda hooks: hooks)
    after: Callable[[RunResult, AuditLog, Opened], None] = field(default=lambda result, audit, opened: None)
    own_target: bool = False  # the caller made the target (a throwaway): the playbook's url_env is not read


@dataclass(frozen=True)
class World:
    """How the run reaches AWS and names: seams a test or a rehearsal fills (moto, a resolver of its own)."""

    aws: ClientFactory | None = (
        None  # None: boto3's usual chain (region from the playbook or the environment)
    )
    resolver: Resolver | None = None  # None: the system's DNS
    rehearsal: str | None = None  # set (why) in a rehearsal: the throwaway database stands in for the
    # source in the endpoint proof, and health checks are not run (no application stands behind it)

    def clients(self, request: RunRequest) -> ClientFactory:
        """The AWS clients this run uses (made on first use: a run without AWS never builds one)."""
        if self.aws is not None:
            return self.aws
        from runner.aws.clients import AwsSettings, BotoClients

        spec = request.playbook.snapshot if request.playbook is not None else None
        return BotoClients(AwsSettings.resolve(region=spec.region if spec is not None else None))


def apply(
    request: RunRequest,
    interaction: Interaction | None = None,
    *,
    world: World | None = None,
    sleep: Callable[[float], None] | None = None,
    extension: Extension | None = None,
) -> RunResult:
    """Run ``request``; a RunResult for every run that started, a RunnerError for one that was refused."""
    settings = request.run_settings()  # refuses a request without a target
    ui = interaction or Interaction()
    with AuditLog(request.audit_log, new_run_id()) as audit, refusals_audited(audit):
        ui.watch(audit)
        reach = world or World()
        aws = reach.clients(request)
        extra = extension or Extension()
        extra.before(audit)
        return within_project(
            request,
            lambda opened: _run(request, settings, opened, audit, ui, reach, aws, sleep, extra),
            need_target=not extra.own_target,
        )


def _run(
    request: RunRequest,
    settings: RunSettings,
    opened: Opened,
    audit: AuditLog,
    ui: Interaction,
    world: World,
    aws: ClientFactory,
    sleep: Callable[[float], None] | None,
    extension: Extension,
) -> RunResult:
    project = opened.project
    project.resolve(request.to)  # an unknown or ambiguous target revision is refused before connecting
    found = read_status(project, request.target, to=request.to, version_table=request.version_table)
    hooks = _hooks(request, opened, aws, skipped=world.rehearsal)
    if found.pending:
        refusal = _off_the_playbook(hooks, found) if request.playbook is not None else None
        if refusal is not None:
            raise refusal
        ui.show(Preview(found, request, hooks, opened.warnings))
    confirmed = confirm(request, len(found.pending), ui.prompt)
    if found.pending:
        notify_start(request, audit, aws, ",".join(found.current) or None)
    anchor = anchoring(
        request, aws, progress=ui.snapshot_progress, resolver=world.resolver, stand_in=bool(world.rehearsal)
    )
    executor = Executor(
        project,
        settings,
        audit,
        hooks=extension.around(hooks),
        confirmed=confirmed,
        anchor=anchor,
        sleep=sleep,
    )
    result = executor.apply()
    extension.after(result, audit, opened)
    return result


def _hooks(
    request: RunRequest, opened: Opened, aws: ClientFactory, *, skipped: str | None = None
) -> StandardHooks | PlaybookHooks:
    from runner.lint.estimate import read_calibration

    calibration = read_calibration(request.rehearsal_log) if request.rehearsal_log else None
    risk = RiskReview(opened.project, request.acknowledgements, calibration)
    if request.playbook is None:
        return StandardHooks(request.guards, risk=risk)
    from runner.aws.health import HealthContext
    from runner.playbook.hooks import PlaybookHooks

    return PlaybookHooks(
        request.playbook,
        opened.project,
        override=request.window_override,
        risk=risk,
        health=HealthContext(clients=aws, skipped=skipped),
    )


def _off_the_playbook(hooks: RunHooks, found: Status) -> RunnerError | None:
    """With a playbook: the database off its path, or the window closed, refuses before any prompt.

    Called only with a playbook: the playbook package is not imported by a run without one.
    """
    from runner.playbook.hooks import PlaybookHooks

    if not isinstance(hooks, PlaybookHooks):
        return None
    return hooks.off_path(found.current) or hooks.schedule.refusal(found.pending)


@contextmanager
def refusals_audited(audit: AuditLog) -> Iterator[None]:
    """The one place a refused run is written to the audit log (``run_refused``), whatever refused it."""
    try:
        yield
    except RunnerError as exc:
        if not exc.audited:
            blockers = [b.as_fields() for b in exc.blockers] if isinstance(exc, ReadBlocked) else None
            audit.emit(
                "run_refused",
                reason=exc.message,
                next_step=exc.next_step,
                exit_code=int(exc.exit_code),
                **({"blockers": blockers} if blockers is not None else {}),
            )
            exc.audited = True
        raise
