"""A process that holds throwaway targets until it is signalled: what the cleanup tests kill.

    python -m tests.throwaway.holder KIND [KIND...]    (KIND: local, or server=ADMIN_URL)

It prints one JSON line describing what it holds (per target: the cluster's
directory and postmaster pid, or the database made on the server), then waits.
SIGTERM and Ctrl-C end it through the throwaway's own handlers (exit 1).
"""

from __future__ import annotations

import json
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from runner.throwaway.cluster import postmaster_pid
from runner.throwaway.targets import throwaway_target


def main(kinds: list[str]) -> int:
    held = []
    try:
        with ExitStack() as stack:
            for kind in kinds:
                name, _, url = kind.partition("=")
                target = stack.enter_context(throwaway_target(name, server_url=url or None))
                database = target.new_database("holder")
                root = target.admin.url.query.get("host") if name == "local" else None
                held.append(
                    {
                        "kind": target.kind,
                        "root": root,
                        "postmaster": postmaster_pid(Path(root)) if root else None,
                        "database": database.database,
                    }
                )
            print(json.dumps(held), flush=True)
            while True:
                time.sleep(0.05)
    except KeyboardInterrupt as stop:
        print(f"stopped by {stop}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
