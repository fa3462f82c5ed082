"""Migration 0012: ladder positions become level names (with the configured ladders), and back."""

from __future__ import annotations

import shutil
import uuid
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from alembic import command

from mas.db import Database, alembic_config, upgrade
from mas.settings import DEFAULT_CONFIG_DIR
from tests.conftest import IN_CI, _pg_admin_engine

NOW = datetime(2026, 3, 3, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    """An empty database of its own (migrations run from scratch on it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    try:
        admin, url = _pg_admin_engine()
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        if IN_CI:
            pytest.fail(f"PostgreSQL is not reachable: {exc}")
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    name = f"mas_mig_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _seed_at_0008(db: Database) -> dict:
    meta = sa.MetaData()
    meta.reflect(db.engine)
    t = meta.tables
    with db.begin() as conn:
        team = conn.execute(t["team"].insert().returning(t["team"].c.id), {
            "name": "T", "municipalities": [], "default_region": "midden", "created_at": NOW}).scalar_one()
        youth = conn.execute(t["youth"].insert().returning(t["youth"].c.id), {
            "given_name": "A", "family_name": "B", "birth_on": date(2012, 1, 1), "created_at": NOW}).scalar_one()
        case = conn.execute(t["case"].insert().returning(t["case"].c.id), {
            "reference": "MAS-2026-000001", "team_id": team, "youth_id": youth, "state": "signaal", "version": 1,
            "region": "midden", "first_absent_on": date(2026, 2, 2), "has_suspensions": False, "opened_at": NOW,
            "updated_at": NOW}).scalar_one()

        def deadline(kind, rung):
            return conn.execute(t["deadline"].insert().returning(t["deadline"].c.id), {
                "case_id": case, "kind": kind, "generation": 1, "started_on": date(2026, 3, 3), "rule": "school_days",
                "inputs": {}, "rung": rung, "status": "open"}).scalar_one()

        ids = {"signaal": deadline("signaal", 2), "gesprek": deadline("gesprek", 0), "lrv": deadline("lrv", 1),
               "thuiszitterspact": deadline("thuiszitterspact", 3)}
        for kind, rungs in (("signaal", (1, 2)), ("lrv", (1,)), ("thuiszitterspact", (1, 2, 3))):
            for rung in rungs:
                conn.execute(t["case_event"].insert(), {"case_id": case, "at": NOW, "actor_role": "system",
                                                        "kind": "escalatie", "deadline_id": ids[kind], "rung": rung})
        conn.execute(t["outbox_message"].insert(), {
            "idempotency_key": "k", "message_id": "<k@x>", "template": "rung", "recipient": "a@example.org",
            "context": {}, "status": "pending", "attempts": 3, "not_before": NOW, "created_at": NOW})
    return ids


def _rungs(db: Database) -> tuple[dict, set]:
    with db.read() as conn:
        deadlines = dict(conn.execute(sa.text("SELECT kind, rung FROM deadline")).all())
        events = set(conn.execute(sa.text(
            "SELECT d.kind, e.rung FROM case_event e JOIN deadline d ON d.id = e.deadline_id")).all())
    return deadlines, events


def test_positions_become_names_and_back(fresh_url):
    db = Database(fresh_url)
    try:
        upgrade(db, "0008")
        _seed_at_0008(db)
        upgrade(db)
        deadlines, events = _rungs(db)
        assert deadlines == {"signaal": "verstreken", "gesprek": None, "lrv": "mijlpaal",
                             "thuiszitterspact": "drie-maanden"}
        assert events == {("signaal", "herinnering"), ("signaal", "verstreken"), ("lrv", "mijlpaal"),
                          ("thuiszitterspact", "zes-weken"), ("thuiszitterspact", "tien-weken"),
                          ("thuiszitterspact", "drie-maanden")}
        with db.read() as conn:
            assert conn.execute(sa.text("SELECT expires_at FROM outbox_message")).scalar_one() is not None

        cfg = alembic_config(db.url)
        with db.engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0008")
            conn.commit()
        deadlines, events = _rungs(db)
        assert {k: int(v) for k, v in deadlines.items()} == {"signaal": 2, "gesprek": 0, "lrv": 1,
                                                            "thuiszitterspact": 3}
        assert {(k, int(v)) for k, v in events} == {("signaal", 1), ("signaal", 2), ("lrv", 1),
                                                    ("thuiszitterspact", 1), ("thuiszitterspact", 2),
                                                    ("thuiszitterspact", 3)}
    finally:
        db.dispose()


def test_a_ladder_without_names_stops_the_upgrade_before_it_changes_anything(tmp_path):
    config = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, config)
    path = config / "escalation.toml"
    path.write_text(path.read_text().replace('name = "team", ', ""))
    db = Database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        upgrade(db, "0008")
        with pytest.raises(RuntimeError, match="have no name"):
            upgrade(db, config_dir=config)
        with db.read() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == "0008"
    finally:
        db.dispose()
