"""A step whose downgrade is broken

Revision ID: b1
Revises:
Create Date: 2026-01-01 00:00:00
"""

from alembic import op

revision = "b1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE TABLE t (id int)")


def downgrade() -> None:
    op.execute("DROP TABLE t")
    raise RuntimeError("downgrade broken")
