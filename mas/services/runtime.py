"""Opening what a process runs on: the database and the service context.

The front ends (web app factory, CLI, scheduler) get their Database and ServiceContext from
here, so none of them builds anything from mas.db or the tables itself.
"""

from __future__ import annotations

from sqlalchemy import select

from mas.context import ServiceContext, make_context
from mas.db import Database, upgrade
from mas.settings import Settings
from mas.workflows import WORKFLOW, Workflow


def open_database(settings: Settings, *, scheduler: bool = False) -> Database:
    """The engine for this process. A scheduler on SQLite checkpoints the WAL in a job of its
    own, so its big sweep commits never copy the WAL while holding the write lock."""
    return Database(settings.database_url, background_checkpoint=scheduler)


def open_context(settings: Settings, workflow: Workflow = WORKFLOW, *, lazy_calendar: bool = False) -> ServiceContext:
    """`lazy_calendar`: a short command reads the school calendar only if it counts a day."""
    return make_context(settings, workflow, lazy_calendar=lazy_calendar)


def upgrade_database(settings: Settings) -> str:
    """Migrate the schema to the latest revision; returns the URL without its password."""
    database = open_database(settings)
    try:
        upgrade(database, config_dir=settings.config_dir)
        return database.engine.url.render_as_string(hide_password=True)
    finally:
        database.dispose()


def schema_problem(db: Database) -> str | None:
    """Why this database cannot be used yet (in Dutch), or None: unreachable, never migrated,
    or at another revision than this code's."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.exc import SQLAlchemyError

    from mas.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config(db.url)).get_current_head()
    try:
        with db.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        return f"De database is niet bereikbaar ({type(exc).__name__})."
    if current is None:
        return "De database is nog leeg: voer eerst 'mas db upgrade' uit."
    if current != head:
        return f"De database staat op versie {current}, deze mas verwacht {head}: voer eerst 'mas db upgrade' uit."
    return None


def is_healthy(db: Database) -> bool:
    """The database answers a query (the load balancer's health check)."""
    with db.read() as conn:
        return conn.execute(select(1)).scalar_one() == 1


def checkpoint(db: Database) -> None:
    db.checkpoint()
