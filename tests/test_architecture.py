"""The package's shape, pinned: no import cycles, small modules, and a command line that stays a skin.

The import graph is read with ``ast`` from every module's source, not by importing it: the imports
at module level (inside ``if TYPE_CHECKING:``, ``try`` and class bodies too, since those run or are
read at import time), with relative names resolved. Imports inside functions are lazy (they run on
first call, when every module is loaded) and are left out on purpose.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 300


def modules_of(root: Path, package: str = "runner") -> dict[str, Path]:
    """Every module of ``package`` under ``root`` by dotted name (a package by its own name)."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def module_level_imports(name: str, path: Path, modules: Mapping[str, Path]) -> Iterator[str]:
    """The modules ``name`` imports when it is imported: absolute names, relative ones resolved."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def visit(node: ast.AST) -> Iterator[str]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue  # lazy: runs on first call
            if isinstance(child, ast.Import):
                yield from (alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    source = ".".join([*base, child.module] if child.module else base)
                else:
                    source = child.module or ""
                for alias in child.names:  # ``from pkg import module`` imports that module
                    yield f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
            else:
                yield from visit(child)

    yield from visit(ast.parse(path.read_text(), filename=str(path)))


def import_graph(root: Path = ROOT, package: str = "runner") -> dict[str, set[str]]:
    """Module -> the package's modules it imports, each with the packages above it that importing runs.

    Importing ``runner.run.executor`` runs ``runner/run/__init__.py`` first, so that is an edge too;
    the importer's own enclosing packages are not (they are already being imported).
    """
    modules = modules_of(root, package)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        for imported in module_level_imports(name, path, modules):
            parts = imported.split(".")
            for depth in range(2, len(parts) + 1):
                target = ".".join(parts[:depth])
                if target in modules and target != name and not name.startswith(target + "."):
                    edges.add(target)
        graph[name] = edges
    return graph


def find_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """One cycle as a path that starts and ends at the same module, or None (a depth-first walk)."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path = [start]
        pending = [iter(sorted(graph[start]))]
        while pending:
            step = next(pending[-1], None)
            if step is None:
                done.add(path.pop())
                pending.pop()
            elif step in path:
                return [*path[path.index(step) :], step]
            elif step not in done:
                path.append(step)
                pending.append(iter(sorted(graph.get(step, ()))))
    return None


pytestmark = pytest.mark.once  # reads the source, imports nothing of it


def test_the_runner_package_has_no_import_cycles():
    """No chain of module-level imports (TYPE_CHECKING ones included) leads from a module back to itself."""
    graph = import_graph()
    assert "runner.commands" in graph["runner.cli.apply"]  # the graph sees real imports
    assert "runner.lint" in graph["runner.request"]  # ... those under ``if TYPE_CHECKING:`` too
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_sees_relative_type_checking_and_package_imports(tmp_path):
    """A planted cycle through a relative import, a TYPE_CHECKING block and a package __init__ is found."""
    package = tmp_path / "shop"
    (package / "orders").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "orders" / "__init__.py").write_text("from .lines import Line\n")
    (package / "orders" / "lines.py").write_text("class Line: ...\n")
    (package / "billing.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from shop.orders.lines import Line\n"
    )
    (package / "orders" / "totals.py").write_text("def total():\n    from shop import billing\n")
    graph = import_graph(tmp_path, "shop")
    assert graph["shop.billing"] == {"shop.orders", "shop.orders.lines"}
    assert find_cycle(graph) is None  # the function-level import of billing is lazy

    (package / "orders" / "lines.py").write_text("from .. import billing\nclass Line: ...\n")
    assert find_cycle(import_graph(tmp_path, "shop")) == [
        "shop.billing",
        "shop.orders",
        "shop.orders.lines",
        "shop.billing",
    ]


def test_no_module_in_runner_is_over_300_lines():
    """Every module of the package stays small enough to read in one sitting."""
    lengths = {name: len(path.read_text().splitlines()) for name, path in modules_of(ROOT).items()}
    too_long = {name: n for name, n in sorted(lengths.items()) if n > MAX_LINES}
    assert too_long == {}
    assert max(lengths.values()) > MAX_LINES // 2  # the files were really read


# What the command line may take from the engine's packages directly, and why; everything else it gets
# through runner.commands and runner.request. runner.run: never the engine, only the interrupts (the
# signal handlers the process installs, the Interrupted error the boundary maps) and the result it renders.
CLI_MAY_IMPORT = {
    "runner.run.interrupts": "every module",
    "runner.run.result": "every module",
    "runner.planning.revisions": "every module",  # Revision, a value the views render
    "runner.planning.status": "every module",  # Status, a value the views render
    "runner.planning.offline": "every module",  # RenderedStep, a value plan renders
    # Not yet behind runner.commands: runner drift loads the project itself and parses --version-table,
    # and runner audit verify reads the recorded run hashes itself.
    "runner.planning.project": {"runner.cli.common", "runner.cli.drift"},
    "runner.database.connections": {"runner.cli.audit", "runner.cli.drift"},
    "runner.database.history": {"runner.cli.audit"},
    "runner.database.reads": {"runner.cli.audit"},
}
ENGINE_PACKAGES = ("runner.run", "runner.database", "runner.planning")


def test_the_cli_reaches_run_database_and_planning_only_through_the_command_layer():
    """runner/cli imports from runner.run, runner.database and runner.planning only what CLI_MAY_IMPORT lists.

    Lazy imports count here: they are still the command line reaching into the engine.
    """
    modules = modules_of(ROOT)
    reached = set()
    for name, path in modules.items():
        if name != "runner.cli" and not name.startswith("runner.cli."):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in targets:
                if target in modules and target.startswith(tuple(p + "." for p in ENGINE_PACKAGES)):
                    reached.add((name, target))
    allowed = {
        (name, target)
        for name, target in reached
        if target in CLI_MAY_IMPORT
        and (CLI_MAY_IMPORT[target] == "every module" or name in CLI_MAY_IMPORT[target])
    }
    assert sorted(reached - allowed) == []
    assert ("runner.cli", "runner.run.interrupts") in reached  # the walk sees the CLI's imports
