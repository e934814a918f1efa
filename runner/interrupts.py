"""Ctrl-C must reach a step that is waiting on the server.

psycopg 3 already cancels the running query when interrupted. psycopg2 blocks
inside libpq, so a Ctrl-C during a lock wait would only be seen when the wait
ended; with its ``wait_select`` callback the wait happens in Python, the
interrupt arrives at once, and psycopg2 cancels the query on the server.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def interruptible_waits() -> Iterator[None]:
    if importlib.util.find_spec("psycopg2") is None:
        yield
        return
    import psycopg2.extensions
    import psycopg2.extras

    previous = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(psycopg2.extras.wait_select)
    try:
        yield
    finally:
        psycopg2.extensions.set_wait_callback(previous)
