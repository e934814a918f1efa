"""The playbook file's shape, as pydantic models: the YAML boundary and nothing more.

Every model forbids unknown keys, so a misspelt key is an error rather than a
silently ignored setting. Values are checked one field at a time here; rules
that tie fields together live in ``consistency`` (so each problem can point at
the line of the key that is wrong), and rules that need the Alembic project
live in ``validate``. The models are turned into frozen domain values by
``book`` before anything runs.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from runner import limits
from runner.aws.identifiers import DEFAULT_TEMPLATE as DEFAULT_SNAPSHOT_NAME
from runner.playbook.fields import (
    AppPattern,
    Attempts,
    BlockerWait,
    Budget,
    Day,
    Duration,
    Environment,
    EnvName,
    FirstWait,
    IdleTimeout,
    LintCode,
    LockTimeout,
    Margin,
    MaxWait,
    PolicyName,
    QueueLimit,
    Revision,
    Settle,
    StatementTimeout,
    Text,
    TimeOfDay,
    TimeZone,
    WebhookEnv,
)
from runner.playbook.model_checks import Check


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectModel(Strict):
    alembic_config: Text = Field(description="The application's alembic.ini, relative to this playbook.")
    target_revision: Revision = Field(
        "head",
        description="The revision to upgrade to: an id, head (refused when the history has several heads) "
        "or heads (every branch); default head.",
    )
    from_revision: Revision | None = Field(
        None,
        description="The revision this playbook was reviewed against: apply refuses a database that is "
        "neither there nor part-way along the playbook's steps.",
    )
    version_table: Text = Field("alembic_version", description="Alembic's version table, as [SCHEMA.]NAME.")
    env_py_wrapper: Text | None = Field(
        None, description="MODULE:FUNCTION that calls env.py inside the context it needs."
    )


class TargetModel(Strict):
    name: Text = Field(
        description="The target's name, which the operator types to confirm a production apply."
    )
    environment: Environment = Field(description="production, staging or rehearsal.")
    url_env: EnvName = Field(description="The environment variable that holds the database URL.")
    database: Text | None = Field(None, description="The database name the URL must point at.")


class AuditModel(Strict):
    log: Text = Field(description="The append-only audit log (JSON lines), relative to this playbook.")


class TimingsModel(Strict):
    rehearsal_log: Text | None = Field(
        None, description="A rehearsal's audit log; its step_applied durations estimate each step."
    )
    safety_factor: float = Field(
        1.5, ge=1.0, le=100.0, description="Rehearsal durations are multiplied by this."
    )
    default_estimate: Duration = Field(
        "1min", validate_default=True, description="The estimate for a step with no rehearsal timing."
    )


class RetryModel(Strict):
    attempts: Attempts | None = Field(
        None, description=f"Tries of a step, the first included ({limits.LOCK_ATTEMPTS.describe()})."
    )
    first_wait: FirstWait | None = Field(
        None,
        description="The first backoff before a retry (jittered, doubling; "
        f"{limits.RETRY_FIRST_WAIT.describe()}).",
    )
    max_wait: MaxWait | None = Field(
        None, description=f"The longest single backoff ({limits.RETRY_MAX_WAIT.describe()})."
    )
    budget: Budget | None = Field(
        None,
        description=f"The total time a step may spend on lock retries ({limits.RETRY_BUDGET.describe()}).",
    )
    queue_limit: QueueLimit | None = Field(
        None,
        description="While a step waits for its lock, give way (and retry as after a lock timeout) once more "
        f"than this many sessions queue behind it ({limits.QUEUE_LIMIT.describe()}).",
    )


class GuardsModel(Strict):
    lock_timeout: LockTimeout | None = Field(
        None, description=f"How long a statement may wait for a lock ({limits.LOCK_TIMEOUT.describe()})."
    )
    statement_timeout: StatementTimeout | None = Field(
        None, description=f"How long any one statement may run ({limits.STATEMENT_TIMEOUT.describe()})."
    )
    idle_in_transaction_timeout: IdleTimeout | None = Field(
        None,
        description="The server ends a session idle in a transaction this long "
        f"({limits.IDLE_IN_TRANSACTION_TIMEOUT.describe()}).",
    )
    retry: RetryModel | None = None


class ProfileModel(GuardsModel):
    non_transactional: bool = Field(
        False,
        description="Steps under this profile run outside a transaction (autocommit_block, CREATE INDEX "
        "CONCURRENTLY): a failure may leave partial work, so it is never rolled back automatically.",
    )
    description: Text | None = None


class WindowModel(Strict):
    timezone: TimeZone = Field(description="IANA time zone the times are in, such as America/New_York.")
    days: list[Day] | None = Field(None, min_length=1, description="Days the window opens on.")
    dates: list[date] | None = Field(
        None, min_length=1, description="Dates the window opens on (YYYY-MM-DD)."
    )
    start: TimeOfDay = Field(description="Opening time, HH:MM.")
    end: TimeOfDay = Field(description="Closing time, HH:MM; at or before start means the next day.")
    finish_margin: Margin = Field(
        "0s", validate_default=True, description="Steps must be expected to finish this long before the end."
    )


class ReuseModel(Strict):
    snapshot_id: Text | None = Field(
        None,
        description="An existing snapshot to use instead of taking one; it must be available, of this instance "
        "or cluster, and younger than max_age.",
    )
    max_age: Duration | None = Field(
        None, description="The oldest snapshot that may be reused (here or with --snapshot-id)."
    )


class SnapshotModel(Strict):
    required: bool = Field(True, description="Refuse to start without a snapshot.")
    reason: Text | None = Field(
        None, description="With required: false, why this target may go without a snapshot."
    )
    rds_instance: Text | None = Field(None, description="RDS DB instance identifier.")
    aurora_cluster: Text | None = Field(None, description="Aurora DB cluster identifier.")
    region: Text | None = Field(None, description="AWS region, such as us-east-1.")
    identifier: Text = Field(
        DEFAULT_SNAPSHOT_NAME,
        description="The snapshot's name, from {target_name}, {prior}, {target}, {run_id}, {source} and "
        "{utc:%Y%m%d%H%M}; made a valid RDS identifier.",
    )
    endpoint_aliases: list[Text] = Field(
        default_factory=list,
        description="Hosts (a proxy, tunnel or CNAME) accepted as reaching the instance or cluster when "
        "that can't be proven from its endpoints.",
    )
    wait_ceiling: Duration = Field(
        "30min", validate_default=True, description="How long to wait for the snapshot to be available."
    )
    tags: dict[Text, Text] = Field(default_factory=dict, description="Extra tags for the snapshot.")
    reuse: ReuseModel | None = Field(None, description="Reuse an existing snapshot instead of taking one.")


class AcknowledgementModel(Strict):
    code: LintCode = Field(description="The lint finding's code, such as LK101.")
    revision: Revision = Field(description="The revision the finding is about.")
    reason: Text = Field(description="Why the finding is acceptable here.")


class ChecksModel(Strict):
    timeout: Duration = Field(
        "30s", validate_default=True, description="statement_timeout (and lock_timeout) for each check query."
    )
    role: Text | None = Field(
        None,
        description="A role the playbook's checks run as (SET ROLE), such as one that may only read; the "
        "runner's database user must be a member of it.",
    )
    settle: Settle | None = Field(
        None, description="A wait before each step's checks and after_all, so metrics can catch up."
    )
    before: list[Check] = Field(default_factory=list, description="Checks before the first step.")
    after_each: list[Check] = Field(default_factory=list, description="Checks after every step.")
    after_all: list[Check] = Field(default_factory=list, description="Checks after the last step.")


class PreflightModel(Strict):
    no_relevant_drift: bool = Field(
        False,
        description="Refuse the run (exit 4) when the target's schema would make a pending step fail or act "
        "differently: a column, table, index, constraint or enum value a step creates is already there (an "
        "index perhaps under another name), or something a step changes is missing. runner drift shows it.",
    )


class BlockersModel(Strict):
    wait: BlockerWait = Field(
        "0s",
        validate_default=True,
        description="Before each step, how long to wait for the sessions in its way to finish; 0s reports "
        "them and lets the step's lock_timeout decide.",
    )
    long_transaction: Duration = Field(
        "5s",
        validate_default=True,
        description="A transaction open this long on a table the step locks is in its way (an idle one "
        "always is, and so is an anti-wraparound autovacuum).",
    )
    terminate: list[AppPattern] = Field(
        default_factory=list,
        description="application_name patterns (shell-style, such as report-*) whose sessions in the way "
        "the runner ends with pg_terminate_backend, each one audited; never autovacuum, never the runner.",
    )
    then: Literal["go", "halt"] = Field(
        "go",
        description="With sessions still in the way after the wait: go (the lock_timeout decides) or halt "
        "before the step.",
    )


class StepModel(Strict):
    description: Text | None = None
    on_failure: PolicyName | None = Field(None, description="halt, rollback or restore, for this step.")
    rollback_to: Revision | None = Field(None, description="With rollback: downgrade to this revision.")
    profile: Text | None = Field(None, description="A named profile from profiles.")
    guards: GuardsModel | None = None
    estimate: Duration | None = Field(None, description="Expected duration, when no rehearsal timed it.")
    irreversible: Text | None = Field(None, description="Marks the step one-way; the text says why.")
    reversible_because: Text | None = Field(
        None, description="Overrides the detection of a one-way step; the text says why passing it is safe."
    )
    checks: list[Check] = Field(default_factory=list, description="Checks after this step.")
    settle: Settle | None = Field(None, description="A wait before this step's checks (over checks.settle).")


class NotifyModel(Strict):
    sns_topic_arn: Text | None = Field(None, description="An SNS topic that receives every notification.")
    webhook_url_env: WebhookEnv | None = Field(
        None,
        description="The environment variable holding an HTTPS URL that receives Slack-compatible JSON; the URL "
        "never appears in the playbook or the logs.",
    )
    required: bool = Field(
        False, description="Refuse to start when the start notification can't be delivered."
    )


class PlaybookModel(Strict):
    version: Literal[1] = Field(description="The playbook format version: 1.")
    description: Text | None = None
    project: ProjectModel
    target: TargetModel
    audit: AuditModel | None = None
    timings: TimingsModel = Field(default_factory=TimingsModel)
    guards: GuardsModel = Field(default_factory=GuardsModel)
    profiles: dict[Text, ProfileModel] = Field(default_factory=dict)
    on_failure: PolicyName = Field("halt", description="halt, rollback or restore, for every step.")
    rollback_to: Revision | None = Field(None, description="With rollback: downgrade to this revision.")
    checks: ChecksModel = Field(default_factory=ChecksModel)
    steps: dict[Revision, StepModel] = Field(default_factory=dict)
    window: WindowModel | None = None
    snapshot: SnapshotModel | None = None
    notify: NotifyModel | None = None
    acknowledgements: list[AcknowledgementModel] = Field(default_factory=list)
    preflight: PreflightModel = Field(
        default_factory=PreflightModel, description="What must hold before the first step starts."
    )
    blockers: BlockersModel = Field(
        default_factory=BlockersModel,
        description="Sessions in a step's way (long or idle transactions, autovacuum on its tables).",
    )
