"""Add coordinator_notification_preferences table

Revision ID: 7702d353e5b8
Revises: 20260127_0100
Create Date: 2026-01-27 11:21:04

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "7702d353e5b8"
down_revision: Union[str, Sequence[str], None] = "20260127_0100"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "coordinator_notification_preferences",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("coordinator_user_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("email_enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("in_app_enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("email_types", sa.JSON(), nullable=False, server_default=sa.text("'[]'::json")),
        sa.Column("in_app_types", sa.JSON(), nullable=False, server_default=sa.text("'[]'::json")),
        sa.Column("digest_frequency", sa.String(20), nullable=False, server_default="daily"),
        sa.Column("quiet_hours", sa.JSON(), nullable=False, server_default=sa.text("'{}'::json")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("coordinator_user_id", name="uq_coordinator_notification_preferences_user"),
    )
    op.create_index(
        "ix_coordinator_notification_preferences_user",
        "coordinator_notification_preferences",
        ["coordinator_user_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_coordinator_notification_preferences_user", table_name="coordinator_notification_preferences")
    op.drop_table("coordinator_notification_preferences")
