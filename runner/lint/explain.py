"""``runner lint --explain CODE``: what a rule catches, why, and what to do instead."""

from __future__ import annotations

from runner.lint.rules import all_rules, get_rule


def explain(code_or_slug: str) -> str:
    """The full explanation of one rule, by code (LK101) or slug (create-index-non-concurrently)."""
    rule = get_rule(code_or_slug)
    recipe = ""
    if rule.recipe:
        code = "\n".join("    " + line if line else "" for line in rule.recipe.splitlines())
        recipe = f"The safe version, in Alembic (example names; each finding shows its own):\n{code}\n\n"
    return (
        f"{rule.code} {rule.slug} ({rule.family})\n\n"
        f"{rule.summary}\n\n"
        f"{rule.explanation}\n\n"
        f"{recipe}"
        "To run a flagged step as written, acknowledge the finding with a reason, in the playbook:\n"
        "    acknowledgements:\n"
        f'      - {{code: {rule.code}, revision: REVISION, reason: "..."}}\n'
        f'or on the command line: runner lint --acknowledge {rule.code}:REVISION --reason "..."\n'
    )


def catalogue() -> str:
    """One line per rule: code, slug, summary."""
    width = max(len(r.slug) for r in all_rules())
    return "\n".join(f"{r.code}  {r.slug.ljust(width)}  {r.summary}" for r in all_rules()) + "\n"
