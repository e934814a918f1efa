"""The central list of rules: stable codes, kebab-case slugs, explanations.

A code is two letters for the family and three digits, and is never reused for
another meaning once published; a retired rule keeps its code reserved. A rule
exists once it has a code, a slug, a summary, an explanation (shown by
``runner lint --explain CODE``) and a good/bad test pair.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from runner.errors import InvalidInput
from runner.lint.codes import SLUGS
from runner.lint.findings import Finding

if TYPE_CHECKING:
    from runner.lint.context import StepContext

Check = Callable[["StepContext"], Iterable[Finding]]

FAMILIES = {
    "LK": "lock hazards",
    "RW": "table rewrites",
    "IR": "irreversible steps",
    "DS": "destructive changes",
    "BC": "changes that break the running application",
    "TX": "transaction hazards",
    "GD": "guard gaps",
    "AN": "analysis gaps",
}
_CODE = re.compile(r"^(?P<family>[A-Z]{2})\d{3}$")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Rule:
    code: str
    slug: str
    summary: str  # one sentence: what the rule catches
    explanation: str  # why it matters, what to do instead, when to acknowledge it
    check: Check = field(compare=False, repr=False)
    recipe: str = ""  # the safe version as Alembic code, with example names (findings use the real ones)

    @property
    def family(self) -> str:
        return FAMILIES[self.code[:2]]


_RULES: dict[str, Rule] = {}


def rule(
    code: str, slug: str, *, summary: str, explanation: str, recipe: str = ""
) -> Callable[[Check], Check]:
    """Register a check function under a code and slug (both must be new)."""
    match = _CODE.match(code)
    if not match or match["family"] not in FAMILIES:
        raise ValueError(f"rule code {code!r} is not a known family plus three digits")
    if not _SLUG.match(slug):
        raise ValueError(f"rule slug {slug!r} is not kebab-case")
    if code in _RULES or any(r.slug == slug for r in _RULES.values()):
        raise ValueError(f"rule {code} {slug} is registered twice")

    def register(check: Check) -> Check:
        SLUGS[code] = slug
        _RULES[code] = Rule(
            code, slug, " ".join(summary.split()), explanation.strip(), check, textwrap.dedent(recipe).strip()
        )
        return check

    return register


def all_rules() -> list[Rule]:
    return [_RULES[code] for code in sorted(_RULES)]


def get_rule(code_or_slug: str) -> Rule:
    wanted = code_or_slug.strip()
    found = _RULES.get(wanted.upper()) or next((r for r in _RULES.values() if r.slug == wanted.lower()), None)
    if found is None:
        raise InvalidInput(
            f"{wanted!r} is not a rule code or slug; runner lint --explain list shows every rule."
        )
    return found
