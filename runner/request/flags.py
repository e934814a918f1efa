"""A run request from command-line values: every value parsed and range-checked before anything connects.

The command line passes what the operator typed (strings); what is wrong is
refused here, naming the option and its accepted range (exit 3). ``--lock-attempts``
counts every try of a step, the first included, exactly as a playbook's
``retry.attempts`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from runner import limits
from runner.database.version_table import VersionTable
from runner.durations import parse_ms
from runner.errors import ConfigError
from runner.guards import DEFAULTS, GuardPolicy, Guards, LockRetryPolicy
from runner.request import DEFAULT_AUDIT_LOG, Confirmation, RunRequest
from runner.target import DatabaseTarget

if TYPE_CHECKING:
    from runner.lint import Acknowledgement
    from runner.playbook.schedule import WindowOverride


@dataclass(frozen=True)
class GuardFlags:
    """The guard and retry options as typed; None for an option the operator did not give."""

    lock_timeout: str | None = None
    statement_timeout: str | None = None
    idle_in_transaction_timeout: str | None = None
    lock_attempts: str | None = None
    retry_wait: str | None = None
    retry_max_wait: str | None = None
    retry_budget: str | None = None
    queue_limit: str | None = None

    @property
    def given(self) -> list[str]:
        return [name for name, value in vars(self).items() if value is not None]

    def policy(self) -> GuardPolicy:
        defaults, retry = Guards(), LockRetryPolicy()
        guards = Guards(
            lock_timeout_ms=_ms(
                "--lock-timeout", self.lock_timeout, defaults.lock_timeout_ms, limits.LOCK_TIMEOUT
            ),
            statement_timeout_ms=_ms(
                "--statement-timeout",
                self.statement_timeout,
                defaults.statement_timeout_ms,
                limits.STATEMENT_TIMEOUT,
            ),
            idle_in_transaction_timeout_ms=_ms(
                "--idle-in-transaction-timeout",
                self.idle_in_transaction_timeout,
                defaults.idle_in_transaction_timeout_ms,
                limits.IDLE_IN_TRANSACTION_TIMEOUT,
            ),
        )
        policy = LockRetryPolicy(
            attempts=_count("--lock-attempts", self.lock_attempts, retry.attempts, limits.LOCK_ATTEMPTS),
            first_wait_s=_ms(
                "--retry-wait", self.retry_wait, round(retry.first_wait_s * 1000), limits.RETRY_FIRST_WAIT
            )
            / 1000,
            max_wait_s=_ms(
                "--retry-max-wait", self.retry_max_wait, round(retry.max_wait_s * 1000), limits.RETRY_MAX_WAIT
            )
            / 1000,
            total_s=_ms("--retry-budget", self.retry_budget, round(retry.total_s * 1000), limits.RETRY_BUDGET)
            / 1000,
            queue_limit=_count("--queue-limit", self.queue_limit, 0, limits.QUEUE_LIMIT) or None,
        )
        source = "command line (" + ", ".join(f"--{n.replace('_', '-')}" for n in self.given) + ")"
        return GuardPolicy.of(guards, policy, source if self.given else DEFAULTS)


def from_flags(
    *,
    config: Path,
    target: DatabaseTarget | None,
    to: str = "head",
    from_revision: str | None = None,
    env_py_wrapper: str | None = None,
    version_table: str = "alembic_version",
    guards: GuardFlags | None = None,
    audit_log: Path | None = None,
    acknowledgements: Sequence[Acknowledgement] = (),
    confirmation: Confirmation | None = None,
    window_override: WindowOverride | None = None,
    rehearsal_log: Path | None = None,
    command: str = "runner apply",
) -> RunRequest:
    if window_override is not None:
        raise ConfigError("--override-window only applies with --playbook; there is no window without one.")
    return RunRequest(
        config=config,
        target=target,
        to=to,
        from_revision=from_revision,
        env_py_wrapper=env_py_wrapper,
        version_table=VersionTable.parse(version_table),
        guards=(guards or GuardFlags()).policy(),
        audit_log=audit_log or DEFAULT_AUDIT_LOG,
        acknowledgements=tuple(acknowledgements),
        confirmation=confirmation or Confirmation(),
        rehearsal_log=rehearsal_log,
        command=command,
    )


def _ms(option: str, value: str | None, default: int, accepted: limits.Range) -> int:
    """A duration option in milliseconds, refused (exit 3) outside its range."""
    if value is None:
        return default
    try:
        ms = parse_ms(value)
    except ValueError as exc:
        raise ConfigError(f"{option}: {exc}.") from None
    _check(option, value, ms, accepted)
    return ms


def _count(option: str, value: str | None, default: int, accepted: limits.Range) -> int:
    if value is None:
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ConfigError(f"{option}: {value!r} is not a whole number.") from None
    _check(option, value, number, accepted)
    return number


def _check(option: str, written: str, value: int, accepted: limits.Range) -> None:
    problem = accepted.problem(value)
    if problem is not None:
        raise ConfigError(f"{option} {written.strip()} {problem}.")
