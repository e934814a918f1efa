"""Add STAGE_CHANGED action type to coordinator_actions enum

Revision ID: 20260127_0100
Revises: 20260115_0300
Create Date: 2026-01-27 01:00:00

"""
from typing import Sequence, Union

from alembic import op

revision: str = "20260127_0100"
down_revision: Union[str, Sequence[str], None] = "20260115_0300"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Idempotent: a database that already has the value is left alone.
    op.execute("ALTER TYPE coordinator_action_type ADD VALUE IF NOT EXISTS 'stage_changed'")


def downgrade() -> None:
    # PostgreSQL cannot drop a value from an enum type; this step is one-way.
    pass
