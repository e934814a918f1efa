"""Every rule family, imported once so the registry holds them all."""

from runner.lint.rules import (  # noqa: F401  (registration happens on import)
    analysis,
    compat,
    data,
    destructive,
    guards,
    irreversible,
    leftovers,
    locks,
    moves,
    rewrites,
    transactions,
    triggers,
)
from runner.lint.rules.registry import FAMILIES, Rule, all_rules, get_rule

__all__ = ["FAMILIES", "Rule", "all_rules", "get_rule"]
