"""Fixtures: settings on a temp instance, a fresh database per test on SQLite and on
PostgreSQL, a service context, factories, and a fixed clock passed in as `now`.

PostgreSQL: MAS_TEST_DATABASE_URL names a server; each test run creates its own database
there and drops it afterwards. Without CI a missing server skips the PostgreSQL half with a
reason; with CI=true it fails, never skips.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from mas.db import Database, upgrade
from mas.models import TABLES
from mas.settings import load_settings

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_SERVER_URL = os.environ.get("MAS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# A Tuesday in term time (regio midden), 10:00 Amsterdam.
FIXED_NOW = datetime(2026, 3, 3, 9, 0, tzinfo=timezone.utc)

collect_ignore_glob = []
# A real SMTP server on loopback for every test that sends, and a guard against any other server.
pytest_plugins = ["tests.smtp_fixtures"]


def _pg_admin_engine():
    url = make_url(PG_SERVER_URL).set(drivername="postgresql+psycopg")
    return create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True), url


@pytest.fixture(scope="session")
def pg_database_url():
    """A fresh PostgreSQL database for this test run, dropped at the end."""
    try:
        admin, url = _pg_admin_engine()
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        message = f"PostgreSQL at {PG_SERVER_URL} is not reachable: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    name = f"mas_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    test_url = url.set(database=name).render_as_string(hide_password=False)
    db = Database(test_url)
    upgrade(db)
    db.dispose()
    yield test_url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated SQLite file; each test gets a copy (cheaper than migrating per test)."""
    path = tmp_path_factory.mktemp("template") / "mas.sqlite3"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    with sqlite3.connect(path) as raw:  # fold the WAL into the file so one copy is complete
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def _truncate_all(db: Database) -> None:
    names = ", ".join(f'"{t.name}"' for t in TABLES.sorted_tables)
    with db.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        target = tmp_path / "mas.sqlite3"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
    else:
        url = request.getfixturevalue("pg_database_url")
        db = Database(url)
        _truncate_all(db)
        db.dispose()
        yield url


@pytest.fixture
def settings(tmp_path, database_url):
    return load_settings(environ={}, env="test", instance_dir=tmp_path / "instance", database_url=database_url)


@pytest.fixture
def db(settings):
    database = Database(settings.database_url)
    yield database
    database.dispose()


@pytest.fixture
def ctx(settings):
    from mas.context import make_context

    return make_context(settings)


@pytest.fixture
def now():
    return FIXED_NOW


@pytest.fixture
def world(db, now):
    """Two teams, two organisations, users of every role (see tests/factories.py)."""
    from tests.factories import build_world

    return build_world(db, now)


@pytest.fixture
def app(settings):
    from mas.web import create_app

    application = create_app(settings)
    yield application
    application.extensions["mas"]["db"].dispose()
