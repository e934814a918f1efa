"""Benchmark: a whole rehearsal against the bare floor of any rehearsal, a cluster made and thrown away.

The floor is ``initdb`` + ``pg_ctl start`` + ``pg_ctl stop`` of a throwaway
cluster with the same binaries and settings the rehearsal uses (its
``LocalCluster``), timed in the same run. The rehearsal is the whole command an
operator types: ``runner rehearse --playbook playbooks/credentialmate-rehearsal.yaml
--target local``, which also starts Python, loads the project, migrates base to
the starting revision, runs the four steps with their checks, drills the
rollback and writes the HTML report. Prints the medians and the ratio.

    .venv/bin/python scripts/bench_rehearse.py [--rounds 3] [--fill]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from as_installed import compile_runner  # noqa: E402

from runner.throwaway.cluster import LocalCluster  # noqa: E402

PLAYBOOK = ROOT / "playbooks" / "credentialmate-rehearsal.yaml"


def floor() -> float:
    started = time.perf_counter()
    cluster = LocalCluster()
    cluster.start()
    cluster.stop()
    return time.perf_counter() - started


def rehearsal(work: Path, number: int, fill: bool) -> float:
    extra = (
        ["--fill", "examples.credentialmate.fill:fill", "--scale", "20000", "--hold-lock", "providers=3s"]
        if fill
        else []
    )
    command = [
        sys.executable, "-m", "runner", "rehearse", "--playbook", str(PLAYBOOK), "--target", "local",
        "--audit-log", str(work / f"rehearsal-{number}.jsonl"), *extra,
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=dict(os.environ))
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"runner rehearse exited {done.returncode}: {done.stderr[-2000:]}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--fill", action="store_true", help="as the demo: 20,000 providers and a 3s held lock"
    )
    args = parser.parse_args()
    compile_runner()  # as installed: see scripts/as_installed.py
    floors, rehearsals = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for number in range(args.rounds):  # alternating, so machine load falls on both alike
            floors.append(floor())
            rehearsals.append(rehearsal(Path(tmp), number, args.fill))
    bare, whole = statistics.median(floors), statistics.median(rehearsals)
    what = (
        "the demo's rehearsal (fill 20,000, 3s held lock)"
        if args.fill
        else "runner rehearse (example playbook)"
    )
    print(f"{args.rounds} rounds, median seconds:")
    print(f"  floor: initdb + pg_ctl start + pg_ctl stop   {bare:6.2f}s")
    print(f"  {what:44} {whole:6.2f}s")
    print(f"ratio rehearsal/floor: {whole / bare:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
