"""Small Alembic projects written into a temp dir: real env.py, real revision files, real rendering."""

from __future__ import annotations

from tests.projects.generate import NO_DOWNGRADE, write_project

make_project = write_project

__all__ = ["NO_DOWNGRADE", "make_project"]
