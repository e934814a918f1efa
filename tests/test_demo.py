"""The README's first command: scripts/demo rehearses the example end to end and its log verifies."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from runner.throwaway.markers import DIRECTORY_ENV
from tests.cli import ROOT

pytestmark = pytest.mark.once  # scripts/demo runs .venv whichever environment runs the suite


def test_the_demo_rehearses_the_example_and_its_audit_log_verifies(tmp_path):
    log = tmp_path / "demo.jsonl"
    env = {**os.environ, "DEMO_AUDIT_LOG": str(log), DIRECTORY_ENV: str(tmp_path / "markers")}
    env.pop("DATABASE_URL", None)

    done = subprocess.run(
        [str(ROOT / "scripts" / "demo")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Applied 4 step(s); the database is at 20260131_0000." in done.stdout
    assert "Rollback drill: clean" in done.stdout
    assert "blocked by pid" in done.stdout or "waited" in done.stdout  # the held lock on providers was felt
    assert re.search(rf"{re.escape(str(log))}: \d+ lines, chain intact", done.stdout)
    report = Path(re.search(r"^Report: (.+)$", done.stdout, re.M).group(1))  # type: ignore[union-attr]
    assert report.is_file() and stat.S_IMODE(report.stat().st_mode) == 0o600
    assert not list((tmp_path / "markers").glob("*.json"))  # the throwaway cluster is gone
