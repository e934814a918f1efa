"""Playbook test helpers: playbooks written per test, runs through the real executor, a fake clock."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from runner.audit import AuditLog
from runner.commands import refusals_audited
from runner.planning.project import AlembicProject
from runner.playbook import load_playbook
from runner.playbook.hooks import PlaybookHooks
from runner.playbook.schedule import WindowOverride
from runner.request.playbook import from_playbook
from runner.run.executor import Executor
from runner.run.result import RunResult
from runner.target import DatabaseTarget
from tests import pg
from tests.conftest import EXAMPLE_INI

ENUM_REVISION_FILE = "20260127_0100_add_stage_changed_action_type.py"
REVERSIBLE_ENUM_DOWNGRADE = """
def downgrade() -> None:
    # The textbook way back: a new type without the value, the column moved onto it.
    op.execute("ALTER TYPE coordinator_action_type RENAME TO coordinator_action_type_old")
    op.execute(
        "CREATE TYPE coordinator_action_type AS ENUM "
        "('note_added', 'document_requested', 'license_verified', 'status_changed')"
    )
    op.execute(
        "ALTER TABLE coordinator_actions ALTER COLUMN action_type TYPE coordinator_action_type "
        "USING action_type::text::coordinator_action_type"
    )
    op.execute("DROP TYPE coordinator_action_type_old")
"""


class FakeClock:
    """A clock tests set by hand; ``step`` advances it on every reading."""

    def __init__(self, now: datetime, step_s: float = 0.0) -> None:
        self.now = now.astimezone(UTC)
        self.step_s = step_s

    def __call__(self) -> datetime:
        current = self.now
        self.now = self.now + timedelta(seconds=self.step_s)
        return current


@pytest.fixture(scope="session")
def reversible_ini(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example project whose enum step has a real downgrade (so rollback can pass it)."""
    copy = tmp_path_factory.mktemp("reversible") / "credentialmate"
    shutil.copytree(EXAMPLE_INI.parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    script = copy / "migrations" / "versions" / ENUM_REVISION_FILE
    source = script.read_text()
    head, _, _ = source.partition("def downgrade() -> None:")
    script.write_text(head.rstrip() + "\n\n" + REVERSIBLE_ENUM_DOWNGRADE)
    return copy / "alembic.ini"


@pytest.fixture
def write_playbook(tmp_path: Path) -> Callable[..., Path]:
    """Write a playbook for this test; ``{ini}`` in the text becomes the example project's alembic.ini."""

    def write(text: str, *, ini: Path = EXAMPLE_INI, name: str = "playbook.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).replace("{ini}", str(ini)))
        return path

    return write


@pytest.fixture
def run_playbook() -> Callable[..., tuple[RunResult, list[dict[str, Any]]]]:
    """Apply a playbook to a database through the real executor; returns the result and the audit events."""

    def run(
        path: Path,
        database: str,
        *,
        clock: Callable[[], datetime] | None = None,
        override: WindowOverride | None = None,
    ) -> tuple[RunResult, list[dict[str, Any]]]:
        playbook = load_playbook(path)
        target = DatabaseTarget.parse(pg.url_for(database))
        project = AlembicProject.load(playbook.project.alembic_config, database_url=target.for_alembic())
        extra = {"clock": clock} if clock is not None else {}
        hooks = PlaybookHooks(playbook, project, override=override, **extra)
        audit = AuditLog(None, "test-run")
        request = replace(from_playbook(playbook, command="runner apply --playbook X"), target=target)
        with refusals_audited(audit):
            result = Executor(
                project, request.run_settings(), audit, hooks=hooks, sleep=lambda _s: None
            ).apply()
        return result, [event.fields for event in audit.events]
        return result, [event.fields for event in audit.events]

    return run


def named(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [event for event in events if event["event"] == name]


def at(local: str, zone: str = "America/New_York") -> datetime:
    """An aware datetime from ``2026-02-10 03:58`` in ``zone``."""
    return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(zone))
