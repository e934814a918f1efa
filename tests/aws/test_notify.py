"""Notifications: SNS and a Slack-compatible webhook, failures returned (or refusing the start when required)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runner.aws.notify import Notifier, decided, finished, started
from runner.aws.specs import NotifySpec
from runner.errors import ExitCode, Refused
from runner.redact import MASK, redact

START = started(
    "credmate-prod", "01JRUN", "20260115_0200", "20260131_0000", "alice", "runner status --playbook prod.yaml"
)
ROLLBACK = decided(
    "credmate-prod",
    "01JRUN",
    "20260115_0200",
    "20260131_0000",
    "rollback",
    "20260131_0000",
    "http https://credmate.example.com/healthz: expected status 200, found status 503",
    "runner status --playbook prod.yaml",
)
END = finished(
    "credmate-prod", "01JRUN", "20260115_0200", "7702d353e5b8", "rolled back to 7702d353e5b8", None
)


def _subscribed_queue(aws: Any) -> tuple[str, str]:
    """An SNS topic with an SQS queue subscribed to it: (topic ARN, queue URL)."""
    sns, sqs = aws("sns"), aws("sqs")
    topic = sns.create_topic(Name="credmate-deploys")["TopicArn"]
    queue = sqs.create_queue(QueueName="deploys-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return topic, queue


def _received(aws: Any, queue: str) -> list[dict[str, str]]:
    messages = aws("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    return [json.loads(m["Body"]) for m in messages]


def test_an_sqs_queue_subscribed_to_the_topic_receives_start_decision_and_end(aws):
    """Each message names target, run id, prior and current revision, and the next command."""
    topic, queue = _subscribed_queue(aws)
    notifier = Notifier(NotifySpec(topic, None), clients=aws)

    deliveries = [notifier.start(START), notifier.send(ROLLBACK), notifier.send(END)]

    assert all(d.ok and d.channel == "sns" for sent in deliveries for d in sent)
    bodies = _received(aws, queue)
    assert [b["Subject"] for b in bodies] == [
        "migration started: credmate-prod",
        "migration decision: credmate-prod",
        "migration finished: credmate-prod",
    ]
    assert [b["Message"] for b in bodies] == [
        "[credmate-prod] alice started a migration to 20260131_0000. Run 01JRUN; prior revision 20260115_0200, "
        "current revision 20260115_0200. Next: runner status --playbook prod.yaml",
        "[credmate-prod] rollback decided at 20260131_0000: http https://credmate.example.com/healthz: expected "
        "status 200, found status 503. Run 01JRUN; prior revision 20260115_0200, current revision 20260131_0000. "
        "Next: runner status --playbook prod.yaml",
        "[credmate-prod] the run ended: rolled back to 7702d353e5b8. Run 01JRUN; prior revision 20260115_0200, "
        "current revision 7702d353e5b8.",
    ]


def test_a_webhook_receives_slack_json_and_its_url_is_a_secret(local_http):
    """A POST of {"text": ...} to the URL in the named variable; the URL is masked from then on."""
    server = local_http(status=200, body=b"ok")
    url = f"{server.url}/services/T000/B000/hook-secret-0001"
    notifier = Notifier(NotifySpec(None, "CREDMATE_SLACK_WEBHOOK"), environ={"CREDMATE_SLACK_WEBHOOK": url})

    (delivery,) = notifier.start(START)

    assert (delivery.channel, delivery.ok, delivery.detail) == ("webhook", True, "HTTP 200")
    (request,) = server.received
    assert request.method == "POST" and request.path == "/services/T000/B000/hook-secret-0001"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {"text": START.text()}
    assert redact(f"posting to {url}") == f"posting to {MASK}"


def test_a_failed_notification_is_a_value_and_the_run_goes_on(local_http):
    """A webhook answering 500 and an unset variable: failed deliveries naming the variable, nothing raised."""
    server = local_http(status=500, body=b"boom")
    failing = Notifier(NotifySpec(None, "HOOK"), environ={"HOOK": f"{server.url}/hook-secret-0002"})
    unset = Notifier(NotifySpec(None, "HOOK"), environ={})
    plain_http = Notifier(NotifySpec(None, "HOOK"), environ={"HOOK": "http://hooks.example.com/x"})

    assert failing.send(END)[0].as_event() == {
        "channel": "webhook",
        "ok": False,
        "detail": "$HOOK answered HTTP 500",
    }
    assert unset.start(START)[0].detail == "$HOOK is not set"
    assert plain_http.send(END)[0].detail == "$HOOK is not an https:// URL"


def test_required_refuses_the_start_when_the_first_notification_fails(aws):
    """notify.required: true and an SNS topic that does not exist: exit 4 before anything changes."""
    topic = "arn:aws:sns:us-east-1:123456789012:no-such-topic"
    notifier = Notifier(NotifySpec(topic, None, required=True), clients=aws)

    with pytest.raises(Refused) as caught:
        notifier.start(START)

    assert caught.value.exit_code == ExitCode.REFUSED
    assert caught.value.message.startswith(
        f"The start notification could not be delivered (sns: AWS refused publishing to {topic}: NotFound"
    )
    assert caught.value.message.endswith(
        "and the playbook's notify.required is true, so the run does not start; nothing was changed."
    )
    later = notifier.send(END)  # after the start, even a required channel only reports
    assert not later[0].ok


def test_a_webhook_that_does_not_answer_is_a_failed_delivery_without_its_url():
    """Connection refused: the detail names the variable, never the URL."""
    url = "http://127.0.0.1:9/services/hook-secret-0003"
    (delivery,) = Notifier(NotifySpec(None, "HOOK"), environ={"HOOK": url}, timeout_s=2).send(START)
    assert not delivery.ok
    assert delivery.detail.startswith("no answer from $HOOK: ")
    assert "hook-secret-0003" not in delivery.detail
