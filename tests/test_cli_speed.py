"""What keeps ``runner lint`` and ``runner plan`` quick on a long chain, pinned by structure, never by a timer.

Starting the command line loads no engine (Alembic, SQLAlchemy, pglast, psycopg, the
audit log): each command imports what it uses. plan and lint print plain tables, lines
and rules straight to the stream when rich would print them unchanged; the text must be
exactly rich's, whatever it holds.
"""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from rich.console import Console
from rich.table import Table

from runner.cli.plain import rule, say, show_table
from runner.planning.offline import render
from runner.planning.project import AlembicProject
from tests.cli import ROOT, run_cli
from tests.conftest import EXAMPLE_INI, PROJECTS

HEAVY = ("sqlalchemy", "alembic", "pglast", "psycopg", "structlog", "jinja2", "boto3", "runner.audit")


def test_starting_the_command_line_loads_no_engine():
    """``import runner.cli`` (what every command pays before it runs) imports none of the heavy packages."""
    probe = (
        "import sys, runner.cli; "
        f"print(sorted({{m.split('.')[0] if not m.startswith('runner') else m for m in sys.modules}} & {set(HEAVY)!r}))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_lint_and_plan_offline_load_no_database_driver_or_audit_log():
    """--from reads no database: psycopg and the audit log stay unloaded through a whole plan and lint."""
    probe = (
        "import sys\n"
        "from runner.cli import app\n"
        f"for args in (['lint', '-c', {str(EXAMPLE_INI)!r}, '--from', 'base', '--json'],\n"
        f"             ['plan', '-c', {str(EXAMPLE_INI)!r}, '--from', 'base', '--sql']):\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit as exc:\n"
        "        print('EXIT', exc.code)\n"
        "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in ('psycopg', 'structlog', 'jinja2')"
        " or m.startswith('runner.audit')))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "LOADED []" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]
    exits = [line for line in done.stdout.splitlines() if line.startswith("EXIT ")]
    assert exits[0] in ("EXIT 0", "EXIT 4") and exits[1] == "EXIT 0", exits  # both ran to the end


def test_plan_sql_comments_each_step_as_alembic_does():
    """Each step's SQL carries Alembic's own comment, named for the direction (not for the runner's wrapper)."""
    proc = run_cli("plan", "-c", str(EXAMPLE_INI), "--from", "base", "--sql")
    assert proc.returncode == 0, proc.stderr
    running = [line for line in proc.stdout.splitlines() if line.startswith("-- Running ")]
    assert running and all(line.startswith("-- Running upgrade ") for line in running), running
    assert "-- Running upgrade  -> " in proc.stdout  # the first step, from base


def test_downgrades_that_skip_revisions_render_in_one_env_py_run_each_as_if_alone():
    """lint reads the downgrades of many steps: one env.py run, stamped between them, the same SQL as alone."""
    project = AlembicProject.load(
        PROJECTS / "branches" / "alembic.ini"
    )  # a -> b1, a -> b2, (b1, b2) -> m -> c
    order = [project.revision(name) for name in ("a", "b1", "c")]  # to base, from a branch, above the merge
    alone = [render(project, [revision], "downgrade")[0] for revision in order]
    runs = []
    run_env = project.run_env
    project.run_env = lambda *args: (runs.append(args), run_env(*args))[1]
    together = render(project, order, "downgrade")
    assert together == alone and len(runs) == 1
    assert [step.sql.count("-- Running downgrade") for step in together] == [1, 1, 1]
    assert all("stamp" not in step.sql for step in together)


def _console(width: int = 160) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, highlight=False, soft_wrap=True, width=width), out


CELLS = [
    ["1", "r00001", "low", "SHARE on public.t", "yes", "< 1 s", "1 info"],
    ["10", "r00010", "high", "", "no (downgrade only passes)", "about 3 min", "1 block, 2 warn"],
    ["11", "[bold]r11[/bold]", "x :smile: y", "tab\there", "ünïcode", "wide 漢字", "none"],
]


@pytest.mark.parametrize("rows", [CELLS[:2], CELLS, [], [["a" * 100, "b" * 100, "", "", "", "", ""]]])
@pytest.mark.parametrize("width", [160, 60])
def test_plain_tables_print_what_rich_prints(rows, width):
    """Plain rows are written directly; markup, emoji codes, tabs, wide text or too wide a table go to rich."""
    columns = ("#", "revision", "risk", "lock", "reversible", "est. time", "findings")
    fast, fast_out = _console(width)
    show_table(fast, columns, rows)
    slow, slow_out = _console(width)
    table = Table(show_edge=False, pad_edge=False, box=None)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    slow.print(table)
    assert fast_out.getvalue() == slow_out.getvalue()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain line",
        "  indented\n\n  two lines  ",
        "[warn] LK101 r1: not markup",
        "a :smile: b",
        "tab\tstop",
        "é",
    ],
)
@pytest.mark.parametrize("end", ["\n", ""])
def test_plain_lines_print_what_rich_prints(text, end):
    fast, fast_out = _console()
    say(fast, text, end=end)
    slow, slow_out = _console()
    slow.print(text, markup=False, end=end)
    assert fast_out.getvalue() == slow_out.getvalue()


@pytest.mark.parametrize("title", ["r00001 (upgrade)", "r2 (add [bold]x[/bold])", "x" * 300, "a:smile:b", ""])
@pytest.mark.parametrize("width", [160, 41])
def test_plain_rules_print_what_rich_prints(title, width):
    for style in ("none", "rule.line"):
        fast, fast_out = _console(width)
        rule(fast, title, style=style)
        rule(
            fast, title.replace("r", "q"), style=style
        )  # the second, of the same length, from the stored rendering
        slow, slow_out = _console(width)
        slow.rule(title, style=style)
        slow.rule(title.replace("r", "q"), style=style)
        assert fast_out.getvalue() == slow_out.getvalue()
