"""The alembic init env.py, plus an application that writes to stdout at import and while it runs."""

import logging
import sys
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

from tests.projects.noisy.app import make_noise

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)  # its handler is bound to sys.stdout
app_log = logging.getLogger("noisy.app")
app_log.addHandler(logging.StreamHandler(sys.stdout))
app_log.warning("noisy logging handler bound to sys.stdout at import")
make_noise("env.py")

if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()
