"""A guarded production migration runner for Alembic projects on PostgreSQL."""

__version__ = "0.1.0"
