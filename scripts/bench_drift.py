"""Time ``runner drift`` on two copies of a schema with 500 tables and 2,000 indexes.

    .venv/bin/python scripts/bench_drift.py                 # 500 tables, 4 indexes each
    .venv/bin/python scripts/bench_drift.py --tables 100 --keep

The schema is generated server-side in one DO block (each table: a bigserial key,
seven columns of varied types with defaults, a check constraint, a foreign key to
the previous table, and four indexes: plain, expression, partial and two-column),
then copied with CREATE DATABASE ... TEMPLATE; the copy gets a few changes so the
comparison has something to report. Prints the time of each snapshot, of the
comparison, and of the whole ``runner drift --json`` command in a fresh process,
against the baseline measured in the same run: what the seed incident did by
hand, ``pg_dump --schema-only`` of each database and a ``diff`` of the dumps.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from as_installed import compile_runner  # noqa: E402

from runner.drift.compare import compare  # noqa: E402
from runner.drift.snapshot import read  # noqa: E402
from runner.target import DatabaseTarget  # noqa: E402
from tests import pg  # noqa: E402

GENERATE = """
DO $$
BEGIN
  FOR n IN 1..{tables} LOOP
    EXECUTE format(
      'CREATE TABLE t%1$s (id bigserial PRIMARY KEY, a integer NOT NULL DEFAULT 0, b text, '
      'c timestamptz NOT NULL DEFAULT now(), d numeric(12, 2), e varchar(40), f boolean DEFAULT false, '
      'g jsonb, prev bigint%2$s, CONSTRAINT t%1$s_a_positive CHECK (a >= 0))',
      n, CASE WHEN n > 1 THEN format(' REFERENCES t%s (id)', n - 1) ELSE '' END);
    EXECUTE format('CREATE INDEX t%1$s_a ON t%1$s (a)', n);
    EXECUTE format('CREATE INDEX t%1$s_lower_b ON t%1$s (lower(b))', n);
    EXECUTE format('CREATE INDEX t%1$s_c_flagged ON t%1$s (c) WHERE f', n);
    EXECUTE format('CREATE INDEX t%1$s_e_a ON t%1$s (e, a)', n);
  END LOOP;
END $$;
"""
CHANGES = """
ALTER TABLE t7 ADD COLUMN extra text;
ALTER TABLE t8 ALTER COLUMN a SET DEFAULT 1;
DROP INDEX t9_lower_b;
CREATE INDEX t9_lower_b ON t9 (lower(e));
ALTER INDEX t10_a RENAME TO t10_a_renamed;
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="Leave the two databases behind.")
    args = parser.parse_args()
    compile_runner()  # as installed: see scripts/as_installed.py
    source = pg.create_database(name=f"{pg.PREFIX}bench_drift_a")
    target = None
    try:
        started = time.monotonic()
        with closing(pg.connect(source)) as conn:
            conn.execute(GENERATE.format(tables=args.tables))
            indexes = conn.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'").fetchone()[
                0
            ]
        target = pg.create_database(template=source, name=f"{pg.PREFIX}bench_drift_b")
        with closing(pg.connect(target)) as conn:
            conn.execute(CHANGES)
        print(
            f"schema: {args.tables} tables, {indexes} indexes (primary keys included), built in "
            f"{time.monotonic() - started:.1f} s"
        )
        a, b = DatabaseTarget.parse(pg.url_for(source)), DatabaseTarget.parse(pg.url_for(target))
        timings = {}
        started = time.monotonic()
        first = read(a)
        timings["snapshot of the first copy"] = time.monotonic() - started
        started = time.monotonic()
        second = read(b)
        timings["snapshot of the second copy"] = time.monotonic() - started
        started = time.monotonic()
        found = compare(first, second)
        timings["comparison"] = time.monotonic() - started
        env = {**os.environ, "BENCH_A": pg.url_for(source), "BENCH_B": pg.url_for(target)}
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "runner", "drift", "--json", "env:BENCH_A", "env:BENCH_B"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        timings["runner drift --json (fresh process)"] = time.monotonic() - started
        reported = json.loads(done.stdout)["summary"]["differences"]
        baseline = dump_and_diff(pg.url_for(source), pg.url_for(target))
        timings["baseline: pg_dump --schema-only x2 + diff"] = baseline
        for what, seconds in timings.items():
            print(f"{what:<44} {seconds:6.2f} s")
        whole = timings["runner drift --json (fresh process)"]
        print(f"ratio runner drift / dump-and-diff: {whole / baseline:.2f}")
        print(
            f"differences found: {len(found.differences)} in-process, {reported} by the command (exit {done.returncode})"
        )
    finally:
        if not args.keep:
            for name in (source, target):
                if name:
                    pg.drop_database(name)


def dump_and_diff(first_url: str, second_url: str) -> float:
    """Seconds to dump both schemas (in parallel, as a shell would) and diff the dumps."""
    with tempfile.TemporaryDirectory() as work:
        dumps = [Path(work) / "a.sql", Path(work) / "b.sql"]
        started = time.monotonic()
        running = [
            subprocess.Popen(["pg_dump", "--schema-only", "--file", str(dump), url])
            for dump, url in zip(dumps, (first_url, second_url), strict=True)
        ]
        if any(proc.wait() for proc in running):
            raise SystemExit("pg_dump failed")
        subprocess.run(["diff", *map(str, dumps)], capture_output=True, check=False)
        return time.monotonic() - started


if __name__ == "__main__":
    main()
