"""Before a step locks a table, the runner looks for sessions in its way: it ends the ones the playbook
names, waits for the others within a bound, and halts or goes ahead as the playbook says."""

from __future__ import annotations

import textwrap

import psycopg
import pytest

from runner.lint.locks import LockMode
from runner.target import DatabaseTarget
from tests import pg
from tests.faults import events, heads, spawn, wait_for

BLUESHIFT = "20260131_0000"  # ALTER TABLE providers ...: ACCESS EXCLUSIVE on providers
BEFORE_BLUESHIFT = "7702d353e5b8"  # its down_revision


def _playbook(tmp_path, example_ini, blockers: str):
    path = tmp_path / "playbook.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            version: 1
            project:
              alembic_config: {example_ini}
              from_revision: 20260115_0200
            target:
              name: blockers-test
              environment: rehearsal
              url_env: BLOCKERS_URL
            audit:
              log: audit.jsonl
            acknowledgements:
              - code: LK107
                revision: 20260127_0100
                reason: the enum value is additive here
            guards:
              lock_timeout: 2s
              retry:
                attempts: 1
            """
        )
        + textwrap.dedent(blockers)
    )
    return path


def _idle_in_transaction(url: str, application_name: str) -> psycopg.Connection:
    """An application session that read providers and then went quiet inside its transaction."""
    conn = psycopg.connect(**DatabaseTarget.parse(url).connect_kwargs(), application_name=application_name)
    conn.execute("SELECT count(*) FROM providers").fetchone()
    return conn


def _apply(playbook, url):
    return spawn("apply", "--playbook", str(playbook), "--yes", env={"BLOCKERS_URL": url})


def named(log, name):
    return [e for e in log if e["event"] == name]


def test_a_named_blocker_is_ended_and_audited(production_db, tmp_path, example_ini):
    url = pg.url_for(production_db)
    report_job = _idle_in_transaction(url, "report-job")
    playbook = _playbook(tmp_path, example_ini, "blockers:\n  wait: 5s\n  terminate: [report-*]\n")

    out, err = _apply(playbook, url).communicate(timeout=120)

    assert heads(url) == ["20260131_0000"], out + err
    log = events(tmp_path / "audit.jsonl")
    (found,) = named(log, "blockers_found")
    assert found["revision"] == BLUESHIFT
    assert [(s["application_name"], s["state"], s["mode"]) for s in found["sessions"]] == [
        ("report-job", "idle in transaction", "AccessShareLock")
    ]
    (ended,) = named(log, "blocker_terminated")
    assert ended["session"]["pid"] == report_job.info.backend_pid
    assert named(log, "blockers_cleared") and not named(log, "lock_timeout_hit")
    assert "ended pid" in out and "report-job" in out
    with pytest.raises(psycopg.OperationalError):
        report_job.execute("SELECT 1")
    report_job.close()


def test_the_step_waits_for_a_blocker_it_may_not_end(production_db, tmp_path, example_ini):
    """billing is not in terminate: the runner waits, and the step starts once billing commits."""
    url = pg.url_for(production_db)
    billing = _idle_in_transaction(url, "billing")
    playbook = _playbook(tmp_path, example_ini, "blockers:\n  wait: 30s\n  terminate: [report-*]\n")
    audit = tmp_path / "audit.jsonl"
    proc = _apply(playbook, url)

    wait_for(
        lambda: audit.exists() and named(events(audit), "blockers_found"),
        what="the runner to find billing in the way",
    )
    billing.commit()  # the application finishes its transaction
    out, err = proc.communicate(timeout=120)

    assert proc.returncode == 0, out + err
    assert heads(url) == ["20260131_0000"]
    log = events(audit)
    assert not named(log, "blocker_terminated") and not named(log, "lock_timeout_hit")
    (cleared,) = named(log, "blockers_cleared")
    assert cleared["revision"] == BLUESHIFT
    billing.execute("SELECT 1")  # never ended
    billing.close()


def test_halt_before_the_step_when_the_blocker_stays(production_db, tmp_path, example_ini):
    url = pg.url_for(production_db)
    billing = _idle_in_transaction(url, "billing")
    playbook = _playbook(tmp_path, example_ini, "blockers:\n  wait: 300ms\n  then: halt\n")

    proc = _apply(playbook, url)
    out, err = proc.communicate(timeout=120)

    assert proc.returncode == 1, out + err
    assert heads(url) == [BEFORE_BLUESHIFT]  # every step before it applied; BlueShift never started
    log = events(tmp_path / "audit.jsonl")
    (remain,) = named(log, "blockers_remain")
    assert remain["then"] == "halt" and remain["waited_ms"] >= 300
    assert remain["sessions"][0]["pid"] == billing.info.backend_pid
    assert not [e for e in named(log, "step_started") if e["revision"] == BLUESHIFT]
    assert "runner apply --playbook" in err + out  # the next safe command
    billing.execute("SELECT 1")
    billing.close()


def test_without_a_blockers_section_they_are_reported_and_the_lock_timeout_decides(
    production_db, tmp_path, example_ini
):
    url = pg.url_for(production_db)
    billing = _idle_in_transaction(url, "billing")
    playbook = _playbook(tmp_path, example_ini, "")

    proc = _apply(playbook, url)
    out, err = proc.communicate(timeout=120)

    assert proc.returncode == 1, out + err  # the ALTER waited out its 2s lock_timeout once
    log = events(tmp_path / "audit.jsonl")
    (found,) = named(log, "blockers_found")
    assert found["wait_ms"] == 0 and found["sessions"][0]["application_name"] == "billing"
    assert not named(log, "blockers_remain")  # nothing waited for: the report is the whole watch
    assert named(log, "lock_timeout_hit")
    billing.close()


@pytest.mark.parametrize(
    ("wanted", "held", "waits"),
    [
        ("ACCESS EXCLUSIVE", "AccessShareLock", True),
        ("SHARE UPDATE EXCLUSIVE", "RowExclusiveLock", False),  # CREATE INDEX CONCURRENTLY vs writes
        ("SHARE UPDATE EXCLUSIVE", "ShareUpdateExclusiveLock", True),  # vs a (manual) VACUUM
        ("SHARE", "RowExclusiveLock", True),  # CREATE INDEX vs writes
        ("SHARE", "ShareLock", False),
        ("SHARE ROW EXCLUSIVE", "RowShareLock", False),  # a foreign key vs SELECT ... FOR UPDATE
    ],
)
def test_lock_conflicts_follow_postgresql(wanted, held, waits):
    assert LockMode.named(wanted).waits_behind(LockMode.named(held)) is waits
