"""Telling the team: the playbook's ``notify:`` channels hear the start, every decision, and the end.

The start notice is sent before the run takes its lock; with
``notify.required: true`` a failed one refuses the run. After that the notifier
listens to the audit log: each ``decision_made`` (halt, rollback, restore) and
the run's end become a notice naming the target, the run, the prior and current
revision and the next command. A failed notice is audited
(``notification_failed``) and never stops the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runner.audit import AuditLog, Event
from runner.request import RunRequest

if TYPE_CHECKING:
    from runner.aws.clients import ClientFactory
    from runner.aws.notify import Delivery, Notifier


def notify_start(
    request: RunRequest, audit: AuditLog, clients: ClientFactory | None, prior: str | None
) -> None:
    """Send the start notice and keep listening; refuses (raises) only under ``notify.required``."""
    book = request.playbook
    if book is None or book.notify is None:
        return
    from runner.aws.notify import Notifier, started

    notifier = Notifier(book.notify, clients=clients)
    notice = started(request.target_name, audit.run_id, prior, request.to, request.operator, request.command)
    _audited(audit, "run_started", notifier.start(notice))
    audit.listeners.append(_Listener(request, audit, notifier, prior))


class _Listener:
    def __init__(self, request: RunRequest, audit: AuditLog, notifier: Notifier, prior: str | None) -> None:
        self.request, self.audit, self.notifier, self.prior = request, audit, notifier, prior
        self.current = prior

    def __call__(self, event: Event) -> None:
        from runner.aws.notify import decided, finished

        fields: dict[str, Any] = event.fields
        if event.name == "step_applied" or event.name == "step_reverted":
            self.current = ",".join(fields.get("heads") or []) or None
        elif event.name == "decision_made":
            notice = decided(
                self.request.target_name,
                self.audit.run_id,
                self.prior,
                self.current,
                str(fields.get("action")),
                self.current or "<base>",
                str(fields.get("reason")),
                fields.get("next_step") or self.request.command,
            )
            _audited(self.audit, event.name, self.notifier.send(notice))
        elif event.name in ("run_finished", "run_halted"):
            current = ",".join(fields.get("final_heads") or []) or None
            notice = finished(
                self.request.target_name,
                self.audit.run_id,
                self.prior,
                current,
                f"{fields.get('status')}: {fields.get('message')}",
                fields.get("next_step"),
            )
            _audited(self.audit, event.name, self.notifier.send(notice))


def _audited(audit: AuditLog, about: str, deliveries: tuple[Delivery, ...]) -> None:
    for delivery in deliveries:
        name = "notification_sent" if delivery.ok else "notification_failed"
        audit.emit(name, about=about, **delivery.as_event())
