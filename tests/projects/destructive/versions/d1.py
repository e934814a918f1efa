"""Create a table that holds data

Revision ID: d1
Revises:
Create Date: 2026-01-01 00:00:00
"""

from alembic import op

revision = "d1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE TABLE legacy_accounts (id int PRIMARY KEY, name text)")
    op.execute("INSERT INTO legacy_accounts SELECT g, 'account ' || g FROM generate_series(1, 3) g")


def downgrade() -> None:
    op.execute("DROP TABLE legacy_accounts")
