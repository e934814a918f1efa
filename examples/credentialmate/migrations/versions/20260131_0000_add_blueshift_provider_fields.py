"""Add BlueShift provider data fields and payment_methods table

Revision ID: 20260131_0000
Revises: 7702d353e5b8
Create Date: 2026-01-31 00:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "20260131_0000"
down_revision: Union[str, Sequence[str], None] = "7702d353e5b8"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

PROVIDER_COLUMNS = [
    ("home_address", sa.String(200)),
    ("home_address_2", sa.String(200)),
    ("home_city", sa.String(100)),
    ("home_state", sa.String(2)),
    ("home_zip", sa.String(10)),
    ("mailing_address", sa.String(200)),
    ("mailing_city", sa.String(100)),
    ("mailing_state", sa.String(2)),
    ("mailing_zip", sa.String(10)),
    ("date_of_birth", sa.Date()),
    ("ssn_last4", sa.String(4)),
    ("dea_number", sa.String(20)),
    ("dea_expires_on", sa.Date()),
    ("fcvs_fid", sa.String(20)),
    ("aoa_number", sa.String(20)),
    ("abms_certified", sa.Boolean()),
    ("caqh_id", sa.String(20)),
    ("medicare_ptan", sa.String(20)),
    ("medicaid_id", sa.String(20)),
    ("blueshift_external_id", sa.String(64)),
]

LICENSE_COLUMNS = [
    ("verification_source", sa.String(40)),
    ("verified_at", sa.DateTime(timezone=True)),
]


def upgrade() -> None:
    for name, type_ in PROVIDER_COLUMNS:
        op.add_column("providers", sa.Column(name, type_, nullable=True))
    for name, type_ in LICENSE_COLUMNS:
        op.add_column("licenses", sa.Column(name, type_, nullable=True))
    op.create_table(
        "payment_methods",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("provider_id", sa.BigInteger(), sa.ForeignKey("providers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("organization_id", sa.BigInteger(), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("method_type", sa.String(30), nullable=False),
        sa.Column("account_holder", sa.String(200)),
        sa.Column("bank_name", sa.String(120)),
        sa.Column("account_last4", sa.String(4)),
        sa.Column("routing_number", sa.String(9)),
        sa.Column("is_default", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_payment_methods_provider_id", "payment_methods", ["provider_id"])
    op.create_index("ix_payment_methods_organization_id", "payment_methods", ["organization_id"])


def downgrade() -> None:
    op.drop_index("ix_payment_methods_organization_id", table_name="payment_methods")
    op.drop_index("ix_payment_methods_provider_id", table_name="payment_methods")
    op.drop_table("payment_methods")
    for name, _ in reversed(LICENSE_COLUMNS):
        op.drop_column("licenses", name)
    for name, _ in reversed(PROVIDER_COLUMNS):
        op.drop_column("providers", name)
