"""Add provider_credentials table for third-party credential storage

Revision ID: 20260115_0300
Revises: 20260115_0200
Create Date: 2026-01-15 03:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "20260115_0300"
down_revision: Union[str, Sequence[str], None] = "20260115_0200"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "provider_credentials",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("provider_id", sa.BigInteger(), sa.ForeignKey("providers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("organization_id", sa.BigInteger(), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("created_by_user_id", sa.BigInteger(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("credential_type", sa.String(50), nullable=False),
        sa.Column("issuer", sa.String(120), nullable=False),
        sa.Column("external_reference", sa.String(120)),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("is_current", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("valid_until", sa.Date()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_provider_credentials_provider_id", "provider_credentials", ["provider_id"])
    op.create_index("ix_provider_credentials_organization_id", "provider_credentials", ["organization_id"])
    op.create_index("ix_provider_credentials_type", "provider_credentials", ["credential_type"])
    op.create_index(
        "ix_provider_credentials_current",
        "provider_credentials",
        ["provider_id", "credential_type"],
        postgresql_where=sa.text("is_current"),
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS provider_credentials CASCADE")
