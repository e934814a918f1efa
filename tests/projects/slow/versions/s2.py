"""A statement that runs for two seconds

Revision ID: s2
Revises: s1
Create Date: 2026-01-01 00:00:00
"""

from alembic import op

revision = "s2"
down_revision = "s1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT pg_sleep(2)")


def downgrade() -> None:
    pass
