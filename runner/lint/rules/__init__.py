"""Every rule family, imported once so the registry holds them all."""

from runner.lint.rules import (  # noqa: F401  (registration happens on import)
    analysis,
    compat,
    destructive,
    guards,
    irreversible,
    locks,
    rewrites,
    transactions,
)
from runner.lint.rules.registry import FAMILIES, Rule, all_rules, get_rule

__all__ = ["FAMILIES", "Rule", "all_rules", "get_rule"]
