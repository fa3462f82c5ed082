"""mas.prepared: the hot-path statements behave as `conn.execute` would, on both databases."""

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, event, exc, func, select, update

from mas.models import Deadline, Team, Youth
from mas.prepared import Prepared

_t, _y, _d = Team.__table__, Youth.__table__, Deadline.__table__

INSERT_TEAM = Prepared(_t.insert().returning(_t.c.id))
TEAM_BY_NAME = Prepared(select(_t.c.id, _t.c.name, _t.c.municipalities, _t.c.created_at)
                        .where(_t.c.name == bindparam("name")))
RENAME = Prepared(update(_t).where(_t.c.id == bindparam("w_id")).values(name=bindparam("name")))


def _team(name: str, at: datetime) -> dict:
    return {"name": name, "municipalities": ["Utrecht", "Zeist"], "default_region": "midden", "created_at": at}


def test_rows_come_back_as_conn_execute_returns_them(db, now):
    local = now.astimezone(timezone(timedelta(hours=1)))
    with db.begin() as conn:
        team_id = INSERT_TEAM.scalar(conn, _team("Leerplicht Utrecht", local))
    with db.begin() as conn:
        mine = TEAM_BY_NAME.one(conn, {"name": "Leerplicht Utrecht"})
        theirs = conn.execute(TEAM_BY_NAME.statement, {"name": "Leerplicht Utrecht"}).one()
    assert tuple(mine) == tuple(theirs) == (team_id, "Leerplicht Utrecht", ["Utrecht", "Zeist"], now)
    assert mine.created_at.tzinfo is not None and mine.created_at.utcoffset() == timedelta(0)
    assert mine.municipalities == ["Utrecht", "Zeist"]


def test_scalar_column_defaults_are_filled_in_as_sqlalchemy_does(db, ctx, now, world):
    from tests.factories import open_case

    case_id = open_case(db, ctx, world, now).case_id
    insert = Prepared(_d.insert())
    row = {"case_id": case_id, "kind": "gesprek", "started_on": date(2026, 3, 2), "due_at": now, "rule": "test",
           "inputs": {"n": 20, "start": date(2026, 3, 2)}}
    with db.begin() as conn:
        assert insert.many(conn, [row, {**row, "kind": "zorgtafel"}]) == 2
    with db.read() as conn:
        got = conn.execute(select(_d.c.kind, _d.c.generation, _d.c.rung, _d.c.status, _d.c.inputs)
                           .where(_d.c.case_id == case_id, _d.c.rule == "test").order_by(_d.c.id)).all()
    # generation, rung and status are the columns' Python defaults; the date went through the JSON serializer
    assert [tuple(r) for r in got] == [("gesprek", 1, 0, "open", {"n": 20, "start": "2026-03-02"}),
                                      ("zorgtafel", 1, 0, "open", {"n": 20, "start": "2026-03-02"})]


def test_rowcounts_of_run_and_many(db, now):
    with db.begin() as conn:
        a = INSERT_TEAM.scalar(conn, _team("A", now))
        b = INSERT_TEAM.scalar(conn, _team("B", now))
        assert RENAME.run(conn, {"w_id": a, "name": "A2"}) == 1
        assert RENAME.run(conn, {"w_id": -1, "name": "nobody"}) == 0
        assert RENAME.many(conn, [{"w_id": a, "name": "A3"}, {"w_id": b, "name": "B3"}, {"w_id": -1, "name": "x"}]) == 2
        assert RENAME.many(conn, []) == 0
        assert TEAM_BY_NAME.one_or_none(conn, {"name": "A2"}) is None
        assert TEAM_BY_NAME.scalar(conn, {"name": "B3"}) == b


def test_driver_errors_are_sqlalchemy_errors_and_roll_back_the_transaction(db, now):
    with db.begin() as conn:
        INSERT_TEAM.scalar(conn, _team("Dubbel", now))
    with pytest.raises(exc.IntegrityError):
        with db.begin() as conn:
            INSERT_TEAM.scalar(conn, _team("Eerst", now))
            INSERT_TEAM.scalar(conn, _team("Dubbel", now))  # team.name is unique
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(_t).where(_t.c.name == "Eerst")).scalar_one() == 0


def test_a_missing_parameter_is_a_clear_error_that_sends_nothing(db):
    sent = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    with db.begin() as conn:
        with pytest.raises(exc.ArgumentError, match="'name'"):
            TEAM_BY_NAME.rows(conn, {})
    assert not [s for s in sent if "FROM team" in s]


def test_naive_datetimes_are_refused(db, now):
    with db.begin() as conn, pytest.raises(ValueError, match="naive"):
        INSERT_TEAM.scalar(conn, _team("Naief", now.replace(tzinfo=None)))


def test_engine_listeners_see_every_statement(db, now):
    seen = []
    event.listen(db.engine, "before_cursor_execute", lambda c, cur, sql, params, ctx, many: seen.append(("b", many)))
    event.listen(db.engine, "after_cursor_execute", lambda c, cur, sql, params, ctx, many: seen.append(("a", many)))
    with db.begin() as conn:
        a = INSERT_TEAM.scalar(conn, _team("Gezien", now))
        RENAME.many(conn, [{"w_id": a, "name": "Gezien 2"}])
    assert [s for s in seen] == [("b", False), ("a", False), ("b", True), ("a", True)]


def test_each_set_of_keys_gets_its_own_column_list(db, now):
    insert = Prepared(_y.insert().returning(_y.c.id, _y.c.bsn, _y.c.municipality))
    base = {"given_name": "Sem", "family_name": "Jansen", "birth_on": date(2012, 5, 14), "created_at": now}
    with db.begin() as conn:
        one = insert.one(conn, {**base, "bsn": "111222333"})
        two = insert.one(conn, {**base, "municipality": "Utrecht"})
    assert (one.bsn, one.municipality) == ("111222333", None)
    assert (two.bsn, two.municipality) == (None, "Utrecht")


def test_unsupported_statements_are_refused_when_prepared(db):
    with db.begin() as conn, pytest.raises(exc.ArgumentError, match="IN-list"):
        Prepared(select(_t.c.id).where(_t.c.id.in_(bindparam("ids", expanding=True)))).rows(conn, {"ids": [1]})


def test_no_deadline_statement_binds_the_open_status(db, ctx, world, now):
    """`deadline.status = ?` against the partial indexes' `status = 'open'` makes SQLite
    re-prepare the statement on every call (three times the cost of a lookup); the services
    write DEADLINE_OPEN, a literal. A signal, a whole flow, steps and a sweep must keep it so."""
    import re

    from mas.services import steps
    from mas.services.escalation import sweep
    from tests.factories import fire, open_case

    sent = []
    event.listen(db.engine, "before_cursor_execute", lambda c, cur, sql, *rest: sent.append(sql))
    case_id = open_case(db, ctx, world, now).case_id
    with db.begin() as conn:
        steps.assign_step(conn, ctx, world.regisseur_a, case_id, organisation_id=world.school, title="Huisbezoek",
                          description=None, due_at=now + timedelta(days=7), now=now)
    for trigger in ("plan_gesprek", "naar_zorgtafel", "maatwerkplan_vastgesteld", "aanbod_gestart", "nazorg_afgerond"):
        fire(db, ctx, world, case_id, trigger, now)
    sweep(db, ctx, now + timedelta(days=120))
    bound = [s for s in sent if re.search(r"deadline\.status\s*=\s*(\?|%\()", s)]
    assert any("deadline.status = 'open'" in s for s in sent)
    assert not bound, bound
