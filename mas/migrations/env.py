"""Alembic environment: runs on the connection mas hands over (mas.db.upgrade) or on the URL."""

from alembic import context
from sqlalchemy import pool

import mas.models  # noqa: F401  (registers every table on the metadata)
from mas.db import make_engine
from mas.models import TABLES

config = context.config


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=TABLES,
        render_as_batch=True,  # SQLite can only ALTER through table copies
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=TABLES, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
