"""Knobs an operator (or a test) may turn through the environment; each is documented in the README.

They are read when used, not at import, so a test or a wrapper script can set
them for one run.
"""

from __future__ import annotations

import os

AUDIT_RESERVE_BYTES = ("RUNNER_AUDIT_RESERVE_BYTES", 1 << 20)  # room the audit log keeps for itself
RECONNECT_S = ("RUNNER_RECONNECT_S", 15.0)  # how long a run whose server went away waits for it to answer
LOCK_WAIT_REPORT_S = ("RUNNER_LOCK_WAIT_REPORT_S", 5.0)  # how often a step waiting for a lock is reported


def number(knob: tuple[str, float]) -> float:
    """The knob's value from the environment, or its default when unset or not a non-negative number."""
    name, default = knob
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else float(default)
    except ValueError:
        return float(default)
    return value if value >= 0 else float(default)
