"""Index providers by name, built concurrently so writes go on

Revision ID: c1
Revises: 20260131_0000
Create Date: 2026-02-02 00:00:00
"""

from alembic import op

revision = "c1"
down_revision = "20260131_0000"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_providers_name", "providers", ["last_name", "first_name"], postgresql_concurrently=True
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index("ix_providers_name", table_name="providers", postgresql_concurrently=True)
