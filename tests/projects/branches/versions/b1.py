"""Branch one

Revision ID: b1
Revises: a
Create Date: 2026-01-01 00:00:00
"""

from alembic import op

revision = "b1"
down_revision = "a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("INSERT INTO steps (revision, txid) VALUES ('b1', txid_current())")


def downgrade() -> None:
    op.execute("DELETE FROM steps WHERE revision = 'b1'")
