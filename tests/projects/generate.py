"""Writing small Alembic projects into a directory: the example's own env.py, real revision files.

Used by tests and by the benchmarks in scripts/, so that every generated project
looks the same.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
ENV_PY = ROOT / "examples" / "credentialmate" / "migrations" / "env.py"
INI = """[alembic]
script_location = %(here)s/migrations
sqlalchemy.url = postgresql://offline/offline

[loggers]
keys = root
[handlers]
keys = console
[formatters]
keys = generic
[logger_root]
level = WARNING
handlers = console
[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic
[formatter_generic]
format = %(levelname)s %(message)s
"""

NO_DOWNGRADE = object()


def write_project(root: Path, revisions: list[tuple[str, str, object]]) -> Path:
    """Write alembic.ini, env.py and one file per (revision, upgrade body, downgrade body) as a linear chain.

    A downgrade body of ``NO_DOWNGRADE`` leaves the function out entirely.
    """
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    shutil.copy(ENV_PY, root / "migrations" / "env.py")
    (root / "alembic.ini").write_text(INI)
    previous = None
    for number, (rev, upgrade, downgrade) in enumerate(revisions):
        source = [
            f'"""Step {number} ({rev})"""',
            "import sqlalchemy as sa",
            "from alembic import op",
            "",
            f"revision = {rev!r}",
            f"down_revision = {previous!r}",
            "branch_labels = None",
            "depends_on = None",
            "",
            "",
            "def upgrade():",
            textwrap.indent(textwrap.dedent(upgrade).strip() or "pass", "    "),
        ]
        if downgrade is not NO_DOWNGRADE:
            source += [
                "",
                "",
                "def downgrade():",
                textwrap.indent(textwrap.dedent(str(downgrade)).strip() or "pass", "    "),
            ]
        (versions / f"{number:04d}_{rev}.py").write_text("\n".join(source) + "\n")
        previous = rev
    return root / "alembic.ini"
