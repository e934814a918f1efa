"""How one audit line is tied to the line before it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS = "0" * 64


def canonical(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def chain_hash(prev: str, record: dict[str, Any]) -> str:
    """sha256 over the previous line's hash and this line's fields (all but ``hash``)."""
    body = {key: value for key, value in record.items() if key != "hash"}
    return hashlib.sha256((prev + canonical(body)).encode("utf-8")).hexdigest()
