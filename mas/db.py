"""Engine, transactions and migrations, for SQLite (embedded default) and PostgreSQL.

Writes go through `Database.begin()`. On SQLite it starts with BEGIN IMMEDIATE: pysqlite
begins lazily, so a read-then-write beside another writer (the scheduler next to a request)
would otherwise end in "database is locked" halfway. Reads use `Database.read()`, a plain
deferred transaction that never blocks writers under WAL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path

import orjson
from sqlalchemy import DateTime, create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.types import TypeDecorator

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on both databases (SQLite would hand back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: mas stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _configure_sqlite(engine: Engine, background_checkpoint: bool, foreign_keys: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below own BEGIN instead of pysqlite.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON" if foreign_keys else "PRAGMA foreign_keys=OFF")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if background_checkpoint:
            # The scheduler's big sweep commits should not copy the WAL into the database
            # (two fsyncs) while holding the write lock; its own job checkpoints between ticks.
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # SQLAlchemy's documented recipe: we own BEGIN, so writes take the lock up front.
        connection.exec_driver_sql(
            "BEGIN" if connection.get_execution_options().get("mas_read_only") else "BEGIN IMMEDIATE")


def json_dumps(value) -> str:
    # orjson: the JSON columns (event data, deadline inputs, outbox context) are on every
    # hot path; it writes the same JSON several times faster than the standard library.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_engine(url: str, background_checkpoint: bool = False, foreign_keys: bool = True, **kwargs) -> Engine:
    kwargs.setdefault("json_serializer", json_dumps)
    kwargs.setdefault("json_deserializer", orjson.loads)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        _configure_sqlite(engine, background_checkpoint, foreign_keys)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True, **kwargs)


class Database:
    """An engine plus the two kinds of transaction mas uses."""

    def __init__(self, url: str, background_checkpoint: bool = False, **engine_kwargs):
        self.url = url
        self.engine = make_engine(url, background_checkpoint, **engine_kwargs)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One write transaction: commits on success, rolls back on any exception."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(mas_read_only=True) as conn:
            with conn.begin():
                yield conn

    def checkpoint(self) -> None:
        """SQLite: fold the WAL into the database without waiting for readers (PASSIVE).
        PostgreSQL checkpoints by itself."""
        if self.dialect != "sqlite":
            return
        with self.read() as conn:  # a deferred transaction that has read nothing may checkpoint
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").all()

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(db: Database, revision: str = "head", config_dir: Path | None = None) -> None:
    """Bring the schema to `revision`; works on a fresh and on an existing database.

    `config_dir`: the installation's config/ (MAS_CONFIG_DIR: a data migration may read it,
    e.g. to turn ladder positions into level names); default MAS_CONFIG_DIR or the shipped one.
    """
    _migrate(db, "upgrade", revision, config_dir)


def downgrade(db: Database, revision: str, config_dir: Path | None = None) -> None:
    """Take the schema back to `revision` (each revision says what its downgrade keeps)."""
    _migrate(db, "downgrade", revision, config_dir)


def _migrate(db: Database, direction: str, revision: str, config_dir: Path | None = None) -> None:
    """Run Alembic on a connection of its own.

    SQLite alters a table by copying it, dropping the old one and renaming the copy; with
    foreign keys enforced, dropping a table other rows refer to fails. So on SQLite the
    migrations run with foreign keys off (SQLite's and Alembic's documented advice), and the
    result is checked with `PRAGMA foreign_key_check` before it commits.
    """
    from alembic import command
    from sqlalchemy.pool import NullPool

    cfg = alembic_config(db.url)
    parsed = make_url(db.url)
    separate = parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")
    engine = make_engine(db.url, foreign_keys=False, poolclass=NullPool) if separate else db.engine
    try:
        with engine.connect() as conn:
            cfg.attributes["connection"] = conn
            if config_dir is not None:
                cfg.attributes["mas_config_dir"] = str(config_dir)
            getattr(command, direction)(cfg, revision)
            if separate:
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    conn.rollback()
                    raise RuntimeError(f"the migration left rows whose foreign keys point nowhere: {broken[:5]}")
            conn.commit()
    finally:
        if separate:
            engine.dispose()
