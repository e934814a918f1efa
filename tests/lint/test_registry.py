"""The rule catalogue: stable codes, kebab-case slugs, explanations, and a good/bad test pair per rule."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from runner.errors import InvalidInput
from runner.lint import catalogue, explain
from runner.lint.rules import FAMILIES, all_rules, get_rule

HERE = Path(__file__).parent


def test_every_rule_has_a_code_slug_summary_and_explanation() -> None:
    rules = all_rules()
    assert len(rules) >= 30
    for rule in rules:
        assert re.fullmatch(r"[A-Z]{2}\d{3}", rule.code) and rule.code[:2] in FAMILIES
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.slug)
        assert rule.summary.endswith(".") and len(rule.explanation) > 200, rule.code
    assert len({r.slug for r in rules}) == len(rules)


def test_every_rule_has_a_bad_and_a_good_test() -> None:
    """A rule does not exist until it has a good/bad test pair (test_<code>_bad_*, test_<code>_good_*)."""
    names: set[str] = set()
    for path in HERE.glob("test_rules_*.py"):
        tree = ast.parse(path.read_text())
        names |= {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    for rule in all_rules():
        prefix = f"test_{rule.code.lower()}_"
        assert any(n.startswith(prefix + "bad") for n in names), f"{rule.code} has no bad test"
        assert any(n.startswith(prefix + "good") for n in names), f"{rule.code} has no good test"


def test_explain_by_code_or_slug() -> None:
    text = explain("lk101")
    assert text.startswith("LK101 create-index-non-concurrently (lock hazards)\n\n")
    assert explain("create-index-non-concurrently") == text
    assert 'runner lint --acknowledge LK101:REVISION --reason "..."' in text


def test_explain_unknown_code_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="'XX999' is not a rule code or slug"):
        get_rule("XX999")


def test_catalogue_lists_every_rule_once() -> None:
    lines = catalogue().splitlines()
    assert [line.split()[0] for line in lines] == [r.code for r in all_rules()]
