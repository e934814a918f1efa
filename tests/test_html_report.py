"""The HTML runbook: made from a real rehearsal's audit log alone, standalone, and drawn by a real browser."""

from __future__ import annotations

import collections
import html
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from runner.audit import AuditLog
from runner.audit.html_report import render_html
from runner.audit.reader import read_events
from runner.guards import GuardPolicy, Guards, LockRetryPolicy
from runner.planning.project import AlembicProject
from runner.rehearsal.baselines import BaselineRecorder
from runner.rehearsal.drill import drill
from runner.run.executor import Executor
from runner.run.hooks import StandardHooks
from runner.run.result import new_run_id
from runner.run.risk import RiskReview
from runner.run.settings import RunSettings
from runner.target import DatabaseTarget
from tests import pg
from tests.cli import run_cli
from tests.conftest import EXAMPLE_HEAD, EXAMPLE_INI, PRODUCTION_REVISION
from tests.png import pixels

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--window-size=1000,1600",
)
APPLIED_GREEN = (0x1A, 0x7F, 0x37)  # the page's colour for an applied step (badges and timeline bars)


class RecordingHooks(StandardHooks):
    """The command line's hooks, recording the schema before each step, as a rehearsal does."""

    def __init__(self, policy, risk, recorder):
        super().__init__(policy, risk=risk)
        self.recorder = recorder

    def before_step(self, revision, progress, run):
        if progress.direction == "upgrade":
            self.recorder.before(revision.revision)
        return super().before_step(revision, progress, run)


@pytest.fixture
def rehearsal_log(production_db, tmp_path) -> tuple[Path, str]:
    """A real guarded run of the example (20260115_0200 -> head), then the drill, in one audit log."""
    target = DatabaseTarget.parse(pg.url_for(production_db))
    project = AlembicProject.load(EXAMPLE_INI, database_url=target.for_alembic())
    policy = GuardPolicy.of(Guards(), LockRetryPolicy(attempts=1))
    settings = RunSettings(target, to="heads", guards=policy, operator="test-operator")
    path = tmp_path / "rehearsal.jsonl"
    audit = AuditLog(path, new_run_id())
    recorder = BaselineRecorder(target)
    hooks = RecordingHooks(policy, RiskReview(project), recorder)
    try:
        result = Executor(project, settings, audit, hooks=hooks, sleep=lambda s: None).apply()
        steps = [outcome.revision for outcome in result.applied]
        audit.emit(
            "drill_finished",
            **drill(project, target, steps, recorder.baselines, one_way=hooks.irreversible).as_event(),
        )
    finally:
        audit.close()
    assert result.final_heads == (EXAMPLE_HEAD,)
    return path, result.run_id


def text_of(page: str) -> str:
    """The page's text, as a reader sees it (tags gone, entities read, spaces collapsed)."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_the_page_says_what_the_run_and_the_drill_did(rehearsal_log):
    """Versions, the chain with its risk, the timeline, the drill and the way back, all from the log alone."""
    log, run_id = rehearsal_log
    page = render_html(read_events(log), run_id, log=str(log))
    text = text_of(page)

    assert f"<title>Migration run {run_id}</title>" in page
    assert f"{PRODUCTION_REVISION} → {EXAMPLE_HEAD} the revision before the run, and after it" in text
    assert (
        "20260127_0100 Add STAGE_CHANGED action type to coordinator_actions enum low none on existing tables no (enum ADD VALUE)"
        in text
    )
    assert page.count('<rect class="applied"') == 4
    assert "No snapshot was taken for this run." in text
    assert "20260131_0000 reverted the schema is as it was before its upgrade" in text
    assert "20260127_0100 one-way its downgrade() does nothing" in text
    assert "20260115_0300 not reached" in text
    assert (
        "upgraded again same through 7702d353e5b8, 20260131_0000: the schema equals the first upgrade's"
        in text
    )
    assert "alembic -c alembic.ini downgrade 20260127_0100" in page
    assert "No decision was needed" in text


def test_the_page_fetches_nothing(rehearsal_log):
    """Standalone: no script, stylesheet, image, font or link to load; the SVG namespace is the only URL."""
    log, run_id = rehearsal_log
    page = render_html(read_events(log), run_id)
    for needle in ("<script", "<link", "<img", "src=", "href=", "url(", "@import"):
        assert needle not in page
    assert set(re.findall(r"https?://[^\s\"'<]+", page)) == {"http://www.w3.org/2000/svg"}


def test_audit_report_html_writes_a_private_file(rehearsal_log, tmp_path):
    """runner audit report LOG --html -o FILE: the page, mode 0600; --html with --markdown is refused."""
    log, run_id = rehearsal_log
    out = tmp_path / "report.html"

    proc = run_cli("audit", "report", str(log), "--html", "-o", str(out))

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"Report of run {run_id} written to {out}."
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_text().startswith("<!DOCTYPE html>")
    both = run_cli("audit", "report", str(log), "--html", "--markdown")
    assert both.returncode == 3
    assert "--html and --markdown can't be given together: the report is one or the other." in both.stderr


def test_a_halted_run_shows_its_lock_waits_and_retries(
    example_ini, filled_production_db, reader_holding_providers, run_apply
):
    """Lock timeouts and retries are marks on the timeline; the failed attempts' lock waits are shaded."""
    guards = Guards(lock_timeout_ms=50, statement_timeout_ms=10_000)
    retry = LockRetryPolicy(attempts=2, first_wait_s=0.001, max_wait_s=0.001)
    result, events = run_apply(example_ini, filled_production_db, guards=guards, retry=retry)

    page = render_html(events, result.run_id)

    assert page.count('<rect class="failed"') == 2
    assert page.count('<rect class="lockwait"') == 2
    assert page.count('<path class="lock_timeout"') == 2 and page.count('<path class="retry"') == 1
    assert "retry 2 of 2 in " in page
    assert "halted (exit code 1)" in page


def chromium_or_skip() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.skip(
            "chromium is not installed (scripts/setup installs Debian's chromium package when run as root)"
        )
    return found


def screenshot(chromium: str, page: Path, out: Path, profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={out}", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "HOME": str(profile)},
    )


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Failed to load resource" in line]


@pytest.mark.slow
@pytest.mark.once
def test_headless_chromium_draws_the_page_without_console_errors(rehearsal_log, tmp_path):
    """Opened in Debian's chromium: nothing on the console, and a screenshot with the page's colours in it."""
    chromium = chromium_or_skip()
    log, run_id = rehearsal_log
    page = tmp_path / "report.html"
    page.write_text(render_html(read_events(log), run_id))
    broken = tmp_path / "broken.html"
    broken.write_text('<p>x</p><script>console.error("the check sees this")</script>')

    shot = screenshot(chromium, page, tmp_path / "report.png", tmp_path / "profile")
    control = screenshot(chromium, broken, tmp_path / "broken.png", tmp_path / "profile-control")

    assert shot.returncode == 0, shot.stderr[-2000:]
    assert console_lines(shot.stderr) == []
    assert any("the check sees this" in line for line in console_lines(control.stderr))  # the check can fail
    width, height, found = pixels(tmp_path / "report.png")
    colours = collections.Counter(p[:3] for p in found)
    assert (width, height) == (1000, 1600)
    assert len(colours) > 1
    assert colours[APPLIED_GREEN] > 100
    assert colours[(255, 255, 255)] < 0.97 * width * height
