"""Noisy step two"""

import sqlalchemy as sa
from alembic import op

from tests.projects.noisy.app import make_noise

revision = "n2"
down_revision = "n1"
branch_labels = None
depends_on = None

print("noisy print at the import of revision n2")


def upgrade():
    make_noise("upgrade() of n2")
    op.add_column("noisy_things", sa.Column("name", sa.Text))


def downgrade():
    op.drop_column("noisy_things", "name")
