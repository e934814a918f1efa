"""Benchmarks time the runner as an install has it: its modules compiled to bytecode.

``pip install`` compiles a package's modules, and so it did Alembic's and
SQLAlchemy's in the virtualenv. A checkout run with ``PYTHONDONTWRITEBYTECODE``
set (as ``scripts/test`` sets it) would compile every runner module again in
each fresh process, a cost no installed runner pays. Compiling them first (what
``pip`` does) makes both sides of each ratio equal in this.
"""

from __future__ import annotations

import compileall
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def compile_runner() -> None:
    if not compileall.compile_dir(str(ROOT / "runner"), quiet=1):
        raise SystemExit("compiling runner/ failed")
