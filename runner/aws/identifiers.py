"""RDS identifiers made from templates: valid by construction, unique by their timestamp.

RDS accepts letters, digits and hyphens, a letter first, no double hyphen and
no trailing hyphen; a DB snapshot identifier may be 255 characters long, a DB
cluster snapshot identifier and a DB instance or cluster identifier 63. RDS
stores them lowercase, so they are made lowercase here and match what
``describe_*`` later returns. A name cut to fit keeps a short hash of the whole,
so two long names that differ only at the end stay different.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

DEFAULT_TEMPLATE = "pre-migration-{target_name}-{prior}-{utc:%Y%m%d%H%M}"
TEMPLATE_FIELDS = ("target_name", "prior", "target", "run_id", "source", "utc")
DB_SNAPSHOT_MAX = 255
CLUSTER_SNAPSHOT_MAX = 63
INSTANCE_MAX = 63  # DB instance and DB cluster identifiers

_INVALID = re.compile(r"[^a-z0-9-]+")
_HYPHENS = re.compile(r"-{2,}")
_VALID = re.compile(r"^[a-z](?!.*--)[a-z0-9-]*(?<!-)$")
_SNAPSHOT_ID = re.compile(r"^(rds:)?[A-Za-z](?!.*--)[A-Za-z0-9-]{0,254}(?<!-)$")
SNAPSHOT_ID_RULE = "a letter, then letters, digits and single hyphens, not ending in a hyphen; rds: first for an automated snapshot"


def is_snapshot_id(text: str) -> bool:
    """Whether ``text`` can name an existing DB or cluster snapshot (``snapshot.reuse.snapshot_id``, ``--snapshot-id``)."""
    return bool(_SNAPSHOT_ID.match(text))


def is_valid(identifier: str, limit: int) -> bool:
    return len(identifier) <= limit and bool(_VALID.match(identifier))


def sanitize(text: str, limit: int) -> str:
    """``text`` as an RDS identifier of at most ``limit`` characters."""
    cleaned = _HYPHENS.sub("-", _INVALID.sub("-", text.lower())).strip("-")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = f"s-{cleaned}".rstrip("-")
    if len(cleaned) <= limit:
        return cleaned
    digest = hashlib.sha256(cleaned.encode()).hexdigest()[:8]
    return f"{cleaned[: limit - len(digest) - 1].rstrip('-')}-{digest}"


def template_problem(template: str) -> str | None:
    """Why ``template`` can't name a snapshot; None when it can."""
    try:
        fields = [
            name for _text, name, _spec, _conv in string.Formatter().parse(template) if name is not None
        ]
    except ValueError as exc:
        return f"{template!r} is not a template: {exc}"
    for name in fields:
        if name not in TEMPLATE_FIELDS:
            known = ", ".join("{" + known + "}" for known in TEMPLATE_FIELDS)
            return f"{{{name}}} is not a field a snapshot name can use; the fields are {known}"
    try:
        render(template, _sample())
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        return f"{template!r} can't be filled in: {exc}"
    return None


def _sample() -> dict[str, Any]:
    return {
        "target_name": "target",
        "prior": "0001",
        "target": "0002",
        "run_id": "run",
        "source": "db",
        "utc": datetime(2026, 1, 1, tzinfo=UTC),
    }


def render(template: str, values: Mapping[str, Any]) -> str:
    """The template filled in, before it is made valid."""
    return template.format(**values)


def snapshot_identifier(template: str, values: Mapping[str, Any], *, cluster: bool) -> str:
    """A valid DB snapshot (or DB cluster snapshot) identifier from ``template``."""
    filled = {**values, "prior": values.get("prior") or "base", "target": values.get("target") or "head"}
    return sanitize(render(template, filled), CLUSTER_SNAPSHOT_MAX if cluster else DB_SNAPSHOT_MAX)


def restored_identifier(original: str, now: datetime) -> str:
    """The default name for a restore of ``original``: never the original's own name."""
    stamp = now.astimezone(UTC).strftime("%Y%m%d%H%M")
    suffix = f"-restored-{stamp}"
    return sanitize(f"{original[: INSTANCE_MAX - len(suffix)]}{suffix}", INSTANCE_MAX)
