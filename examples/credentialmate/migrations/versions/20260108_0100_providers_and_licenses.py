"""Create providers and licenses

Revision ID: 20260108_0100
Revises: 20260101_0100
Create Date: 2026-01-08 01:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "20260108_0100"
down_revision: Union[str, Sequence[str], None] = "20260101_0100"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "providers",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("organization_id", sa.BigInteger(), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("npi", sa.String(10), nullable=False, unique=True),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("specialty", sa.String(120)),
        sa.Column("email", sa.String(320)),
        sa.Column("status", sa.String(30), nullable=False, server_default="active"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_providers_organization_id", "providers", ["organization_id"])
    op.create_index("ix_providers_last_name_lower", "providers", [sa.text("lower(last_name)")])
    op.create_table(
        "licenses",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("provider_id", sa.BigInteger(), sa.ForeignKey("providers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("state", sa.String(2), nullable=False),
        sa.Column("license_number", sa.String(40), nullable=False),
        sa.Column("license_type", sa.String(40), nullable=False),
        sa.Column("issued_on", sa.Date()),
        sa.Column("expires_on", sa.Date()),
        sa.Column("status", sa.String(30), nullable=False, server_default="active"),
    )
    op.create_index("ix_licenses_provider_id", "licenses", ["provider_id"])
    op.create_index(
        "ix_licenses_expiring", "licenses", ["expires_on"], postgresql_where=sa.text("status = 'active'")
    )


def downgrade() -> None:
    op.drop_table("licenses")
    op.drop_table("providers")
