"""Noisy step one"""

import sqlalchemy as sa
from alembic import op

from tests.projects.noisy.app import make_noise

revision = "n1"
down_revision = None
branch_labels = None
depends_on = None

print("noisy print at the import of revision n1")


def upgrade():
    make_noise("upgrade() of n1")
    op.create_table("noisy_things", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("noisy_things")
