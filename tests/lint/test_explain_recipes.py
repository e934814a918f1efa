"""`runner lint --explain CODE` shows each new rule's safe recipe as Alembic code that really runs.

The recipes use the sized test database's names (events and its partitions, accounts, orgs), so each
one is pasted into a revision of its own and applied with plain Alembic to a copy of that database.
"""

from __future__ import annotations

import ast
from contextlib import closing

from runner.lint import explain
from runner.lint.rules import get_rule
from tests import pg
from tests.lint.projects import make_project

NEW_CODES = [
    "LK112",
    "LK113",
    "LK114",
    "LK115",
    "LK116",
    "LK117",
    "BC104",
    "BC105",
    "BC106",
    "BC107",
    "BC108",
    "BC109",
    "BC110",
    "TX105",
    "TX106",
    "TX107",
]
# Recipes that change the same objects run on separate copies, in this order.
FIRST = [
    "LK112",
    "LK117",
    "LK113",
    "LK114",
    "BC106",
    "BC108",
    "BC109",
    "BC110",
    "BC105",
    "TX105",
    "TX106",
    "TX107",
]
SECOND = ["LK115", "LK116", "BC107", "BC104"]


def test_every_new_rule_explains_its_recipe_as_python() -> None:
    """Each new rule has a recipe; it parses as Python, calls op, and --explain prints it indented."""
    for code in NEW_CODES:
        recipe = get_rule(code).recipe
        assert recipe and "op." in recipe, code
        ast.parse(recipe)
        text = explain(code)
        assert "The safe version, in Alembic (example names; each finding shows its own):\n    " in text
        assert all(("    " + line if line else "") in text.splitlines() for line in recipe.splitlines()), code


def apply_recipes(tmp_path, database: str, codes: list[str], setup: str = "pass") -> None:
    revisions = [("r0", setup, "pass")]
    revisions += [(code.lower(), "MAX_ID = 250_000\n" + get_rule(code).recipe, "pass") for code in codes]
    ini = make_project(tmp_path / codes[0], revisions)
    pg.alembic_upgrade(str(ini), database, "heads")


def test_the_recipes_run_on_the_sized_database(tmp_path, sized_db, new_db) -> None:
    """Applied in order to copies of the sized database, every recipe runs and leaves what it promises."""
    first, second = new_db(sized_db), new_db(sized_db)
    apply_recipes(tmp_path, first, FIRST)
    apply_recipes(tmp_path, second, SECOND, setup='op.execute("CREATE SCHEMA archive")')
    with closing(pg.connect(first)) as conn:
        assert conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone() == (0,)
        attached = conn.execute(
            "SELECT relname FROM pg_class WHERE relispartition AND relkind = 'r' ORDER BY 1"
        ).fetchall()
        assert attached == [("events_2025",), ("events_2026",), ("events_2027",)]
        assert conn.execute("SELECT count(*) FROM accounts_copy").fetchone() == (100_000,)
        keys = conn.execute(
            "SELECT conrelid::regclass::text, conparentid <> 0 FROM pg_constraint "
            "WHERE conname = 'events_org_id_fkey' ORDER BY 1"
        ).fetchall()
        # the partitions' validated keys became the parent's; ATTACH gave events_2027 one too
        assert keys == [
            ("events", False),
            ("events_2025", True),
            ("events_2026", True),
            ("events_2027", True),
        ]
    with closing(pg.connect(second)) as conn:
        attached = conn.execute(
            "SELECT relname FROM pg_class WHERE relispartition AND relkind = 'r' ORDER BY 1"
        ).fetchall()
        assert attached == [("events_2026",), ("events_2029",)]
        assert conn.execute("SELECT count(*) FROM archive.accounts").fetchone() == (100_000,)
