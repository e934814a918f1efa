"""Fuzzed option values: every duration, count and revision option is accepted within its range or refused.

In-process, the text goes through what the command line calls: the request
builder and its guard policy (``from_flags``, ``GuardFlags.policy``), the
revision resolution ``plan --from``/``--to`` use (``read_status``), the target
confirmation (``--confirm-target``) and the snapshot reuse (``--snapshot-id``,
against moto). A sample goes through ``runner apply`` and ``runner plan`` in a
subprocess, against a real database that a refused run must leave unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from runner import limits
from runner.aws.clients import AwsSettings, BotoClients
from runner.aws.identifiers import is_snapshot_id
from runner.aws.snapshot import reuse_snapshot
from runner.aws.specs import SnapshotSpec
from runner.commands.confirm import confirm
from runner.errors import ConfigError, Refused, RunnerError
from runner.planning.project import AlembicProject
from runner.planning.status import read_status
from runner.playbook import Playbook, load_playbook
from runner.request import Confirmation
from runner.request.flags import GuardFlags, from_flags
from runner.request.playbook import from_playbook
from runner.target import DatabaseTarget
from tests.conftest import EXAMPLE_INI, PRODUCTION_REVISION
from tests.fuzz.budget import COMMAND_LINE, IN_PROCESS, tally
from tests.fuzz.option_cases import DURATIONS, GUARD_OPTIONS, NAMES, REVISION_TEXT, SNAPSHOT_IDS
from tests.fuzz.target import URL_ENV, FuzzTarget, finish, start_cli

STAGING_NAME = "credmate-staging"
STAGING = f"""version: 1
project:
  alembic_config: {EXAMPLE_INI}
  from_revision: "{PRODUCTION_REVISION}"
target:
  name: {STAGING_NAME}
  environment: staging
  url_env: {URL_ENV}
audit:
  log: staging-audit.jsonl
"""
SNAPSHOT = "fuzz-snapshot"
SPEC = SnapshotSpec(
    required=True,
    rds_instance="fuzz-db",
    aurora_cluster=None,
    region="us-east-1",
    wait_ceiling_ms=60_000,
    tags=(),
    reuse_max_age_ms=6 * limits.HOUR_MS,
)
TARGET = DatabaseTarget.parse("postgresql://fuzz@127.0.0.1:5432/fuzz")
HUGE_DURATION = "9" * 400 + "s"  # an exit 70 (OverflowError) before durations refused infinity


@pytest.fixture(scope="module")
def staging(fuzz_dir: Path) -> tuple[Path, Playbook]:
    path = fuzz_dir / "staging.yaml"
    path.write_text(STAGING)
    return path, load_playbook(path)


@pytest.fixture(scope="module")
def staging_target(template_at: Callable[[str], str]) -> Iterator[FuzzTarget]:
    """A second database, for the playbook's apply to run beside the flags' apply."""
    target = FuzzTarget(template_at(PRODUCTION_REVISION))
    yield target
    target.drop()


@pytest.fixture(scope="module")
def moto_rds() -> Iterator[Any]:
    """moto's in-process RDS with one instance and one available snapshot of it."""
    from moto import mock_aws

    with pytest.MonkeyPatch.context() as env, mock_aws():
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
            env.delenv(name, raising=False)
        env.setenv("AWS_ACCESS_KEY_ID", "AKIAFUZZFUZZFUZZFUZZ")
        env.setenv("AWS_SECRET_ACCESS_KEY", "fuzz-secret-key-not-real")
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        rds = BotoClients(AwsSettings(region="us-east-1"))("rds")
        rds.create_db_instance(
            DBInstanceIdentifier="fuzz-db",
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            MasterUsername="fuzz",
            MasterUserPassword="fuzz-password-not-real",
            AllocatedStorage=20,
        )
        rds.create_db_snapshot(DBSnapshotIdentifier=SNAPSHOT, DBInstanceIdentifier="fuzz-db")
        yield rds


@IN_PROCESS
@given(values=st.dictionaries(st.sampled_from(sorted(GUARD_OPTIONS)), DURATIONS, min_size=1))
@example(values={"lock_timeout": HUGE_DURATION})
@example(values={"retry_budget": "1" + "0" * 310 + "min"})
def test_guard_options_are_accepted_within_their_ranges_or_refused_naming_the_option(
    values: dict[str, str],
) -> None:
    """Every guard option's text becomes a value within its range, or a ConfigError naming the option."""
    flags = GuardFlags(**values)
    try:
        request = from_flags(config=EXAMPLE_INI, target=TARGET, guards=flags)
    except ConfigError as exc:
        assert any(GUARD_OPTIONS[name] in exc.message for name in values), exc.message
        tally("options in-process: guard options", "refused")
        return
    settings = request.guards.run_wide
    guards, retry = settings.guards, settings.retry
    assert limits.LOCK_TIMEOUT.problem(guards.lock_timeout_ms) is None
    assert limits.STATEMENT_TIMEOUT.problem(guards.statement_timeout_ms) is None
    assert limits.LOCK_ATTEMPTS.problem(retry.attempts) is None
    assert limits.RETRY_BUDGET.problem(round(retry.total_s * 1000)) is None
    assert settings.source.startswith("command line (")
    tally("options in-process: guard options", "accepted")


@IN_PROCESS
@given(to=REVISION_TEXT, start=REVISION_TEXT)
def test_revision_options_resolve_or_are_refused(
    to: str, start: str, example_project: AlembicProject
) -> None:
    """--to and --from (plan offline, and apply from production's revision) resolve, or raise a RunnerError."""
    outcomes = []
    for current in (start, PRODUCTION_REVISION):
        try:
            status = read_status(example_project, None, to=to, from_revision=current)
        except RunnerError:
            outcomes.append("refused")
            continue
        assert all(example_project.is_known(r.revision) for r in status.pending)
        outcomes.append("resolved")
    tally("options in-process: --to/--from", " then ".join(outcomes))


@IN_PROCESS
@given(name=NAMES, yes=st.booleans(), snapshot=SNAPSHOT_IDS)
@example(name=STAGING_NAME, yes=False, snapshot=SNAPSHOT)
@example(name="", yes=True, snapshot="")  # an empty id made AWS list every snapshot and reuse the first
@example(name="x", yes=False, snapshot="a\x1fb")  # a control character AWS can't even echo back
def test_confirm_target_and_snapshot_id_are_matched_or_refused(
    name: str, yes: bool, snapshot: str, staging: tuple[Path, Playbook], moto_rds: Any
) -> None:
    """--confirm-target confirms only the playbook's target name; --snapshot-id is reused or refused, never a crash."""
    try:
        request = from_playbook(
            staging[1], confirmation=Confirmation(yes=yes, target_name=name), snapshot_id=snapshot
        )
    except ConfigError as exc:
        assert exc.message.startswith(f"--snapshot-id {snapshot!r} is not an RDS snapshot identifier")
        tally("options in-process: --confirm-target/--snapshot-id", "snapshot id refused")
        return
    try:
        how = confirm(request, 4, None)
    except Refused:
        how = None
    assert (how == "--confirm-target") == (name.strip() == STAGING_NAME)
    assert request.snapshot_id is not None
    try:
        reused = reuse_snapshot(moto_rds, request.snapshot_id, SPEC, now=lambda: datetime.now(UTC))
    except RunnerError:
        tally("options in-process: --confirm-target/--snapshot-id", "snapshot refused by AWS")
        return
    assert reused.identifier == SNAPSHOT
    tally("options in-process: --confirm-target/--snapshot-id", "snapshot reused")


def _flag(option: str, value: str) -> str:
    return f"{option}={value}"  # one argument, so a value that starts with - is still the option's


@COMMAND_LINE
@given(
    values=st.dictionaries(st.sampled_from(sorted(GUARD_OPTIONS)), DURATIONS),
    to=REVISION_TEXT,
    start=REVISION_TEXT,
    yes=st.booleans(),
    name=NAMES,
    snapshot=SNAPSHOT_IDS,
)
@example(values={"lock_timeout": HUGE_DURATION}, to="head", start="base", yes=True, name="", snapshot="")
def test_fuzzed_options_on_the_command_line(
    values: dict[str, str],
    to: str,
    start: str,
    yes: bool,
    name: str,
    snapshot: str,
    fuzz_dir: Path,
    fuzz_target: FuzzTarget,
    staging_target: FuzzTarget,
    staging: tuple[Path, Playbook],
) -> None:
    """apply and plan exit with a documented code and no traceback; a refused apply changes nothing."""
    guard_args = [_flag(GUARD_OPTIONS[option], value) for option, value in sorted(values.items())]
    commands = {
        "runner apply (flags)": [
            "apply",
            "-c",
            str(EXAMPLE_INI),
            _flag("--database-url", fuzz_target.url),
            _flag("--audit-log", str(fuzz_dir / "options-audit.jsonl")),
            _flag("--to", to),
            *guard_args,
            *(["--yes"] if yes else []),
        ],
        "runner plan --from --to": [
            "plan",
            "-c",
            str(EXAMPLE_INI),
            _flag("--from", start),
            _flag("--to", to),
            "--no-lint",
        ],
        "runner apply --playbook --confirm-target --snapshot-id": [
            "apply",
            "--playbook",
            str(staging[0]),
            _flag("--confirm-target", name),
            _flag("--snapshot-id", snapshot),
            "--yes",
        ],
    }
    databases = {
        "runner apply (flags)": fuzz_target,
        "runner apply --playbook --confirm-target --snapshot-id": staging_target,
    }
    running = {what: start_cli(args, fuzz_dir, staging_target.env) for what, args in commands.items()}
    for what, process in running.items():
        outcome = finish(process, commands[what])
        outcome.check()
        database = databases.get(what)
        tally(f"options: {what}", database.settle(outcome) if database else f"exit {outcome.exit_code}")
        if what.startswith("runner apply --playbook"):
            expected = 3 if not is_snapshot_id(snapshot) else 4 if name.strip() != STAGING_NAME else None
            assert expected in (None, outcome.exit_code), outcome
