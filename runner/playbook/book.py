"""A loaded playbook as frozen domain values: what the runner obeys during a run.

Built from the validated model once; from here on nothing depends on pydantic.
Guards are resolved per step in one order (runner defaults, the playbook's
guards, the step's profile, the step's own guards), and every step the
playbook does not name gets the same defaults, so ``rules_for`` answers for
any revision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from runner.aws.specs import NotifySpec, SnapshotSpec
from runner.check_result import Check
from runner.guards import DEFAULTS, GuardPolicy, Guards, LockRetryPolicy, StepSettings
from runner.playbook.policy import FailurePolicy
from runner.playbook.problems import Locations
from runner.playbook.window import Window


@dataclass(frozen=True)
class ProjectSpec:
    alembic_config: Path
    target_revision: str
    from_revision: str | None
    version_table: str
    env_py_wrapper: str | None


@dataclass(frozen=True)
class TargetSpec:
    name: str
    environment: str
    url_env: str
    database: str | None

    @property
    def needs_confirmation(self) -> bool:
        """Anything but a rehearsal is confirmed by typing its name."""
        return self.environment != "rehearsal"


@dataclass(frozen=True)
class TimingSpec:
    rehearsal_log: Path | None
    safety_factor: float
    default_estimate_ms: int


@dataclass(frozen=True)
class Acknowledgement:
    code: str
    revision: str
    reason: str


@dataclass(frozen=True)
class CheckPlan:
    timeout_ms: int = 30_000
    role: str | None = None  # SET ROLE for the playbook's own checks
    settle_ms: int | None = None  # a wait before each step's checks and after_all
    before: tuple[Check, ...] = ()
    after_each: tuple[Check, ...] = ()
    after_all: tuple[Check, ...] = ()


@dataclass(frozen=True)
class PreflightSpec:
    no_relevant_drift: bool = False  # runner.drift.preflight.require_no_relevant_drift before the first step


@dataclass(frozen=True)
class BlockerSpec:
    """Before each step: who may stand in its way, how long to wait for them, what to end."""

    wait_ms: int = 0  # 0: report them and let the step's lock_timeout decide
    long_transaction_ms: int = 5_000  # an open transaction older than this on a step's table is in its way
    terminate: tuple[str, ...] = ()  # application_name patterns whose sessions the runner may end
    then: str = "go"  # after the wait, with sessions still in the way: go (lock_timeout decides) or halt


@dataclass(frozen=True)
class StepRules:
    revision: str
    guards: Guards
    retry: LockRetryPolicy
    policy: FailurePolicy
    checks: tuple[Check, ...] = ()
    estimate_ms: int | None = None
    irreversible: str | None = None
    reversible_because: str | None = None
    profile: str | None = None
    non_transactional: bool = False
    named: bool = False  # the playbook has an entry for this step
    guards_overridden: bool = False  # the step names its own guards or profile: lint's profile yields
    settle_ms: int | None = None  # a wait before this step's checks; None: the playbook's checks.settle


@dataclass(frozen=True)
class Playbook:
    source: str  # the path as the operator gave it, for messages
    path: Path
    digest: str  # sha256 of the file, recorded in the audit log
    project: ProjectSpec
    target: TargetSpec
    audit_log: Path | None
    timings: TimingSpec
    guards: Guards
    retry: LockRetryPolicy
    policy: FailurePolicy
    checks: CheckPlan
    window: Window | None
    snapshot: SnapshotSpec | None
    acknowledgements: tuple[Acknowledgement, ...]
    steps: tuple[StepRules, ...]
    defaults: StepRules
    guards_source: str = DEFAULTS  # "playbook guards" when the playbook sets any run-wide guard
    notify: NotifySpec | None = None
    preflight: PreflightSpec = PreflightSpec()
    blockers: BlockerSpec = BlockerSpec()
    locations: Locations = field(default_factory=Locations, compare=False)

    def rules_for(self, revision: str) -> StepRules:
        for rules in self.steps:
            if rules.revision == revision:
                return rules
        return StepRules(**{**self.defaults.__dict__, "revision": revision})

    def settle_ms_for(self, revision: str) -> int:
        """The wait before a step's checks: the step's settle, else checks.settle, else none."""
        own = self.rules_for(revision).settle_ms
        return own if own is not None else self.checks.settle_ms or 0

    def step_names(self) -> list[str]:
        return [rules.revision for rules in self.steps]

    def guard_policy(self) -> GuardPolicy:
        """The run-wide guards and the steps that name their own (see runner.request.guards for the order)."""
        run_wide = StepSettings(self.guards, self.retry, self.guards_source)
        own = {
            rules.revision: StepSettings(
                rules.guards,
                rules.retry,
                f"playbook steps.{rules.revision}" + (f" (profile {rules.profile})" if rules.profile else ""),
            )
            for rules in self.steps
            if rules.guards_overridden
        }
        return GuardPolicy(run_wide, own)
