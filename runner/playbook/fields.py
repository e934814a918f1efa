"""The field types playbook models share: durations with units, ranged limits, names, time zones.

Each is a pydantic ``Annotated`` type whose validator turns what the operator
wrote into a plain value, or raises an error that names what was found and
what is expected; the JSON Schema each advertises (for editors) matches.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from runner import limits
from runner.durations import parse_ms
from runner.playbook.scalars import raw_text

POLICIES = ("halt", "rollback", "restore")
ENVIRONMENTS = ("production", "staging", "rehearsal")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

PolicyName = Literal["halt", "rollback", "restore"]
Environment = Literal["production", "staging", "rehearsal"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

_DURATION_TEXT = re.compile(r"^\s*\d+(\.\d+)?\s*(ms|s|min|h)\s*$")
_TIME_OF_DAY = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LINT_CODE = re.compile(r"^[A-Z]{2}\d{3}$")


def _text(value: Any) -> Any:
    """Numbers YAML read from a plain scalar keep the text the operator wrote."""
    return raw_text(value)


def _duration(value: Any, *, zero_ok: bool) -> int:
    shown = _show(value)
    value = raw_text(value)
    if isinstance(value, bool) or not isinstance(value, str):
        raise PydanticCustomError(
            "duration",
            "expected a duration with a unit such as 500ms, 2s, 5min or 1h, found {found}",
            {"found": shown},
        )
    if not _DURATION_TEXT.match(value):
        if re.fullmatch(r"\s*\d+(\.\d+)?\s*", value):
            raise PydanticCustomError(
                "duration",
                "{found} has no unit; write it as {number}ms, {number}s or {number}min",
                {"found": shown, "number": value.strip()},
            )
        raise PydanticCustomError(
            "duration", "{found} is not a duration such as 500ms, 2s, 5min or 1h", {"found": shown}
        )
    try:
        ms = parse_ms(value)
    except ValueError:
        raise PydanticCustomError(
            "duration", "{found} is too large a number to be a duration", {"found": shown}
        ) from None
    if ms <= 0 and not zero_ok:
        raise PydanticCustomError(
            "duration",
            "{found} is zero, which PostgreSQL reads as no limit at all; give a real limit",
            {"found": shown},
        )
    return ms


def _positive_duration(value: Any) -> int:
    return _duration(value, zero_ok=False)


def _ranged(accepted: limits.Range) -> Any:
    """A positive duration within ``accepted``: the same ranges as the command line's options."""

    def check(value: Any) -> int:
        ms = _positive_duration(value)
        problem = accepted.problem(ms)
        if problem is not None:
            raise PydanticCustomError(
                "out_of_range", "{found} {problem}", {"found": _show(value), "problem": problem}
            )
        return ms

    return check


def _margin_duration(value: Any) -> int:
    return _duration(value, zero_ok=True)


def _blocker_wait(value: Any) -> int:
    ms = _margin_duration(value)
    problem = limits.BLOCKER_WAIT.problem(ms)
    if problem is not None:
        raise PydanticCustomError(
            "out_of_range", "{found} {problem}", {"found": _show(value), "problem": problem}
        )
    return ms


def _app_pattern(value: Any) -> str:
    """An application_name pattern that names someone: never every session, never the runner's own."""
    text = _text(value)
    if not isinstance(text, str) or not text.strip():
        raise PydanticCustomError(
            "app_pattern", "expected an application_name pattern, found {found}", {"found": _show(value)}
        )
    pattern = text.strip()
    if fnmatchcase("", pattern) or (fnmatchcase("psql", pattern) and fnmatchcase("web", pattern)):
        raise PydanticCustomError(
            "app_pattern",
            "{found} matches sessions of any application; name the ones that may be ended, such as report-*",
            {"found": _show(value)},
        )
    if fnmatchcase("migration-runner x", pattern):
        raise PydanticCustomError(
            "app_pattern",
            "{found} matches the runner's own sessions, which are never ended",
            {"found": _show(value)},
        )
    return pattern


def _time_of_day(value: Any) -> str:
    value = raw_text(value)
    if not isinstance(value, str) or not _TIME_OF_DAY.match(value.strip()):
        raise PydanticCustomError(
            "time_of_day",
            "expected a time of day as HH:MM (24-hour, quoted), found {found}",
            {"found": _show(value)},
        )
    return value.strip()


def _time_zone(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PydanticCustomError(
            "time_zone", "expected an IANA time zone name, found {found}", {"found": _show(value)}
        )
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError(
            "time_zone",
            "{found} is not a time zone this machine knows; use an IANA name such as America/New_York or UTC",
            {"found": _show(value)},
        ) from None
    return value.strip()


def _env_name(value: Any) -> str:
    if not isinstance(value, str) or not _ENV_NAME.match(value):
        raise PydanticCustomError(
            "env_name",
            "{found} is not an environment variable name (letters, digits and _)",
            {"found": _show(value)},
        )
    return value


def _webhook_env(value: Any) -> str:
    if isinstance(value, str) and "://" in value:  # the URL itself: a secret, so it is not repeated here
        raise PydanticCustomError(
            "env_name",
            "this is a URL, and webhook_url_env names the environment variable that holds the URL; export the "
            "URL in a variable and name the variable here",
        )
    return _env_name(value)


def _lint_code(value: Any) -> str:
    if not isinstance(value, str) or not _LINT_CODE.match(value):
        raise PydanticCustomError(
            "lint_code",
            "{found} is not a lint code (two capital letters and three digits, such as LK101)",
            {"found": _show(value)},
        )
    return value


def _show(value: Any) -> str:
    if hasattr(value, "raw"):
        return str(value.raw)
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


_DURATION_SCHEMA = {"type": "string", "pattern": r"^\d+(\.\d+)?(ms|s|min|h)$", "examples": ["2s", "5min"]}
Duration = Annotated[int, BeforeValidator(_positive_duration), WithJsonSchema(_DURATION_SCHEMA)]


def _ranged_duration(accepted: limits.Range) -> Any:
    return Annotated[int, BeforeValidator(_ranged(accepted)), WithJsonSchema(_DURATION_SCHEMA)]


Settle = _ranged_duration(limits.Range(1, limits.HOUR_MS))
LockTimeout = _ranged_duration(limits.LOCK_TIMEOUT)
StatementTimeout = _ranged_duration(limits.STATEMENT_TIMEOUT)
IdleTimeout = _ranged_duration(limits.IDLE_IN_TRANSACTION_TIMEOUT)
FirstWait = _ranged_duration(limits.RETRY_FIRST_WAIT)
MaxWait = _ranged_duration(limits.RETRY_MAX_WAIT)
Budget = _ranged_duration(limits.RETRY_BUDGET)


def _counted(accepted: limits.Range) -> Any:
    """A whole number within ``accepted``."""

    def check(value: int) -> int:
        problem = accepted.problem(value)
        if problem is not None:
            raise PydanticCustomError(
                "out_of_range", "{found} {problem}", {"found": _show(value), "problem": problem}
            )
        return value

    return Annotated[
        int,
        AfterValidator(check),
        WithJsonSchema({"type": "integer", "minimum": accepted.low, "maximum": accepted.high}),
    ]


Attempts = _counted(limits.LOCK_ATTEMPTS)
QueueLimit = _counted(limits.QUEUE_LIMIT)
Margin = Annotated[int, BeforeValidator(_margin_duration), WithJsonSchema(_DURATION_SCHEMA)]
BlockerWait = Annotated[int, BeforeValidator(_blocker_wait), WithJsonSchema(_DURATION_SCHEMA)]
AppPattern = Annotated[str, BeforeValidator(_app_pattern), WithJsonSchema({"type": "string", "minLength": 1})]
TimeOfDay = Annotated[
    str, BeforeValidator(_time_of_day), WithJsonSchema({"type": "string", "pattern": r"^\d{1,2}:\d{2}$"})
]
TimeZone = Annotated[str, BeforeValidator(_time_zone)]
Text = Annotated[str, BeforeValidator(_text), Field(min_length=1)]
Revision = Annotated[str, BeforeValidator(_text), Field(min_length=1)]
EnvName = Annotated[str, BeforeValidator(_env_name)]
WebhookEnv = Annotated[str, BeforeValidator(_webhook_env)]
LintCode = Annotated[str, BeforeValidator(_lint_code)]
