"""Telling the team: run start, every halt / rollback / restore decision, and the end.

Two channels, either or both: an SNS topic (``publish``) and a webhook whose
HTTPS URL sits in an environment variable the playbook names (Slack-compatible
JSON, ``{"text": ...}``). The URL is a secret: it is registered with the
redactor the moment it is read and never appears in a message, only the
variable's name does. A notification that fails is returned as a failed
``Delivery`` for the run to audit, and the run goes on; only with
``notify.required: true`` does a failed start notification refuse the start.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from runner.errors import Refused
from runner.redact import redact, remember_secret

if TYPE_CHECKING:
    from runner.aws.clients import ClientFactory
    from runner.aws.specs import NotifySpec

TIMEOUT_S = 5.0
LOOPBACK = ("127.0.0.1", "localhost", "::1")
Poster = Callable[
    [str, bytes, float], int
]  # (url, body, timeout) -> HTTP status; raises when there is no answer


@dataclass(frozen=True)
class Notice:
    """One message: what happened to which target, and what to run next."""

    event: str  # run_started, decision_made, run_finished
    target: str
    run_id: str
    prior: str | None
    current: str | None
    headline: str  # one sentence: what happened
    next_command: str | None = None

    def text(self) -> str:
        parts = [
            f"[{self.target}] {self.headline.rstrip('.')}.",
            f"Run {self.run_id}; prior revision {self.prior or '<base>'}, current revision {self.current or '<base>'}.",
        ]
        if self.next_command:
            parts.append(f"Next: {self.next_command}")
        return " ".join(parts)

    def subject(self) -> str:
        """An SNS subject: ASCII, at most 100 characters."""
        words = {"run_started": "started", "decision_made": "decision", "run_finished": "finished"}
        text = f"migration {words.get(self.event, self.event)}: {self.target}"
        return text.encode("ascii", "replace").decode()[:100]


@dataclass(frozen=True)
class Delivery:
    channel: str  # "sns" or "webhook"
    ok: bool
    detail: str  # the message id, or why it failed (never the webhook URL)

    def as_event(self) -> dict[str, Any]:
        return {"channel": self.channel, "ok": self.ok, "detail": self.detail}


def started(target: str, run_id: str, prior: str | None, to: str, operator: str, next_command: str) -> Notice:
    return Notice(
        "run_started", target, run_id, prior, prior, f"{operator} started a migration to {to}", next_command
    )


def decided(
    target: str,
    run_id: str,
    prior: str | None,
    current: str | None,
    action: str,
    revision: str,
    why: str,
    next_command: str | None,
) -> Notice:
    headline = f"{action} decided at {revision}: {why}"
    return Notice("decision_made", target, run_id, prior, current, headline, next_command)


def finished(
    target: str, run_id: str, prior: str | None, current: str | None, outcome: str, next_command: str | None
) -> Notice:
    return Notice("run_finished", target, run_id, prior, current, f"the run ended: {outcome}", next_command)


def post_json(url: str, body: bytes, timeout_s: float) -> int:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "migration-runner"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return int(response.status)
    except urllib.error.HTTPError as answer:
        answer.close()
        return int(answer.code)


class Notifier:
    """Sends notices to the playbook's channels; never raises except ``start`` under ``required: true``."""

    def __init__(
        self,
        spec: NotifySpec,
        *,
        clients: ClientFactory | None = None,
        environ: Mapping[str, str] | None = None,
        post: Poster = post_json,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self.spec = spec
        self._clients = clients
        self._post = post
        self._timeout_s = timeout_s
        env = os.environ if environ is None else environ
        self._webhook = env.get(spec.webhook_url_env) if spec.webhook_url_env else None
        remember_secret(self._webhook)

    def start(self, notice: Notice) -> tuple[Delivery, ...]:
        """The start notice; with ``required: true`` a failed channel refuses the run (nothing has changed yet)."""
        deliveries = self.send(notice)
        failed = [d for d in deliveries if not d.ok]
        if failed and self.spec.required:
            reasons = "; ".join(f"{d.channel}: {d.detail}" for d in failed)
            raise Refused(
                f"The start notification could not be delivered ({reasons}), and the playbook's notify.required "
                "is true, so the run does not start; nothing was changed.",
                next_step="fix the channel (or set notify.required: false) and run the same command again.",
            )
        return deliveries

    def send(self, notice: Notice) -> tuple[Delivery, ...]:
        """Every channel once; a failure is a failed Delivery, never an exception."""
        text = notice.text()
        found: list[Delivery] = []
        if self.spec.sns_topic_arn:
            found.append(self._sns(notice, text))
        if self.spec.webhook_url_env:
            found.append(self._webhook_post(text))
        return tuple(found)

    def _sns(self, notice: Notice, text: str) -> Delivery:
        from runner.aws.failures import translate

        topic = self.spec.sns_topic_arn
        try:
            if self._clients is None:
                return Delivery("sns", False, "no AWS client to publish with")
            answer = self._clients("sns").publish(TopicArn=topic, Subject=notice.subject(), Message=text)
            return Delivery("sns", True, str(answer.get("MessageId", "")))
        except Exception as exc:
            return Delivery("sns", False, translate(exc, f"publishing to {topic}").message)

    def _webhook_post(self, text: str) -> Delivery:
        name = self.spec.webhook_url_env
        url = self._webhook
        if not url:
            return Delivery("webhook", False, f"${name} is not set")
        parts = urlsplit(url)
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
            return Delivery("webhook", False, f"${name} is not an https:// URL")
        try:
            status = self._post(url, json.dumps({"text": text}).encode(), self._timeout_s)
        except Exception as exc:
            reason = getattr(exc, "reason", None) or exc
            shown = str(reason).replace(url, f"${name}")
            return Delivery("webhook", False, str(redact(f"no answer from ${name}: {shown}")))
        if 200 <= status < 300:
            return Delivery("webhook", True, f"HTTP {status}")
        return Delivery("webhook", False, f"${name} answered HTTP {status}")
