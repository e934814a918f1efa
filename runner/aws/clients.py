"""boto3 clients built the usual way, behind one injectable seam.

Region, profile and endpoint come from where boto3 users expect them (the
playbook's region, else ``AWS_REGION``/``AWS_DEFAULT_REGION``, else the
profile's; ``AWS_PROFILE``; ``AWS_ENDPOINT_URL``, which is how a rehearsal
points the very same code at moto). Throttling and transient failures are
botocore's job (its ``standard`` retry mode, bounded attempts and timeouts on
every call). Whatever credentials botocore resolves, from the environment, a
profile or an instance role, their secret key and session token are handed to
the redactor before any client exists, so they can't reach output even if an
error message quoted them.

A ``ClientFactory`` is any callable from a service name (``"rds"``,
``"cloudwatch"``, ``"sns"``) to a client: tests and the rehearsal pass their own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from runner.aws.failures import aws_call
from runner.errors import ConfigError, Unreachable
from runner.redact import remember_secret

ClientFactory = Callable[[str], Any]

DEFAULT_MAX_ATTEMPTS = 5  # botocore's standard mode default is 3; snapshots are worth a little more patience
DEFAULT_CONNECT_TIMEOUT_S = 5.0
DEFAULT_READ_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class AwsSettings:
    """Where and how to talk to AWS; ``None`` means boto3's own default."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    retry_mode: str = "standard"
    max_attempts: int = DEFAULT_MAX_ATTEMPTS  # every try, the first included (botocore: total_max_attempts)
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S

    @classmethod
    def resolve(
        cls,
        *,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        environ: Mapping[str, str] | None = None,
        **tuning: Any,
    ) -> AwsSettings:
        """The playbook's (or caller's) values first, then the environment's."""
        env = os.environ if environ is None else environ
        return cls(
            region=region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
            profile=profile or env.get("AWS_PROFILE") or None,
            endpoint_url=endpoint_url or env.get("AWS_ENDPOINT_URL") or None,
            **tuning,
        )

    def describe(self) -> str:
        where = self.region or "the profile's region"
        via = f" via {self.endpoint_url}" if self.endpoint_url else ""
        profile = f", profile {self.profile}" if self.profile else ""
        return f"AWS {where}{profile}{via}"


class BotoClients:
    """One boto3 session, one cached client per service; the credentials' secrets registered as secrets."""

    def __init__(self, settings: AwsSettings, *, session_factory: Callable[..., Any] | None = None) -> None:
        self.settings = settings
        self._session_factory = session_factory
        self._session: Any = None
        self._clients: dict[str, Any] = {}

    @property
    def region(self) -> str | None:
        if self._session is None:
            return self.settings.region
        region: str | None = self._session.region_name  # boto3 is untyped
        return region

    def __call__(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._make(service)
        return self._clients[service]

    def _make(self, service: str) -> Any:
        from botocore.config import Config

        session = self._open_session()
        if not session.region_name:
            raise ConfigError(
                f"No AWS region is set for {service}.",
                next_step="set snapshot.region in the playbook, or AWS_REGION, and run the same command again.",
            )
        config = Config(
            region_name=session.region_name,
            retries={"mode": self.settings.retry_mode, "total_max_attempts": self.settings.max_attempts},
            connect_timeout=self.settings.connect_timeout_s,
            read_timeout=self.settings.read_timeout_s,
            user_agent_extra="migration-runner",
        )
        with aws_call(f"creating the {service} client for {self.settings.describe()}"):
            return session.client(service, config=config, endpoint_url=self.settings.endpoint_url)

    def _open_session(self) -> Any:
        if self._session is not None:
            return self._session
        doing = f"reading AWS credentials for {self.settings.describe()}"
        with aws_call(doing):
            if self._session_factory is not None:
                session = self._session_factory(
                    profile_name=self.settings.profile, region_name=self.settings.region
                )
            else:
                import boto3

                session = boto3.session.Session(
                    profile_name=self.settings.profile, region_name=self.settings.region
                )
            credentials = session.get_credentials()
            frozen = credentials.get_frozen_credentials() if credentials is not None else None
        if frozen is None or not frozen.access_key or not frozen.secret_key:
            raise Unreachable(
                f"No AWS credentials were found for {self.settings.describe()} (looked in the environment, the "
                "shared credentials and config files, and the instance role).",
                next_step="export AWS credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) "
                "and run the same command again.",
            )
        remember_secret(frozen.secret_key)
        remember_secret(frozen.token)
        self._session = session
        return session


def client_factory(settings: AwsSettings) -> ClientFactory:
    """The production factory: real boto3 clients for ``settings``."""
    return BotoClients(settings)
