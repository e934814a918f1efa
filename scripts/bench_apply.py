"""Benchmark: what the runner's guards cost against plain ``alembic upgrade head``.

Generates an Alembic project with a chain of small revisions, then, on one
throwaway PostgreSQL (or --database-url's server), applies it to fresh
databases with plain Alembic and with ``runner apply``, alternating, and
prints the median times and the ratio runner/alembic. Both are timed as the
command lines an operator runs (process start included) and in-process (the
guards alone). Plain ``alembic upgrade`` with the example env.py runs the whole
chain in one transaction; the runner commits each revision on its own (so a
failure leaves a known revision). A third in-process baseline, Alembic with
``transaction_per_migration=True``, separates what the guards cost from what a
commit per revision costs.

    .venv/bin/python scripts/bench_apply.py [--revisions 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from as_installed import compile_runner  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from runner.audit import AuditLog  # noqa: E402
from runner.planning.project import AlembicProject  # noqa: E402
from runner.run.executor import Executor  # noqa: E402
from runner.run.result import new_run_id  # noqa: E402
from runner.run.settings import RunSettings  # noqa: E402
from runner.target import DatabaseTarget  # noqa: E402
from runner.throwaway.targets import throwaway_target  # noqa: E402
from tests.projects.generate import write_project  # noqa: E402


def make_project(root: Path, revisions: int) -> Path:
    """A chain of small revisions, each creating a table and an index."""
    steps = [
        (
            f"r{n:04d}",
            f'op.create_table("t{n}", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.Text))\n'
            f'op.create_index("ix_t{n}_name", "t{n}", ["name"])',
            f'op.drop_table("t{n}")',
        )
        for n in range(1, revisions + 1)
    ]
    return write_project(root, steps)


class Server:
    def __init__(self, url: str) -> None:
        self.url = url
        self.admin = DatabaseTarget.parse(url).connect_kwargs()
        self.count = 0

    def fresh(self) -> str:
        self.count += 1
        name = f"bench_apply_{self.count}"
        with closing(psycopg.connect(**self.admin, autocommit=True)) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
            conn.execute("CHECKPOINT")  # the last run's dirty pages are written now, not during the next run
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def cli_alembic(ini: Path, url: str) -> None:
    """``alembic upgrade head`` with the URL written into a copy of the ini, as an operator would."""
    copy = ini.with_name(f"alembic-{make_url(url).database}.ini")
    copy.write_text(
        ini.read_text().replace(
            "postgresql://offline/offline", DatabaseTarget.parse(url).for_alembic().replace("%", "%%")
        )
    )
    _check(
        "alembic upgrade head", [sys.executable, "-m", "alembic", "-c", str(copy), "upgrade", "head"], _env()
    )


def cli_runner(ini: Path, url: str, audit: Path) -> None:
    command_line = [
        sys.executable,
        "-m",
        "runner",
        "apply",
        "-c",
        str(ini),
        "--yes",
        "--audit-log",
        str(audit),
    ]
    _check("runner apply", command_line, {**_env(), "DATABASE_URL": url})


def _check(what: str, command_line: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command_line, capture_output=True, text=True, env=env)
    if done.returncode:
        raise SystemExit(f"{what} failed: {done.stderr[-2000:]}")


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}


def inproc_alembic(ini: Path, url: str) -> None:
    config = Config(str(ini))
    config.set_main_option("sqlalchemy.url", DatabaseTarget.parse(url).for_alembic().replace("%", "%%"))
    command.upgrade(config, "head")


def inproc_alembic_per_revision(ini: Path, url: str) -> None:
    """Alembic's own upgrade with a transaction per revision, as the runner commits."""
    from alembic.runtime.environment import EnvironmentContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

    config = Config(str(ini))
    script = ScriptDirectory.from_config(config)
    engine = create_engine(DatabaseTarget.parse(url).for_alembic())
    try:
        with (
            EnvironmentContext(
                config, script, fn=lambda rev, _: script._upgrade_revs("head", rev), destination_rev="head"
            ) as env,
            engine.connect() as connection,
        ):
            env.configure(connection=connection, transaction_per_migration=True)
            with env.begin_transaction():
                env.run_migrations()
    finally:
        engine.dispose()


def inproc_runner(ini: Path, url: str, audit: Path) -> None:
    target = DatabaseTarget.parse(url)
    project = AlembicProject.load(ini, database_url=target.for_alembic())
    with AuditLog(audit, new_run_id()) as log:
        result = Executor(project, RunSettings(target=target, to="heads"), log).apply()
    assert int(result.exit_code) == 0, result.message


@contextmanager
def local_admin_url() -> Iterator[str]:
    with throwaway_target("local") as target:
        yield target.admin_url


def main() -> int:
    parser = argparse.ArgumentParser(description="runner apply vs alembic upgrade head")
    parser.add_argument("--revisions", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", help="a server to use instead of a throwaway cluster (admin URL)")
    args = parser.parse_args()
    compile_runner()  # as installed: see scripts/as_installed.py
    with tempfile.TemporaryDirectory() as tmp:
        ini = make_project(Path(tmp) / "project", args.revisions)
        provider = nullcontext(args.database_url) if args.database_url else local_admin_url()
        with provider as url:
            server = Server(url)
            times: dict[str, list[float]] = {
                k: [] for k in ("cli_alembic", "cli_runner", "lib_alembic", "lib_alembic_tpr", "lib_runner")
            }
            runs = {
                "cli_alembic": lambda url, log: cli_alembic(ini, url),
                "cli_runner": lambda url, log: cli_runner(ini, url, log),
                "lib_alembic": lambda url, log: inproc_alembic(ini, url),
                "lib_alembic_tpr": lambda url, log: inproc_alembic_per_revision(ini, url),
                "lib_runner": lambda url, log: inproc_runner(ini, url, log),
            }
            for n in range(args.rounds):
                order = list(runs) if n % 2 == 0 else list(reversed(runs))
                for name in order:
                    url, log = server.fresh(), Path(tmp) / f"{name}-{n}.jsonl"
                    times[name].append(timed(lambda run=runs[name], url=url, log=log: run(url, log)))
    med = {name: statistics.median(values) for name, values in times.items()}
    print(f"{args.revisions} revisions, {args.rounds} rounds, median seconds:")
    for name, value in med.items():
        print(f"  {name:16s} {value:7.3f}s  ({value / args.revisions * 1000:.1f} ms/revision)")
    print(f"ratio runner/alembic, command line: {med['cli_runner'] / med['cli_alembic']:.2f}")
    print(f"ratio runner/alembic, in-process:   {med['lib_runner'] / med['lib_alembic']:.2f}")
    print(
        "ratio runner/alembic with a transaction per revision (lib_alembic_tpr), in-process: "
        f"{med['lib_runner'] / med['lib_alembic_tpr']:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
