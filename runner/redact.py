"""Keep secrets out of everything the runner prints, logs or reports.

Two layers: exact values the runner knows are secret (the password in the
database URL, ``PGPASSWORD``, AWS keys from the environment), and patterns that
look like credentials wherever they come from (URLs with a password,
``password=...`` pairs, ``PASSWORD '...'`` in SQL in any of PostgreSQL's string
forms: standard, ``E'...'`` with backslash escapes, ``U&'...'`` and dollar-quoted).
A string cut short (a statement truncated for the log, a blocker's query that
pg_stat_activity shortened) is masked to the end of the text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any, TypeVar, overload

MASK = "***"
_T = TypeVar("_T")

_URL_CREDENTIALS = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*):(?P<secret>[^@\s/]*)@")
# SQL string literals, each ending at its closing quote or, cut short, at the end of the text.
_DOLLAR_QUOTED = r"\$(?P<tag>(?:[^\W\d]\w*)?)\$.*?(?:\$(?P=tag)\$|\Z)"
_ESCAPE_STRING = r"[Ee]'(?:[^'\\]|\\.|'')*(?:'|\Z)"  # E'it\'s': backslash escapes
_PLAIN_STRING = r"(?:[Uu]&)?'(?:[^']|'')*(?:'|\Z)"
_SQL_STRING = f"(?:{_DOLLAR_QUOTED}|{_ESCAPE_STRING}|{_PLAIN_STRING})"
_KEY_VALUE = re.compile(
    r"(?is)(?P<head>\b(?:(?:ssl)?password|passwd|pwd|secret|token|aws_secret_access_key|aws_session_token"
    r"|secretaccesskey|sessiontoken|x-amz-security-token)[\"']?\s*[=:]\s*)"
    # a libpq connection string escapes with backslashes in any quoted value: take both forms
    rf"(?P<secret>{_DOLLAR_QUOTED}|{_ESCAPE_STRING}|'(?:[^'\\]|\\.|'')*(?:'|\Z)"
    r"|\"(?:[^\"\\]|\\.)*(?:\"|\Z)|[^\s&;,'\"}]+)"
)
# ALTER ROLE/CREATE USER ... [ENCRYPTED] PASSWORD '...', a user mapping's OPTIONS (password '...').
_SQL_PASSWORD = re.compile(rf"(?is)(?P<head>\bPASSWORD\s+)(?P<secret>{_SQL_STRING})")
_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
# Text without any of these can't match the patterns above: most audit strings skip the regexes.
_MAYBE_CREDENTIAL = re.compile(
    r"(?i)://|password|passwd|pwd|secret|token|aws_secret|aws_session|secretaccesskey|x-amz|akia|asia"
)

# The same words as plain substrings: on ASCII text (nearly all of it) ``in`` is many times faster than the
# case-insensitive regex, which matters on a plan's or lint's JSON of a thousand steps.
_CREDENTIAL_WORDS = (
    "://",
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "aws_session",
    "x-amz",
    "akia",
    "asia",
)

_ENV_SECRETS = ("PGPASSWORD", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID")


class Redactor:
    """Masks known secret values and credential-shaped text in strings and structures."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Remember a value that must never be written anywhere."""
        if secret:
            self._secrets.add(secret)

    def text(self, value: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in value:
                value = value.replace(secret, MASK)
        if not _maybe_credential(value):
            return value
        value = _URL_CREDENTIALS.sub(lambda m: f"{m['head']}:{MASK}@", value)
        value = _KEY_VALUE.sub(lambda m: f"{m['head']}{MASK}", value)
        value = _SQL_PASSWORD.sub(lambda m: f"{m['head']}'{MASK}'", value)
        return _AWS_KEY_ID.sub(MASK, value)

    @overload
    def value(self, obj: str) -> str: ...
    @overload
    def value(self, obj: _T) -> _T: ...
    def value(self, obj: Any) -> Any:
        """Redact strings anywhere inside dicts, lists and tuples (a string stays a string, a dict a dict)."""
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return {key: self.value(item) for key, item in obj.items()}
        if isinstance(obj, list | tuple):
            return type(obj)(self.value(item) for item in obj)
        return obj


def _maybe_credential(value: str) -> bool:
    if not value.isascii():  # case folding beyond ASCII (the Kelvin sign is a K): the regex decides
        return _MAYBE_CREDENTIAL.search(value) is not None
    lowered = value.lower()
    return any(word in lowered for word in _CREDENTIAL_WORDS)


_process_redactor = Redactor(os.environ.get(name) for name in _ENV_SECRETS)


def redactor() -> Redactor:
    """The process-wide redactor: every sink (console, audit log, report) uses it."""
    return _process_redactor


def remember_secret(secret: str | None) -> None:
    _process_redactor.add(secret)


@overload
def redact(obj: str) -> str: ...
@overload
def redact(obj: _T) -> _T: ...
def redact(obj: Any) -> Any:
    return _process_redactor.value(obj)
