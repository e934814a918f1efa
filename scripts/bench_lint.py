"""Time ``runner lint`` over a generated chain of many small revisions.

    .venv/bin/python scripts/bench_lint.py            # 1,000 revisions
    .venv/bin/python scripts/bench_lint.py --revisions 200 --keep

Writes an Alembic project (alembic.ini, the example project's env.py, one file per
revision) into a temp dir. The revisions cycle through varied operations: new
tables, nullable and NOT NULL columns, plain and concurrent indexes, type changes,
renames, foreign keys, enum values, data migrations with and without an inverse,
and an occasional revision that reads data and can't be rendered offline. The
first revision creates a handful of tables; linting starts after it, so those
tables count as existing (and, with no database, large).

Prints the time of the in-process ``analyse`` call (offline render, parse, rules)
and of the whole ``runner lint --json`` command in a fresh process, each per
revision, as wall-clock and CPU time (on a shared machine the wall clock also
counts other processes' turns). Then ``runner lint``, ``runner lint --json``,
``runner plan`` and ``runner plan --json`` against ``alembic history`` on the same
chain, each in a fresh process and timed in this run (best of ``--repeat``, wall
clock and CPU), as ratios: the target is 2x or less.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from as_installed import compile_runner  # noqa: E402

from tests.projects import generate  # noqa: E402

BASE_TABLES = 8


def operation(n: int) -> tuple[str, str]:
    """(upgrade body, downgrade body) of revision ``n``: a different kind of change each time."""
    table = f"base_{n % BASE_TABLES}"
    kind = n % 12
    if kind == 0:
        return (
            f'op.create_table("t{n}", sa.Column("id", sa.BigInteger(), primary_key=True), '
            f'sa.Column("{table}_id", sa.BigInteger(), sa.ForeignKey("{table}.id")), sa.Column("note", sa.Text()))\n'
            f'op.create_index("ix_t{n}_note", "t{n}", ["note"])',
            f'op.drop_table("t{n}")',
        )
    if kind == 1:
        return (
            f'op.add_column("{table}", sa.Column("c{n}", sa.String(40)))',
            f'op.drop_column("{table}", "c{n}")',
        )
    if kind == 2:
        return (
            f'op.create_index("ix_{n}", "{table}", ["name"])',
            f'op.drop_index("ix_{n}", table_name="{table}")',
        )
    if kind == 3:
        return (
            "with op.get_context().autocommit_block():\n"
            f'    op.create_index("cx_{n}", "{table}", ["name", "id"], postgresql_concurrently=True)',
            f'op.drop_index("cx_{n}", table_name="{table}")',
        )
    if kind == 4:
        return (
            f'op.add_column("{table}", sa.Column("d{n}", sa.Integer(), nullable=False, server_default="0"))',
            f'op.drop_column("{table}", "d{n}")',
        )
    if kind == 5:
        return (
            f'op.alter_column("{table}", "name", type_=sa.String(400), existing_type=sa.String(200))',
            f'op.alter_column("{table}", "name", type_=sa.String(200), existing_type=sa.String(400))',
        )
    if kind == 6:
        return (
            f'op.execute("UPDATE {table} SET name = lower(name) WHERE id < {n}")',
            f'op.execute("UPDATE {table} SET name = upper(name) WHERE id < {n}")',
        )
    if kind == 7:
        return f"op.execute(\"ALTER TYPE base_kind ADD VALUE IF NOT EXISTS 'k{n}'\")", "pass"
    if kind == 8:
        return (
            f'op.create_foreign_key("fk_{n}", "{table}", "base_{(n + 1) % BASE_TABLES}", ["id"], ["id"])',
            f'op.drop_constraint("fk_{n}", "{table}")',
        )
    if kind == 9:
        return (
            f'op.alter_column("{table}", "c{n - 8}", new_column_name="r{n}")',
            f'op.alter_column("{table}", "r{n}", new_column_name="c{n - 8}")',
        )
    if kind == 10 and n % 120 == 10:
        return f'rows = op.get_bind().execute(sa.text("SELECT id FROM {table}")).all()', "pass"
    return (
        f'op.create_check_constraint("ck_{n}", "{table}", "id > 0", postgresql_not_valid=True)',
        f'op.drop_constraint("ck_{n}", "{table}")',
    )


def base_revision() -> tuple[str, str]:
    lines = ["op.execute(\"CREATE TYPE base_kind AS ENUM ('k0')\")"]
    for number in range(BASE_TABLES):
        lines.append(
            f'op.create_table("base_{number}", sa.Column("id", sa.BigInteger(), primary_key=True), '
            'sa.Column("name", sa.String(200)))'
        )
    downs = [f'op.drop_table("base_{number}")' for number in range(BASE_TABLES)]
    return "\n".join(lines), "\n".join([*downs, 'op.execute("DROP TYPE base_kind")'])


def write_project(root: Path, count: int) -> Path:
    revisions = [(f"r{n:05d}", *(base_revision() if n == 0 else operation(n))) for n in range(count)]
    return generate.write_project(root, revisions)


def timed(command: list[str]) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run ``command`` in a fresh process: its result, wall-clock seconds and CPU seconds (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return done, elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def best_of(command: list[str], repeat: int, ok: tuple[int, ...] = (0, 4)) -> tuple[float, float]:
    """The lowest wall-clock and the lowest CPU time of ``repeat`` fresh runs (the least disturbed)."""
    walls, cpus = [], []
    for _ in range(max(repeat, 1)):
        done, wall, cpu = timed(command)
        if done.returncode not in ok:
            raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr}")
        walls.append(wall)
        cpus.append(cpu)
    return min(walls), min(cpus)


def compare_with_history(ini: Path, repeat: int) -> None:
    """lint and plan as multiples of ``alembic history`` on the same chain, timed one after the other."""
    alembic = Path(sys.executable).with_name("alembic")
    runner = [sys.executable, "-m", "runner"]
    offline = ["-c", str(ini), "--from", "r00000"]
    commands = {
        "alembic history": [str(alembic), "-c", str(ini), "history"],
        "runner lint": [*runner, "lint", *offline],
        "runner lint --json": [*runner, "lint", *offline, "--json"],
        "runner plan": [*runner, "plan", *offline],
        "runner plan --json": [*runner, "plan", *offline, "--json"],
    }
    times = {name: best_of(command, repeat) for name, command in commands.items()}
    base_wall, base_cpu = times["alembic history"]
    print(f"alembic history: {base_wall:.2f}s wall, {base_cpu:.2f}s CPU (best of {repeat} fresh processes)")
    for name, (wall, cpu) in times.items():
        if name != "alembic history":
            print(
                f"{name + ':':20s} {wall:.2f}s wall, {cpu:.2f}s CPU: {wall / base_wall:.2f}x alembic history's "
                f"wall, {cpu / base_cpu:.2f}x its CPU"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", type=int, default=1_000)
    parser.add_argument("--keep", action="store_true", help="Keep the generated project and print its path.")
    parser.add_argument("--repeat", type=int, default=3, help="Fresh processes per command for the ratios.")
    args = parser.parse_args()
    compile_runner()  # as installed: see scripts/as_installed.py
    sys.path.insert(0, str(ROOT))
    from runner.lint import analyse
    from runner.planning.project import AlembicProject

    root = Path(tempfile.mkdtemp(prefix="bench-lint-"))
    try:
        ini = write_project(root, args.revisions)
        count = args.revisions - 1
        started, cpu_started = time.perf_counter(), time.process_time()
        project = AlembicProject.load(ini)
        pending = project.pending(("r00000",))
        loaded, cpu_loaded = time.perf_counter(), time.process_time()
        report = analyse(project, pending)
        analysed, cpu_analysed = time.perf_counter(), time.process_time()
        counts = report.counts()
        wall, cpu = analysed - loaded, cpu_analysed - cpu_loaded
        print(
            f"analyse:     {count} revisions in {wall:.2f}s wall, {cpu:.2f}s CPU: {wall / count * 1000:.2f} ms per "
            f"revision wall, {cpu / count * 1000:.2f} ms CPU (loading the project: {loaded - started:.2f}s wall, "
            f"{cpu_loaded - cpu_started:.2f}s CPU); {len(report.findings)} findings ({counts['block']} block, "
            f"{counts['warn']} warn, {counts['info']} info)"
        )
        command = [sys.executable, "-m", "runner", "lint", "-c", str(ini), "--from", "r00000", "--json"]
        done, elapsed, child_cpu = timed(command)
        if done.returncode not in (0, 4):
            print(done.stderr, file=sys.stderr)
            return 1
        steps = len(json.loads(done.stdout)["steps"])
        print(
            f"runner lint: {steps} revisions in {elapsed:.2f}s wall, {child_cpu:.2f}s CPU: "
            f"{elapsed / steps * 1000:.2f} ms per revision wall, {child_cpu / steps * 1000:.2f} ms CPU (the whole "
            f"command in a fresh process: imports, project load, render, parse, rules, JSON; exit {done.returncode})"
        )
        compare_with_history(ini, args.repeat)
        if args.keep:
            print(f"project kept at {root}")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
