"""Migration 0010 carries a shared youth row over into one record per case, on SQLite and
PostgreSQL: the team that entered the data keeps it; another team's case keeps the key only."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import inspect, select, text

from mas.db import Database, UTCDateTime, alembic_config, downgrade, upgrade

AT = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
BSN = "111222333"


def _t(name, *columns):
    return sa.table(name, *(sa.column(c, t) for c, t in columns))


team = _t("team", ("id", sa.Integer), ("name", sa.String), ("municipalities", sa.JSON), ("default_region", sa.String),
          ("created_at", UTCDateTime))
org = _t("organisation", ("id", sa.Integer), ("name", sa.String), ("kind", sa.String), ("is_active", sa.Boolean),
         ("created_at", UTCDateTime))
youth = _t("youth", ("id", sa.Integer), ("given_name", sa.String), ("family_name", sa.String), ("birth_on", sa.Date),
           ("bsn", sa.String), ("onderwijsnummer", sa.String), ("school_id", sa.Integer), ("created_at", UTCDateTime))
guardian = _t("guardian", ("youth_id", sa.Integer), ("name", sa.String), ("relation", sa.String), ("phone", sa.String),
              ("has_custody", sa.Boolean))
case = _t("case", ("id", sa.Integer), ("reference", sa.String), ("team_id", sa.Integer), ("youth_id", sa.Integer),
          ("state", sa.String), ("version", sa.Integer), ("region", sa.String), ("first_absent_on", sa.Date),
          ("has_suspensions", sa.Boolean), ("opened_at", UTCDateTime), ("updated_at", UTCDateTime),
          ("closed_at", UTCDateTime))
signal = _t("signal", ("case_id", sa.Integer), ("youth_id", sa.Integer), ("kind", sa.String), ("source", sa.String),
            ("received_at", UTCDateTime))


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/m.sqlite3"
        return
    from tests.conftest import _pg_admin_engine

    request.getfixturevalue("pg_database_url")  # a reachable server (fails on CI, skips locally otherwise)
    admin, url = _pg_admin_engine()
    name = f"mas_migration_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _seed_0008(db: Database) -> None:
    """Two teams met one BSN: team A's case (closed) made the row; team B's case reused it."""
    with db.begin() as conn:
        conn.execute(team.insert(), [
            {"id": 1, "name": "A", "municipalities": [], "default_region": "midden", "created_at": AT},
            {"id": 2, "name": "B", "municipalities": [], "default_region": "noord", "created_at": AT}])
        conn.execute(org.insert(), {"id": 1, "name": "School", "kind": "school", "is_active": True, "created_at": AT})
        conn.execute(youth.insert(), [
            {"id": 1, "given_name": "Annabel", "family_name": "Aalders", "birth_on": date(2011, 4, 1), "bsn": BSN,
             "onderwijsnummer": None, "school_id": 1, "created_at": AT},
            {"id": 2, "given_name": "Cas", "family_name": "Claes", "birth_on": date(2012, 1, 1), "bsn": None,
             "onderwijsnummer": "123456780", "school_id": None, "created_at": AT}])
        conn.execute(guardian.insert(), [{"youth_id": 1, "name": "Anja Aalders", "relation": "moeder",
                                          "phone": "0611111111", "has_custody": True}])
        base = {"state": "signaal", "version": 1, "region": "midden", "first_absent_on": date(2026, 1, 5),
                "has_suspensions": False, "opened_at": AT, "updated_at": AT, "closed_at": None}
        conn.execute(case.insert(), [
            {**base, "id": 1, "reference": "MAS-2026-000001", "team_id": 1, "youth_id": 1, "state": "afgesloten",
             "closed_at": AT},
            {**base, "id": 2, "reference": "MAS-2026-000002", "team_id": 2, "youth_id": 1},
            {**base, "id": 3, "reference": "MAS-2026-000003", "team_id": 1, "youth_id": 2}])
        conn.execute(signal.insert(), [{"case_id": n, "youth_id": y, "kind": "lrv", "source": "school",
                                        "received_at": AT} for n, y in ((1, 1), (2, 1), (3, 2))])
        conn.execute(text("INSERT INTO reference_counter (year, last) VALUES (2026, 3)"))
        if conn.dialect.name == "postgresql":  # the rows above were given their ids
            for name in ("team", "organisation", "youth", "case"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                                  f"(SELECT max(id) FROM \"{name}\"))"))


def test_each_team_keeps_only_what_it_entered(empty_url, now):
    db = Database(empty_url)
    try:
        upgrade(db, "0008")
        _seed_0008(db)
        upgrade(db)
        assert {c["name"] for c in inspect(db.engine).get_columns("youth")} == {"id", "bsn", "onderwijsnummer",
                                                                               "created_at"}
        with db.read() as conn:
            records = {r.id: r for r in conn.execute(text("SELECT * FROM youth_record"))}
            cases = {r.id: r for r in conn.execute(text('SELECT id, record_id, youth_id FROM "case"'))}
            guardians = conn.execute(text("SELECT record_id, name, phone FROM guardian")).all()
            signals = conn.execute(text("SELECT case_id, team_id, status FROM signal ORDER BY case_id")).all()
            split = conn.execute(text("SELECT case_id, actor_id FROM case_event WHERE kind = 'gegevens_jongere_gescheiden'")).all()
        assert {c.id: c.record_id for c in cases.values()} == {1: 1, 2: 2, 3: 3}
        a, b, other = records[1], records[2], records[3]
        assert (a.team_id, a.given_name, a.family_name, a.bsn, a.school_id) == (1, "Annabel", "Aalders", BSN, 1)
        # Team B typed none of this: it keeps the key it matched on, not team A's data.
        assert (b.team_id, b.given_name, b.family_name, b.birth_on, b.bsn, b.school_id) == (2, None, None, None, BSN, None)
        assert (other.team_id, other.given_name, other.onderwijsnummer) == (1, "Cas", "123456780")
        assert [(g.record_id, g.name, g.phone) for g in guardians] == [(1, "Anja Aalders", "0611111111")]
        assert [tuple(s) for s in signals] == [(1, 1, "joined"), (2, 2, "joined"), (3, 1, "joined")]
        assert [tuple(s) for s in split] == [(2, None)]  # team B's journal says why the name is gone
        cfg = alembic_config(db.url)
        with db.engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.check(cfg)
        # The services work on the migrated data: team A's new case gets a record of its own.
        from mas.context import make_context
        from mas.services import cases as case_service
        from mas.services.actors import Actor
        from mas.settings import load_settings
        from tests.factories import signal as signal_input
        from tests.factories import youth as youth_input

        migrated_ctx = make_context(load_settings(environ={}, env="test", database_url=empty_url))
        with db.begin() as conn:
            conn.execute(text("INSERT INTO \"user\" (id, email, name, role, team_id, failed_logins, is_active, created_at) "
                              "VALUES (1, 'r@a.example', 'r', 'casusregisseur', 1, 0, true, :at)"), {"at": AT})
            result = case_service.receive_signal(conn, migrated_ctx, Actor(id=1, role="casusregisseur", team_id=1),
                                                 youth_input(), signal_input(), team_id=1, now=now)
        with db.read() as conn:
            assert conn.execute(select(sa.func.max(sa.column("id"))).select_from(sa.table("youth_record"))).scalar() == 4
        assert not result.joined and result.reference
        # And back: the youth row gets the data of the team that entered it first.
        downgrade(db, "0008")
        with db.read() as conn:
            row = conn.execute(text("SELECT given_name, family_name FROM youth WHERE id = 1")).one()
            kept = conn.execute(text("SELECT youth_id, name FROM guardian WHERE youth_id = 1")).all()
        assert tuple(row) == ("Annabel", "Aalders") and [tuple(k) for k in kept] == [(1, "Anja Aalders")]
        upgrade(db)
    finally:
        db.dispose()
