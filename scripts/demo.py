"""Demo driver: a throwaway cluster, production's starting state, then plan + apply."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from examples.credentialmate.fill import conninfo_from_url, fill  # noqa: E402
from runner.throwaway import throwaway_postgres  # noqa: E402

INI = "examples/credentialmate/alembic.ini"
PRODUCTION_REVISION = "20260115_0200"


def runner(*args: str, env: dict[str, str]) -> int:
    command = [str(ROOT / ".venv" / "bin" / "runner"), *args]
    print(f"\n$ runner {' '.join(args)}", flush=True)
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def main() -> int:
    with throwaway_postgres("local") as server_url, tempfile.TemporaryDirectory() as workdir:
        import psycopg

        admin = conninfo_from_url(server_url)
        with psycopg.connect(**admin, autocommit=True) as conn:  # type: ignore[arg-type]
            conn.execute("CREATE DATABASE credentialmate")
        url = server_url.replace("/postgres?", "/credentialmate?")
        env = {**os.environ, "DATABASE_URL": url}
        audit = str(Path(workdir) / "audit.jsonl")
        print(f"throwaway PostgreSQL: {url}")
        steps = [
            ("apply", "-c", INI, "--to", PRODUCTION_REVISION, "--yes", "--audit-log", audit),
        ]
        for step in steps:
            if runner(*step, env=env) != 0:
                return 1
        counts = fill(conninfo_from_url(url), 20_000)
        print(
            f"\nfilled production-like rows: {counts['providers']} providers, {counts['licenses']} licenses"
        )
        for step in (
            ("status", "-c", INI),
            ("apply", "-c", INI, "--yes", "--audit-log", audit),
            ("status", "-c", INI),
            ("audit", "verify", audit),
        ):
            code = runner(*step, env=env)
            if code != 0:
                return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
