"""Database plumbing: migrations, aware UTC times, SQLite write transactions."""

import threading
from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import inspect, select

from mas.db import Database, alembic_config, upgrade
from mas.models import TABLES, Team


def test_migrations_match_the_models_and_upgrade_is_repeatable(db):
    upgrade(db)  # already at head: a no-op, not an error
    cfg = alembic_config(db.url)
    with db.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.check(cfg)  # raises if the models and the migrations differ
    assert set(inspect(db.engine).get_table_names()) >= set(TABLES.tables)


def test_fresh_database_upgrades_and_downgrades(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/fresh.sqlite3")
    upgrade(db)
    cfg = alembic_config(db.url)
    with db.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
        conn.commit()
    assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
    upgrade(db)
    assert "case" in inspect(db.engine).get_table_names()


def test_times_come_back_aware_utc(db, now):
    t = Team.__table__
    local = now.astimezone(timezone(timedelta(hours=1)))
    with db.begin() as conn:
        conn.execute(t.insert(), {"name": "T", "municipalities": [], "default_region": "noord", "created_at": local})
    with db.read() as conn:
        stored = conn.execute(select(t.c.created_at)).scalar_one()
    assert stored == now and stored.tzinfo is not None and stored.utcoffset() == timedelta(0)


def test_naive_times_are_refused(db):
    t = Team.__table__
    with pytest.raises(Exception, match="naive datetime"), db.begin() as conn:
        conn.execute(t.insert(), {"name": "T", "municipalities": [], "default_region": "noord",
                                  "created_at": datetime(2026, 1, 1)})


def test_sqlite_uses_wal_and_serialises_writers(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/w.sqlite3")
    upgrade(db)
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    # Two read-then-write transactions at once: BEGIN IMMEDIATE makes the second wait
    # instead of failing with "database is locked" halfway.
    t = Team.__table__
    errors = []
    entered = threading.Event()

    def writer(name, hold):
        try:
            with db.begin() as conn:
                entered.set()
                count = len(conn.execute(select(t.c.id)).all())
                if hold:
                    threading.Event().wait(0.3)
                conn.execute(t.insert(), {"name": f"{name}{count}", "municipalities": [], "default_region": "noord",
                                          "created_at": datetime.now(timezone.utc)})
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    first = threading.Thread(target=writer, args=("a", True))
    first.start()
    entered.wait()
    writer("b", False)
    first.join()
    assert errors == []
    with db.read() as conn:
        assert sorted(conn.execute(select(t.c.name)).scalars()) == ["a0", "b1"]
