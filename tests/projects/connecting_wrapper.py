"""An --env-py-wrapper that behaves like a Flask app factory: every entry builds the application,
which opens a database connection and keeps it (its pool is never disposed).

Each entry appends a line to the file named by ``$WRAPPER_ENTRIES``, so a test can count them.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import psycopg

_apps: list[psycopg.Connection] = []  # what every "create_app()" left open


def open_app(run: Callable[[], None]) -> None:
    _apps.append(psycopg.connect(os.environ["APP_DATABASE_URL"], application_name="wrapper-app"))
    with open(os.environ["WRAPPER_ENTRIES"], "a", encoding="utf-8") as entries:
        entries.write(f"entered with {len(_apps)} connection(s) open\n")
    run()
