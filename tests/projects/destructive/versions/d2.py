"""Drop the legacy table

Revision ID: d2
Revises: d1
Create Date: 2026-01-02 00:00:00
"""

from alembic import op

revision = "d2"
down_revision = "d1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("legacy_accounts")


def downgrade() -> None:
    op.execute("CREATE TABLE legacy_accounts (id int PRIMARY KEY, name text)")
