"""Benchmark: how long the application waits while a migration waits for a lock, plain Alembic vs the runner.

The seed incident's risk, measured: the example's BlueShift step (``20260131_0000``,
ALTER TABLE providers) starts while a report session holds a lock on ``providers``
for ``--hold`` seconds, and an application load of short queries on ``providers``
runs throughout. Under plain ``alembic upgrade`` the ALTER queues for the whole
hold and every application query queues behind it; under ``runner apply`` the
step gives up at its lock_timeout (or, with ``--queue-limit``, as soon as the
queue grows) and retries, so the application waits about that long at most.

Prints each mode's worst and 99th-percentile application query latency and the
ratio plain/runner of the worst, measured in the same run on the same server.

    .venv/bin/python scripts/bench_queue.py [--hold 10] [--sessions 10] [--database-url ADMIN_URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from examples.credentialmate.fill import conninfo_from_url, fill  # noqa: E402
from runner.target import DatabaseTarget  # noqa: E402

INI = ROOT / "examples" / "credentialmate" / "alembic.ini"
BEFORE = "7702d353e5b8"  # the revision before the BlueShift step
STEP = "20260131_0000"


def fresh_database(admin_url: str, name: str) -> str:
    with closing(
        psycopg.connect(**DatabaseTarget.parse(admin_url).connect_kwargs(), autocommit=True)
    ) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    _alembic(url, BEFORE)
    fill(conninfo_from_url(url), 2_000)
    return url


def _alembic(url: str, revision: str) -> subprocess.Popen[str] | None:
    code = (
        "import sys; from alembic import command; from alembic.config import Config; "
        f"c = Config({str(INI)!r}); c.set_main_option('sqlalchemy.url', sys.argv[1].replace('%', '%%')); "
        "command.upgrade(c, sys.argv[2])"
    )
    subprocess.run([sys.executable, "-c", code, url, revision], check=True, capture_output=True, cwd=ROOT)
    return None


def plain_alembic(url: str, _audit: Path) -> subprocess.Popen[str]:
    code = (
        "import sys; from alembic import command; from alembic.config import Config; "
        f"c = Config({str(INI)!r}); c.set_main_option('sqlalchemy.url', sys.argv[1].replace('%', '%%')); "
        f"command.upgrade(c, {STEP!r})"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, url], cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def runner(*extra: str):
    def start(url: str, audit: Path) -> subprocess.Popen[str]:
        env = {**os.environ, "DATABASE_URL": url}
        command = [
            sys.executable,
            "-m",
            "runner",
            "apply",
            "-c",
            str(INI),
            "--to",
            STEP,
            "--yes",
            "--audit-log",
            str(audit),
            "--lock-attempts",
            "20",
            "--retry-budget",
            "2min",
            *extra,
        ]
        return subprocess.Popen(
            command, cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )

    return start


def measure(url: str, start, audit: Path, hold_s: float, sessions: int) -> list[float]:
    """Every application query's latency while the report holds its lock and the migration runs."""
    kwargs = DatabaseTarget.parse(url).connect_kwargs()
    report = psycopg.connect(**kwargs, application_name="report-job")
    report.execute("SELECT count(*) FROM providers").fetchone()  # ACCESS SHARE until it commits
    stop = threading.Event()
    latencies: list[float] = []
    lock = threading.Lock()

    def application() -> None:
        with closing(psycopg.connect(**kwargs, autocommit=True, application_name="app")) as conn:
            while not stop.is_set():
                began = time.monotonic()
                conn.execute("SELECT id FROM providers ORDER BY id LIMIT 1").fetchone()
                with lock:
                    latencies.append(time.monotonic() - began)
                time.sleep(0.01)

    threads = [threading.Thread(target=application, daemon=True) for _ in range(sessions)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    migration = start(url, audit)
    time.sleep(hold_s)
    report.commit()
    report.close()
    out, err = migration.communicate(timeout=300)
    time.sleep(0.5)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    if migration.returncode != 0:
        raise SystemExit(f"the migration failed ({migration.returncode}): {err[-1500:] or out[-1500:]}")
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hold", type=float, default=10.0, help="seconds the report session holds its lock")
    parser.add_argument("--sessions", type=int, default=10, help="application sessions")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a server to create the benchmark databases on (an admin URL)",
    )
    args = parser.parse_args()
    modes = {
        "plain alembic upgrade": plain_alembic,
        "runner apply (lock_timeout 2s)": runner(),
        "runner apply --queue-limit 5": runner("--queue-limit", "5"),
    }
    worst: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for number, (name, start) in enumerate(modes.items(), start=1):
            url = fresh_database(args.database_url, f"bench_queue_{number}")
            latencies = measure(url, start, Path(tmp) / f"audit-{number}.jsonl", args.hold, args.sessions)
            worst[name] = max(latencies)
            p99 = statistics.quantiles(latencies, n=100)[98]
            print(f"  {name:32} worst {worst[name]:6.2f}s  p99 {p99:6.3f}s  ({len(latencies)} queries)")
    plain = worst["plain alembic upgrade"]
    print(f"report session holds its lock {args.hold:.0f}s; {args.sessions} application sessions")
    for name in list(modes)[1:]:
        print(f"ratio worst wait, plain alembic / {name}: {plain / worst[name]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
