"""Migration 0012: ladder positions become level names (with the configured ladders), and back.

0012 follows 0010 (after 0013 and 0014): it runs on a database seeded before those revisions
(and carried through them) and on one seeded at 0010 itself (youth records, a stopped clock
with its stopped_on, an outbox row of main's kinds), and it reads escalation.toml from a
MAS_CONFIG_DIR that holds only that file."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from alembic import command

from mas.db import Database, alembic_config, downgrade, upgrade
from mas.settings import SHIPPED_CONFIG_DIR
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


def _seed(db: Database) -> dict:
    """Rows with rungs as positions, in the schema of whichever revision the database is at
    (0008, or 0010 with its youth records, stopped_on and main's mail kinds)."""
    meta = sa.MetaData()
    meta.reflect(db.engine)
    t = meta.tables
    at_0010 = "youth_record" in t
    with db.begin() as conn:
        team = conn.execute(t["team"].insert().returning(t["team"].c.id), {
            "name": "T", "municipalities": [], "default_region": "midden", "created_at": NOW}).scalar_one()
        if at_0010:
            youth = conn.execute(t["youth"].insert().returning(t["youth"].c.id), {"created_at": NOW}).scalar_one()
            record = conn.execute(t["youth_record"].insert().returning(t["youth_record"].c.id), {
                "youth_id": youth, "team_id": team, "given_name": "A", "family_name": "B",
                "birth_on": date(2012, 1, 1), "created_at": NOW}).scalar_one()
            extra = {"record_id": record}
        else:
            youth = conn.execute(t["youth"].insert().returning(t["youth"].c.id), {
                "given_name": "A", "family_name": "B", "birth_on": date(2012, 1, 1), "created_at": NOW}).scalar_one()
            extra = {}
        case = conn.execute(t["case"].insert().returning(t["case"].c.id), {
            "reference": "MAS-2026-000001", "team_id": team, "youth_id": youth, "state": "signaal", "version": 1,
            "region": "midden", "first_absent_on": date(2026, 2, 2), "has_suspensions": False, "opened_at": NOW,
            "updated_at": NOW, **extra}).scalar_one()

        def deadline(kind, rung, **more):
            return conn.execute(t["deadline"].insert().returning(t["deadline"].c.id), {
                "case_id": case, "kind": kind, "generation": 1, "started_on": date(2026, 3, 3), "rule": "school_days",
                "inputs": {}, "rung": rung, "status": "open", **more}).scalar_one()

        ids = {"signaal": deadline("signaal", 2), "gesprek": deadline("gesprek", 0), "lrv": deadline("lrv", 1),
               "thuiszitterspact": deadline("thuiszitterspact", 3)}
        if at_0010:  # a clock stopped by the offer's start (0013), at the rung it had reached
            ids["zorgtafel"] = deadline("zorgtafel", 1, status="stopped", closed_at=NOW, closed_reason="aanbod gestart",
                                   stopped_on=date(2026, 3, 3))
            conn.execute(t["outbox_message"].insert(), {
                "idempotency_key": "account:1:c@example.org", "message_id": "<a@x>", "template": "account_changed",
                "recipient": "c@example.org", "context": {}, "status": "pending", "attempts": 0, "not_before": NOW,
                "created_at": NOW})
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


@pytest.mark.parametrize("seeded_at", ["0008", "0010"])
def test_positions_become_names_and_back(fresh_url, seeded_at):
    db = Database(fresh_url)
    try:
        upgrade(db, seeded_at)
        _seed(db)
        upgrade(db)
        deadlines, events = _rungs(db)
        expected = {"signaal": "verstreken", "gesprek": None, "lrv": "mijlpaal", "thuiszitterspact": "drie-maanden"}
        if seeded_at == "0010":
            expected["zorgtafel"] = "herinnering"
        assert deadlines == expected
        assert events == {("signaal", "herinnering"), ("signaal", "verstreken"), ("lrv", "mijlpaal"),
                          ("thuiszitterspact", "zes-weken"), ("thuiszitterspact", "tien-weken"),
                          ("thuiszitterspact", "drie-maanden")}
        with db.read() as conn:
            assert None not in conn.execute(sa.text("SELECT expires_at FROM outbox_message")).scalars().all()
            if seeded_at == "0010":  # what 0010 and 0013 made is still there
                assert conn.execute(sa.text("SELECT stopped_on FROM deadline WHERE kind = 'zorgtafel'")
                                    ).scalar_one() in (date(2026, 3, 3), "2026-03-03")
                assert conn.execute(sa.text('SELECT count(*) FROM "case" WHERE record_id IS NOT NULL')).scalar_one() == 1
        cfg = alembic_config(db.url)
        with db.engine.connect() as conn:  # models and migrations agree at the new head
            cfg.attributes["connection"] = conn
            command.check(cfg)

        downgrade(db, seeded_at)
        deadlines, events = _rungs(db)
        expected = {"signaal": 2, "gesprek": 0, "lrv": 1, "thuiszitterspact": 3}
        if seeded_at == "0010":
            expected["zorgtafel"] = 1
        assert {k: int(v) for k, v in deadlines.items()} == expected
        assert {(k, int(v)) for k, v in events} == {("signaal", 1), ("signaal", 2), ("lrv", 1),
                                                    ("thuiszitterspact", 1), ("thuiszitterspact", 2),
                                                    ("thuiszitterspact", 3)}
        upgrade(db)  # and up again
        assert _rungs(db)[0]["signaal"] == "verstreken"
    finally:
        db.dispose()


def test_a_ladder_without_names_stops_the_upgrade_before_it_changes_anything(tmp_path):
    config = tmp_path / "config"
    config.mkdir()  # MAS_CONFIG_DIR holds only the file it replaces
    text = (SHIPPED_CONFIG_DIR / "escalation.toml").read_text()
    assert 'name = "team", ' in text
    (config / "escalation.toml").write_text(text.replace('name = "team", ', ""))
    db = Database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        upgrade(db, "0010")
        with pytest.raises(RuntimeError, match="have no name"):
            upgrade(db, config_dir=config)
        with db.read() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == "0010"
            assert "rung_new" not in {c["name"] for c in sa.inspect(conn).get_columns("deadline")}
        upgrade(db, "0012")  # the shipped ladders name every level
        with db.read() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == "0012"
    finally:
        db.dispose()
