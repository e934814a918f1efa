"""Rule codes and their slugs, filled in as rules register: what a finding needs without the rules."""

from __future__ import annotations

from runner.errors import InvalidInput

SLUGS: dict[str, str] = {}  # code -> kebab-case slug, filled by runner.lint.rules.registry.rule


def slug_of(code: str) -> str:
    try:
        return SLUGS[code]
    except KeyError:
        raise InvalidInput(
            f"{code!r} is not a registered rule code; runner lint --explain list shows every rule."
        ) from None
