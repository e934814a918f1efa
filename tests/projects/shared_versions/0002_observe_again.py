"""Record the settings again, from a second step

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-02 00:00:00
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO observed SELECT '0002', current_setting('lock_timeout'),"
        " current_setting('statement_timeout'), current_setting('idle_in_transaction_session_timeout'),"
        " current_database(), txid_current()"
    )


def downgrade() -> None:
    op.execute("DELETE FROM observed WHERE revision = '0002'")
