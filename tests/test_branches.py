"""Branched histories: the pending chain in Alembic's order, one step each; 'head' refused with two heads."""

from __future__ import annotations

import json
import shutil
from contextlib import closing
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from runner.planning.project import AlembicProject
from runner.run.result import RunStatus
from tests import pg
from tests.cli import run_cli
from tests.conftest import PROJECTS, events_named

INI = PROJECTS / "branches" / "alembic.ini"


def alembic_order(current: tuple[str, ...]) -> list[str]:
    script = ScriptDirectory.from_config(Config(str(INI)))
    return [step.revision.revision for step in script._upgrade_revs("heads", current)]


def recorded_steps(database: str) -> list[tuple[str, int]]:
    with closing(pg.connect(database)) as conn:
        return conn.execute("SELECT revision, txid FROM steps ORDER BY n").fetchall()


def test_pending_chain_matches_alembics_own_order():
    project = AlembicProject.load(INI)
    assert [r.revision for r in project.pending(())] == alembic_order(())
    assert [r.revision for r in project.pending(("b1",))] == alembic_order(("b1",)) == ["b2", "m", "c"]
    merge = project.revision("m")
    assert merge.down_revisions == ("b1", "b2")
    assert merge.down_revision == "b1,b2"


def test_branches_and_merge_are_applied_one_revision_per_transaction(new_db, run_apply):
    database = new_db()
    result, events = run_apply(INI, database)

    assert result.status is RunStatus.DONE
    order = alembic_order(())
    assert [s.revision for s in result.applied] == order
    steps = recorded_steps(database)
    assert [s[0] for s in steps] == order
    assert len({s[1] for s in steps}) == len(order), "two revisions shared a transaction"
    heads_after = [e["heads"] for e in events_named(events, "step_applied")]
    assert heads_after[-1] == ["c"]
    assert ["b1", "b2"] in heads_after, "the two branches were never both heads before the merge"
    assert pg.heads(database) == ["c"]


def test_a_database_on_one_branch_gets_the_other_then_the_merge(new_db, run_apply):
    database = new_db()
    pg.alembic_upgrade(str(INI), database, "b1")

    result, _ = run_apply(INI, database)

    assert [s.revision for s in result.applied] == ["b2", "m", "c"]
    assert pg.heads(database) == ["c"]


def test_a_target_on_one_branch_applies_only_that_branch(new_db, run_apply):
    database = new_db()
    pg.alembic_upgrade(str(INI), database, "a")

    result, _ = run_apply(INI, database, to="b2")

    assert [s.revision for s in result.applied] == ["b2"]
    assert pg.heads(database) == ["b2"]


@pytest.fixture
def two_heads(tmp_path: Path) -> Path:
    """The branched project before its merge: heads b1 and b2, both on a."""
    versions = tmp_path / "versions"
    versions.mkdir()
    for name in ("a.py", "b1.py", "b2.py"):
        shutil.copy(INI.parent / "versions" / name, versions / name)
    script_location = (INI.parent / "../../../examples/credentialmate/migrations").resolve()
    ini = tmp_path / "alembic.ini"
    ini.write_text(
        INI.read_text().replace("%(here)s/../../../examples/credentialmate/migrations", str(script_location))
    )
    return ini


def two_heads_refusal(ini: Path) -> str:
    where = (INI.parent / "../../../examples/credentialmate/migrations").resolve()
    return (
        f"error: The Alembic project at {where} has 2 heads (b1, b2), so 'head' does not say which branch to "
        "upgrade; nothing was changed. Next: name the head to upgrade to (--to b1), or pass --to heads to "
        "apply every branch.\n"
    )


@pytest.mark.parametrize("to", [[], ["--to", "head"]])
def test_apply_to_head_refuses_a_history_with_two_heads(new_db, two_heads, tmp_path, to):
    """As Alembic does: 'head' with two heads is exit 3, both listed, nothing applied, the refusal audited."""
    database = new_db()
    log = tmp_path / "audit.jsonl"

    proc = run_cli(
        "apply",
        "-c",
        str(two_heads),
        *to,
        "--yes",
        "--audit-log",
        str(log),
        env={"DATABASE_URL": pg.url_for(database)},
    )

    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert proc.stderr == two_heads_refusal(two_heads)
    assert pg.heads(database) == []
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["event"] for e in events] == ["run_refused"]
    assert events[0]["exit_code"] == 3


def test_apply_to_heads_applies_every_branch(new_db, two_heads, tmp_path):
    """--to heads is the explicit way to apply both branches."""
    database = new_db()

    proc = run_cli(
        "apply",
        "-c",
        str(two_heads),
        "--to",
        "heads",
        "--yes",
        "--audit-log",
        str(tmp_path / "audit.jsonl"),
        env={"DATABASE_URL": pg.url_for(database)},
    )

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert pg.heads(database) == ["b1", "b2"]


@pytest.mark.parametrize("command", ["plan", "lint"])
def test_plan_and_lint_refuse_head_with_two_heads_and_status_lists_them(new_db, two_heads, command):
    """plan and lint default to 'head' as apply does; status still shows every head."""
    env = {"DATABASE_URL": pg.url_for(new_db())}

    refused = run_cli(command, "-c", str(two_heads), env=env)
    both = run_cli(command, "-c", str(two_heads), "--to", "heads", env=env)
    status = run_cli("status", "-c", str(two_heads), env=env)

    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert refused.stderr == two_heads_refusal(two_heads)
    assert both.returncode == 0, both.stdout + both.stderr
    assert status.returncode == 0, status.stderr
    assert "Heads    b1, b2" in status.stdout.splitlines()


@pytest.mark.parametrize("target_line", ["  target_revision: head\n", ""])
def test_a_playbook_targeting_head_refuses_two_heads_at_its_line(two_heads, tmp_path, target_line):
    """target_revision: head (written or by default) with two heads: exit 3 naming file, line and field."""
    playbook = tmp_path / "playbook.yaml"
    playbook.write_text(
        "version: 1\n"
        "project:\n"
        f"  alembic_config: {two_heads}\n"
        f"{target_line}"
        "target:\n"
        "  name: branched\n"
        "  environment: rehearsal\n"
        "  url_env: BRANCHED_URL\n"
    )

    proc = run_cli("playbook", "validate", str(playbook), "--no-env-check")

    line = 4 if target_line else 2  # the default is reported at the project key
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert proc.stderr == (
        f"error: {playbook} line {line}, project.target_revision: head is ambiguous: the project has 2 heads "
        "(b1, b2); name the one to upgrade to, or write heads to apply every branch.\n"
    )
