"""Merge the branches

Revision ID: m
Revises: b1, b2
Create Date: 2026-01-01 00:00:00
"""

from alembic import op

revision = "m"
down_revision = ("b1", "b2")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("INSERT INTO steps (revision, txid) VALUES ('m', txid_current())")


def downgrade() -> None:
    op.execute("DELETE FROM steps WHERE revision = 'm'")
