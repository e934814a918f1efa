"""Start: a table that records each step

Revision ID: a
Revises:
Create Date: 2026-01-01 00:00:00
"""

from alembic import op

revision = "a"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE TABLE steps (n serial, revision text, txid bigint)")
    op.execute("INSERT INTO steps (revision, txid) VALUES ('a', txid_current())")


def downgrade() -> None:
    op.execute("DROP TABLE steps")
