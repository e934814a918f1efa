"""How many cases each fuzz target runs, and the tally the test session prints at its end.

The default budget keeps the fuzz tests to about a minute on a 2-core machine;
``RUNNER_FUZZ_EXAMPLES`` raises (or lowers) the number of in-process cases per
target, and the command-line samples follow it at one in 40. Every run is
derandomized, so CI sees the same cases every time; a larger budget explores
further along the same sequence.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict

from hypothesis import HealthCheck, settings

DEFAULT_EXAMPLES = 200
EXAMPLES = max(1, int(os.environ.get("RUNNER_FUZZ_EXAMPLES", DEFAULT_EXAMPLES)))
CLI_EXAMPLES = max(2, EXAMPLES // 40)

# Documented exit codes (runner.errors.ExitCode, README "Exit codes"); 70 is a bug.
DOCUMENTED_EXITS = frozenset(range(9))
REFUSED_EXITS = frozenset({2, 3, 4})

CASES: defaultdict[str, Counter[str]] = defaultdict(Counter)


def tally(target: str, outcome: str) -> None:
    """One case run against ``target``, and how it ended (for the summary)."""
    CASES[target][outcome] += 1


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
    )


IN_PROCESS = fuzz_settings(EXAMPLES)
COMMAND_LINE = fuzz_settings(CLI_EXAMPLES)
