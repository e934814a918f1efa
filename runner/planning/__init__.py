"""What a run would do before it does it: the application's Alembic project, where a database stands,
and each pending revision's SQL rendered offline."""
