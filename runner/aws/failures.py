"""Every boto3/botocore failure said as a RunnerError: one paragraph, no traceback, no key.

Two outcomes, because they call for different next steps: AWS could not be
used at all (no route, no credentials, an expired token, throttling or server
errors that outlasted botocore's own retries) is ``Unreachable`` (exit 6), and
AWS answering no (not found, wrong state, access denied, a quota) is
``Refused`` (exit 4). ``doing`` names what was being done, with the instance,
cluster or snapshot, so the message says where it happened.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)

from runner.errors import ConfigError, Refused, RunnerError, Unreachable
from runner.redact import redact

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
    }
)
TRANSIENT_CODES = frozenset(
    {"RequestTimeout", "RequestTimeoutException", "ServiceUnavailable", "InternalFailure", "InternalError"}
)
CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
        "AuthFailure",
        "MissingAuthenticationToken",
        "IncompleteSignature",
    }
)
_CREDENTIAL_FAILURES = (
    NoCredentialsError,
    PartialCredentialsError,
    CredentialRetrievalError,
    TokenRetrievalError,
    SSOError,
)
_NO_CREDENTIALS_NEXT = (
    "export AWS credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or refresh them "
    "(aws sso login), and run the same command again."
)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code") or "Unknown")


def _one_paragraph(text: str) -> str:
    return re.sub(r"\s+", " ", str(redact(text))).strip().rstrip(".")


def _aws_message(exc: ClientError) -> str:
    return _one_paragraph(str(exc.response.get("Error", {}).get("Message") or "no message"))


def _attempts(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("RetryAttempts") or 0) + 1


def translate(exc: BaseException, doing: str, next_step: str | None = None) -> RunnerError:
    """The RunnerError for a failure while ``doing`` (a phrase such as 'creating snapshot X of RDS instance Y')."""
    if isinstance(exc, RunnerError):
        return exc
    if isinstance(exc, ClientError):
        return _client_error(exc, doing, next_step)
    if isinstance(exc, _CREDENTIAL_FAILURES):
        return Unreachable(
            f"No usable AWS credentials were found while {doing}: {_one_paragraph(str(exc))}.",
            next_step=_NO_CREDENTIALS_NEXT,
        )
    if isinstance(exc, ProfileNotFound):
        return ConfigError(
            f"{_one_paragraph(str(exc))} (while {doing}).",
            next_step="name a profile from ~/.aws/config (AWS_PROFILE) and run the same command again.",
        )
    if isinstance(exc, NoRegionError):
        return ConfigError(
            f"No AWS region is set for {doing}.",
            next_step="set snapshot.region in the playbook, or AWS_REGION, and run the same command again.",
        )
    if isinstance(exc, ParamValidationError):
        return Refused(
            f"The request for {doing} was refused before it was sent: {_one_paragraph(str(exc))}.",
            next_step=next_step,
        )
    if isinstance(exc, BotoCoreError):
        return Unreachable(
            f"AWS could not be reached while {doing}: {_one_paragraph(str(exc))}.",
            next_step=next_step
            or "check the network path to AWS (and AWS_ENDPOINT_URL, if set) and run the same command again.",
        )
    return Unreachable(
        f"AWS could not be used while {doing}: {type(exc).__name__}: {_one_paragraph(str(exc))}.",
        next_step=next_step,
    )


def _client_error(exc: ClientError, doing: str, next_step: str | None) -> RunnerError:
    code = error_code(exc)
    message = _aws_message(exc)
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if code in CREDENTIAL_CODES:
        return Unreachable(
            f"AWS did not accept the runner's credentials while {doing} ({code}: {message}); they have expired "
            "or are not valid.",
            next_step=_NO_CREDENTIALS_NEXT,
        )
    if code in THROTTLING_CODES or code in TRANSIENT_CODES or status >= 500:
        return Unreachable(
            f"AWS kept answering {code} while {doing}, {_attempts(exc)} attempt(s) with backoff ({message}).",
            next_step=next_step or "wait a few minutes and run the same command again.",
        )
    return Refused(f"AWS refused {doing}: {code}: {message}.", next_step=next_step)


@contextmanager
def aws_call(doing: str, next_step: str | None = None) -> Iterator[None]:
    """Run AWS calls inside; any botocore failure leaves as the RunnerError ``translate`` gives."""
    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise translate(exc, doing, next_step) from exc


def not_found(exc: Any, *codes: str) -> bool:
    """Whether ``exc`` is a ClientError with one of ``codes``."""
    return isinstance(exc, ClientError) and error_code(exc) in codes
