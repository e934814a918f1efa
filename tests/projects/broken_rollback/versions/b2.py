"""A step that fails

Revision ID: b2
Revises: b1
Create Date: 2026-01-02 00:00:00
"""

from alembic import op

revision = "b2"
down_revision = "b1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE TABLE u (id int)")
    raise RuntimeError("upgrade broken")


def downgrade() -> None:
    op.execute("DROP TABLE u")
