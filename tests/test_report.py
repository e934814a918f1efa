"""The runbook report is made from the audit log alone, and says what an operator needs."""

from __future__ import annotations

from runner.audit.report import render_markdown, runs_in
from runner.guards import Guards, LockRetryPolicy
from tests.cli import run_cli


def test_report_of_a_halted_run_names_the_blocker_and_the_next_step(
    example_ini, filled_production_db, reader_holding_providers, run_apply, tmp_path
):
    guards = Guards(lock_timeout_ms=50, statement_timeout_ms=10_000)
    retry = LockRetryPolicy(attempts=2, first_wait_s=0.001, max_wait_s=0.001)
    result, events = run_apply(example_ini, filled_production_db, guards=guards, retry=retry)

    text = render_markdown(events, result.run_id)

    pid = reader_holding_providers.info.backend_pid
    assert text.startswith(f"# Migration run {result.run_id}\n")
    assert "- **Outcome**: halted (exit code 1)" in text
    assert "- **Prior revision**: 20260115_0200" in text
    assert "- **Final revision**: 7702d353e5b8" in text
    assert "| 4 | 20260131_0000 | upgrade | FAILED (lock_timeout) | 1 |" in text
    assert "| 5 | 20260131_0000 | upgrade | FAILED (lock_timeout) | 2 |" in text
    assert f"blocked by pid {pid} (idle in transaction" in text
    assert "AccessShareLock on providers): `SELECT count(*) FROM providers`" in text
    assert "## Next step\n\nwait for (or end) the session holding the lock" in text
    assert "CREATE TABLE provider_credentials" in text  # every statement a step ran


def test_audit_report_command_writes_the_last_run(example_ini, production_db, tmp_path):
    from tests import pg

    log = tmp_path / "audit.jsonl"
    env = {"DATABASE_URL": pg.url_for(production_db)}
    assert run_cli("apply", "-c", str(example_ini), "--yes", "--audit-log", str(log), env=env).returncode == 0
    out = tmp_path / "report.md"

    proc = run_cli("audit", "report", str(log), "-o", str(out))

    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "- **Outcome**: done (exit code 0)" in text
    assert "- **Final revision**: 20260131_0000" in text
    assert "verified intact" in text
    assert runs_in([{"run_id": "a"}, {"run_id": "b"}, {"run_id": "a"}]) == ["a", "b"]
