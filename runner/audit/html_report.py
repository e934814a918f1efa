"""The runbook report as one standalone HTML page: made from the audit log alone, drawn with Jinja2.

Everything is in the page (styles and the timeline's inline SVG; no scripts,
fonts, images or links to fetch), so it can be attached to a change ticket and
opened offline years later. What it says comes from ``run_record`` (the same as
the Markdown report), ``timeline`` (the picture's geometry) and ``recovery``
(the way back); the template in ``templates/report.html.j2`` only lays it out,
with every value escaped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from runner.audit.normal import Event
from runner.audit.recovery import recovery
from runner.audit.run_record import RunRecord, heads_text
from runner.audit.timeline import layout
from runner.redact import redact

if TYPE_CHECKING:
    from jinja2 import Environment

BOOKKEEPING = {"ts", "run_id", "seq", "event", "prev", "hash"}


@cache
def _environment() -> Environment:
    """Jinja2 is imported here, when a report is made, so that no other command pays for it."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(
        loader=PackageLoader("runner.audit", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    return json.dumps(value, ensure_ascii=False, default=str)


def _fields(event: Event | None) -> list[tuple[str, str]]:
    """An event's own fields (not the log's bookkeeping), as (name, text)."""
    if not event:
        return []
    return [(key, _shown(value)) for key, value in event.items() if key not in BOOKKEEPING]


def _status(record: RunRecord) -> str:
    """done, halted, rolled_back, refused... or incomplete: the badge's colour."""
    if not record.finished:
        return "incomplete"
    return str(record.ending.get("status") or record.ending["event"].removeprefix("run_"))


def render_html(
    events: Sequence[Event], run_id: str, *, chain_note: str | None = None, log: str | None = None
) -> str:
    """The runbook report of one run, as a standalone HTML page."""
    record = RunRecord.of(events, run_id)
    snapshot = record.snapshot
    page = (
        _environment()
        .get_template("report.html.j2")
        .render(
            run_id=run_id,
            record=record,
            finished=record.finished,
            outcome=record.outcome,
            status=_status(record),
            prior=heads_text(record.prior_heads),
            final=heads_text(record.final_heads) if record.final_heads is not None else None,
            summary=record.summary(),
            versions=record.started.get("versions") or {},
            chain=record.chain(),
            snapshot_name=snapshot["event"] if snapshot else None,
            snapshot=_fields(snapshot),
            timeline=layout(record),
            steps=record.step_rows(),
            decisions=record.decisions(),
            attention=record.attention(),
            drill=record.drill,
            way_back=recovery(record, log=log),
            statements=record.statements(),
            next_step=record.ending.get("next_step"),
            first=record.events[0],
            last=record.last,
            ending=record.ending,
            chain_note=chain_note,
        )
    )
    return redact(page)
