"""Demo: the seed incident's window, rehearsed on a throwaway PostgreSQL the demo starts itself.

1. a local cluster in a temporary directory (unix socket only, thrown away at the end);
2. production's state from the write-up: the example project at 20260115_0200, with rows;
3. the rehearsal playbook validated, planned (risk sized by the real tables) and applied,
   first while a long-running report holds a lock on providers (the runner retries, names the
   blocker, and the playbook's on_failure rolls the run back to a known revision), then again
   once the report is gone;
4. the audit log verified against the database and turned into a runbook report.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from examples.credentialmate.fill import conninfo_from_url, fill  # noqa: E402
from runner.throwaway.targets import throwaway_target  # noqa: E402

INI = "examples/credentialmate/alembic.ini"
PLAYBOOK = "playbooks/credentialmate-rehearsal.yaml"
PRODUCTION_REVISION = "20260115_0200"
PROVIDERS = 20_000


def say(text: str) -> None:
    print(f"\n=== {text}", flush=True)


def runner(*args: str, env: dict[str, str], expect: int = 0) -> None:
    print(f"$ runner {' '.join(args)}", flush=True)
    code = subprocess.run([sys.executable, "-m", "runner", *args], cwd=ROOT, env=env, check=False).returncode
    if code != expect:
        raise SystemExit(f"demo: runner {args[0]} exited {code}, expected {expect}")


def main() -> int:
    with throwaway_target("local") as target, tempfile.TemporaryDirectory() as work:
        server = target.admin_url
        with psycopg.connect(**conninfo_from_url(server), autocommit=True) as conn:  # type: ignore[arg-type]
            conn.execute("CREATE DATABASE credentialmate")
        url = server.replace("/postgres?", "/credentialmate?")
        audit = Path(work) / "rehearsal.jsonl"
        env = {**os.environ, "DATABASE_URL": url, "REHEARSAL_DATABASE_URL": url}
        say(f"a throwaway PostgreSQL at {url}")

        say(f"production's state: base -> {PRODUCTION_REVISION}, then {PROVIDERS:,} providers of rows")
        runner("apply", "-c", INI, "--to", PRODUCTION_REVISION, "--yes", "--audit-log", str(audit), env=env)
        counts = fill(conninfo_from_url(url), PROVIDERS)
        print(f"filled {counts['providers']:,} providers and {counts['licenses']:,} licenses")

        say("the playbook, checked against the project, and the plan sized by the real tables")
        runner("playbook", "validate", PLAYBOOK, env=env)
        runner("plan", "--playbook", PLAYBOOK, env=env)

        say(
            "apply while a report holds a lock on providers: the retries name it, then the playbook's "
            "on_failure rolls this run back as far as the one-way enum step (exit 5)"
        )
        with psycopg.connect(**conninfo_from_url(url), application_name="nightly-report") as report:  # type: ignore[arg-type]
            report.execute("SELECT count(*) FROM providers").fetchone()  # ACCESS SHARE until it ends
            runner("apply", "--playbook", PLAYBOOK, env=env, expect=5)
        say("the report has finished: the same command goes on from where the database is")
        runner("apply", "--playbook", PLAYBOOK, env=env)
        runner("status", "-c", INI, env=env)

        say("the audit trail: chain and database anchors verified, then the runbook report")
        log = ROOT / "audit" / "credentialmate-rehearsal.jsonl"
        runner("audit", "verify", str(log), env=env)
        runner("audit", "report", str(log), "-o", str(Path(work) / "report.md"), env=env)
        print((Path(work) / "report.md").read_text().split("## Statements")[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
