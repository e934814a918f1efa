"""After the merge

Revision ID: c
Revises: m
Create Date: 2026-01-01 00:00:00
"""

from alembic import op

revision = "c"
down_revision = "m"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("INSERT INTO steps (revision, txid) VALUES ('c', txid_current())")


def downgrade() -> None:
    op.execute("DELETE FROM steps WHERE revision = 'c'")
