"""Text an operator (or a script) may pass to a duration, count or revision option, as hypothesis draws it."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.fuzz.playbook_cases import REVISIONS

# The guard options: GuardFlags' field -> the command-line flag.
DURATION_OPTIONS = {
    "lock_timeout": "--lock-timeout",
    "statement_timeout": "--statement-timeout",
    "idle_in_transaction_timeout": "--idle-in-transaction-timeout",
    "retry_wait": "--retry-wait",
    "retry_max_wait": "--retry-max-wait",
    "retry_budget": "--retry-budget",
}
GUARD_OPTIONS = {**DURATION_OPTIONS, "lock_attempts": "--lock-attempts"}

# argv can't hold NUL, nor text that isn't Unicode scalar values
_typed = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
ODD_TEXT = (
    "",
    " ",
    "\t",
    "\n",
    "0",
    "0s",
    "-1s",
    "-0",
    "+5s",
    "1e3s",
    "inf",
    "nan",
    "1_000ms",
    "0x10",
    "１s",
    "٣s",
    "2 s",
    "2S",
    "PT2S",
    "2s2s",
    "1.5.5s",
    ".5s",
    "5.",
    "2sec",
    "2 hours",
    "9" * 400 + "s",
    "9" * 5000,
    "1" + "0" * 310 + "min",
    "0.0000001ms",
    "1us",
    "\x1b[31m2s",
    "2s\r",
    "'2s'",
    "$(echo 2s)",
)
DURATIONS = st.one_of(
    st.sampled_from(("2s", "500ms", "5min", "1h", "90s", "30", "3", "10min", " 2s ")),
    st.sampled_from(ODD_TEXT),
    st.from_regex(
        r"[ \t]?-?[0-9]{1,30}(\.[0-9]{1,20})?[ ]?(us|ms|s|min|m|h|d|sec|hour)?[ \t]?", fullmatch=True
    ),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(_typed, max_size=12),
)
REVISION_TEXT = st.one_of(
    st.sampled_from((*REVISIONS, "head", "heads", "base", "7702", "2026", "20260131", "head-1", "heads+1")),
    st.sampled_from(
        (
            "",
            " ",
            "-1",
            "+1",
            "@",
            "head^",
            "20260115_0300@head",
            "base+1",
            "x:y",
            "a" * 5000,
            "%(here)s",
            "..",
        )
    ),
    st.text(_typed, max_size=16),
)
NAMES = st.one_of(
    st.sampled_from(("", " ", "credmate-staging", " credmate-staging ", "CREDMATE-STAGING")),
    st.text(_typed, max_size=20),
)
SNAPSHOT_IDS = st.one_of(
    st.sampled_from(
        ("", " ", "fuzz-snapshot", "rds:fuzz-snapshot", "-x", "a" * 300, "arn:aws:rds:us-east-1:1:snapshot:x")
    ),
    st.text(_typed, max_size=24),
)
