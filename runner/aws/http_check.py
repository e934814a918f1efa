"""An ``http:`` check: GET a URL and compare the status (and optionally the body) with what the playbook says.

The URL may carry credentials (``user:secret@``) or tokens in its query; the
label, the expectation and every found value show only scheme, host, port and
path, with query values masked, so neither reaches the audit log or the console.
"""

from __future__ import annotations

import base64
import http.client
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from runner.aws.urls import safe_url
from runner.check_result import CheckResult
from runner.redact import redact, remember_secret

BODY_LIMIT = 1_000_000  # bytes read for contains:
Opener = Callable[..., Any]  # urllib.request.urlopen's shape: (request, timeout=) -> response


def _without_userinfo(url: str) -> tuple[str, dict[str, str]]:
    """The URL without ``user:password@``, which urllib can't send, and the Basic auth header it meant."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, {}
    remember_secret(parts.password)
    credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
    netloc = parts.netloc.rsplit("@", 1)[1]
    header = {"Authorization": "Basic " + base64.b64encode(credentials).decode()}
    return urlunsplit(parts._replace(netloc=netloc)), header


@dataclass(frozen=True)
class HttpHealth:
    url: str
    status: int = 200
    contains: str | None = None
    timeout_ms: int = 10_000
    label: str = ""

    def __repr__(self) -> str:  # the URL may hold a token: never in a repr either
        return f"HttpHealth({safe_url(self.url)!r}, status={self.status})"

    def expectation(self) -> str:
        body = f" and a body containing {self.contains!r}" if self.contains is not None else ""
        return f"status {self.status}{body}"

    def evaluate(self, urlopen: Opener = urllib.request.urlopen) -> CheckResult:
        """GET the URL once; any failure to get an answer is a failed check, never a crash."""
        url, headers = _without_userinfo(self.url)
        request = urllib.request.Request(
            url, headers={"User-Agent": "migration-runner health check", **headers}
        )
        try:
            try:
                with urlopen(request, timeout=self.timeout_ms / 1000) as response:
                    status = int(response.status)
                    body = response.read(BODY_LIMIT) if self.contains is not None else b""
            except urllib.error.HTTPError as answer:  # a 4xx/5xx is an answer, not a failure to get one
                status = int(answer.code)
                body = answer.read(BODY_LIMIT) if self.contains is not None else b""
                answer.close()
        except Exception as exc:
            return CheckResult(self.label, False, self.expectation(), f"no answer: {self._reason(exc)}")
        found = f"status {status}"
        ok = status == self.status
        if self.contains is not None:
            has = self.contains in body.decode("utf-8", errors="replace")
            ok = ok and has
            found += f" and a body {'containing' if has else 'without'} {self.contains!r}"
        return CheckResult(self.label, ok, self.expectation(), found)

    def _reason(self, exc: Exception) -> str:
        if isinstance(exc, ValueError | http.client.InvalidURL):  # its message would quote pieces of the URL
            return "the URL is not valid (an unencoded / or @ in a password?); its text is not repeated here"
        reason = getattr(exc, "reason", None) or exc
        text = f"{type(reason).__name__}: {reason}" if not isinstance(reason, str) else reason
        plain, _headers = _without_userinfo(self.url)
        for shown in (self.url, plain):
            text = text.replace(shown, safe_url(self.url))
        return str(redact(text))


def http_health(
    url: str,
    status: int = 200,
    contains: str | None = None,
    timeout_ms: int = 10_000,
    name: str | None = None,
) -> HttpHealth:
    _without_userinfo(
        url
    )  # registers a password in the URL with the redactor as soon as the playbook is read
    return HttpHealth(url, status, contains, timeout_ms, name or f"http {safe_url(url)}")
