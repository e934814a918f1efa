"""An env.py that reads its database URL from the application, inside an application context."""

from alembic import context
from sqlalchemy import create_engine, pool

from tests.projects.app_context.app import current_settings

config = context.config
url = current_settings()["DATABASE_URL"]

if context.is_offline_mode():
    context.configure(url=url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()
