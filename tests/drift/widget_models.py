"""SQLAlchemy models for the --against-models tests: close to the widgets schema, not the same."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

widgets = sa.Table(
    "widgets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(40), nullable=True),
    sa.Column("color", sa.String(20)),
    sa.Index("ix_widgets_name", "name"),
)
gadgets = sa.Table("gadgets", metadata, sa.Column("id", sa.Integer, primary_key=True))
