"""An application that prints as it starts, as Superset's config loader and Airflow's structlog do."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable


def make_noise(where: str) -> None:
    """Every way application code reaches file descriptor 1."""
    print(f"noisy print from {where}")
    sys.stdout.flush()
    os.write(1, f"noisy os.write from {where}\n".encode())
    subprocess.run(["echo", f"noisy subprocess from {where}"], check=True)


def in_app(run: Callable[[], None]) -> None:
    """The --env-py-wrapper: starts the application (noisily), then runs env.py."""
    make_noise("the wrapper")
    run()
