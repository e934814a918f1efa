"""Create coordinator_actions with its action type enum

Revision ID: 20260115_0200
Revises: 20260108_0100
Create Date: 2026-01-15 02:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20260115_0200"
down_revision: Union[str, Sequence[str], None] = "20260108_0100"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ACTION_TYPES = ("note_added", "document_requested", "license_verified", "status_changed")


def upgrade() -> None:
    action_type = postgresql.ENUM(*ACTION_TYPES, name="coordinator_action_type")
    op.create_table(
        "coordinator_actions",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("provider_id", sa.BigInteger(), sa.ForeignKey("providers.id"), nullable=False),
        sa.Column("coordinator_user_id", sa.BigInteger(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("action_type", action_type, nullable=False),
        sa.Column("details", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_coordinator_actions_provider_id", "coordinator_actions", ["provider_id"])


def downgrade() -> None:
    op.drop_table("coordinator_actions")
    op.execute("DROP TYPE IF EXISTS coordinator_action_type")
