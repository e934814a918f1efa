"""Record the session settings the step ran under

Revision ID: 0001
Revises:
Create Date: 2026-01-01 00:00:00
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE observed AS SELECT '0001'::text AS revision,"
        " current_setting('lock_timeout') AS lock_timeout,"
        " current_setting('statement_timeout') AS statement_timeout,"
        " current_setting('idle_in_transaction_session_timeout') AS idle_timeout,"
        " current_database()::text AS database, txid_current() AS txid"
    )


def downgrade() -> None:
    op.execute("DROP TABLE observed")
