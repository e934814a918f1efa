"""A stand-in for an application that only hands out its settings inside an application context
(as Flask's current_app does), and whose env.py therefore needs --env-py-wrapper."""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable
from contextlib import contextmanager

_settings: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("app_settings")


def current_settings() -> dict[str, str]:
    try:
        return _settings.get()
    except LookupError:
        raise RuntimeError("Working outside of application context.") from None


@contextmanager
def app_context():
    token = _settings.set({"DATABASE_URL": os.environ["APP_DATABASE_URL"]})
    try:
        yield
    finally:
        _settings.reset(token)


def in_app_context(run: Callable[[], None]) -> None:
    """The --env-py-wrapper: enter the application context, then run env.py."""
    with app_context():
        run()
