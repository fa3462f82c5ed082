"""Read models: the werkvoorraad's scope, order, filters and paging; case reads are logged."""

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from mas.models import AccessLog
from mas.services import queries
from mas.services.errors import NotFound
from tests.factories import fire, open_case


def _list(db, ctx, actor, now, **filters):
    with db.begin() as conn:
        return queries.werkvoorraad(conn, ctx, actor, queries.Filters(**filters), now)


def test_nearest_deadline_first_and_scope(db, ctx, world, now):
    early = open_case(db, ctx, world, now - timedelta(days=20), given_name="Vroeg")
    late = open_case(db, ctx, world, now, given_name="Laat")
    colleague = open_case(db, ctx, world, now, actor=world.regisseur_a2, given_name="Collega")
    mine = _list(db, ctx, world.regisseur_a, now)
    assert [i["reference"] for i in mine["items"]] == [early.reference, late.reference]
    assert mine["items"][0]["is_overdue"] and not mine["items"][1]["is_overdue"]
    # The signaal clock, end of Tue 10 March; today is Tue 3 March. (The LRV milestone, end of
    # Mon 9 March, is no task: it never counts as the nearest deadline.)
    assert mine["items"][1]["school_days_left"] == 5
    team = _list(db, ctx, world.regisseur_a, now, scope="team")
    assert {i["reference"] for i in team["items"]} == {early.reference, late.reference, colleague.reference}
    assert _list(db, ctx, world.coordinator_a, now)["total"] == 3
    assert _list(db, ctx, world.regisseur_b, now, scope="team")["total"] == 0


def test_filters_search_and_closed_cases(db, ctx, world, now):
    a = open_case(db, ctx, world, now, given_name="Fenna")
    b = open_case(db, ctx, world, now, given_name="Milan")
    fire(db, ctx, world, b.case_id, "plan_gesprek", now)
    closed = open_case(db, ctx, world, now, given_name="Klaar")
    fire(db, ctx, world, closed.case_id, "sluiten", now)
    assert [i["reference"] for i in _list(db, ctx, world.regisseur_a, now, state="gesprek")["items"]] == [b.reference]
    assert [i["reference"] for i in _list(db, ctx, world.regisseur_a, now, q="fenn")["items"]] == [a.reference]
    assert [i["reference"] for i in _list(db, ctx, world.regisseur_a, now, q=b.reference.lower())["items"]] == [b.reference]
    assert closed.reference not in {i["reference"] for i in _list(db, ctx, world.regisseur_a, now)["items"]}
    with db.read() as conn:
        searches = conn.execute(select(AccessLog.__table__.c.detail).where(AccessLog.__table__.c.action == "search")).all()
    assert [s.detail["q"] for s in searches] == ["fenn", b.reference.lower()]


def test_paging(db, ctx, world, now, monkeypatch):
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    refs = [open_case(db, ctx, world, now).reference for _ in range(5)]
    pages = [_list(db, ctx, world.regisseur_a, now, page=p) for p in (1, 2, 3)]
    assert [p["pages"] for p in pages] == [3, 3, 3]
    assert sorted(i["reference"] for p in pages for i in p["items"]) == sorted(refs)


@pytest.mark.parametrize("who", ["partner_wijkteam", "admin"])
def test_werkvoorraad_is_for_the_team_only(db, ctx, world, now, who):
    with pytest.raises(NotFound):
        _list(db, ctx, getattr(world, who), now)


def test_case_reads_are_logged_with_their_basis(db, ctx, world, now):
    case = open_case(db, ctx, world, now)
    for actor in (world.regisseur_a, world.regisseur_a2, world.coordinator_a):
        with db.begin() as conn:
            queries.case_page(conn, ctx, actor, case.reference, now)
    with db.read() as conn:
        rows = conn.execute(select(AccessLog.__table__.c.user_id, AccessLog.__table__.c.basis)
                            .where(AccessLog.__table__.c.action == "read_case").order_by(AccessLog.__table__.c.id)).all()
    assert [tuple(r) for r in rows] == [(world.regisseur_a.id, "own_case"), (world.regisseur_a2.id, "team"),
                                        (world.coordinator_a.id, "team")]
    with pytest.raises(NotFound), db.begin() as conn:
        queries.case_page(conn, ctx, world.regisseur_b, case.reference, now)


def _plans(db, read) -> dict:
    """SQLite's plan (EXPLAIN QUERY PLAN, as the engine sends them) of every SELECT that `read` sends."""
    sent = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        read()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    with db.read() as conn:
        return {statement: [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
                for statement, parameters in sent}


def _walks(plans: dict) -> dict:
    """The statements that read cases otherwise than by id (a point lookup) or in the open cases' index."""
    return {statement: plan for statement, plan in plans.items()
            if any(step.startswith(("SCAN case", "SEARCH case")) and "rowid=?" not in step
                   and "ix_case_open_team_regisseur" not in step for step in plan)}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_werkvoorraad_never_walks_every_case_a_team_ever_had(db, ctx, world, now):
    """SQLite plans without statistics (mas never runs ANALYZE), by the shape of a statement.
    A casusregisseur's werkvoorraad reads her open cases through their partial index, and the
    signals waiting for a decision (in either scope) come from ix_signal_pending: never through
    ix_case_team_id, whose range holds every case the team ever closed and grows with the years
    (the web bench measured the page half as slow again at 100,000 cases as at 1,000 for it)."""
    open_case(db, ctx, world, now)
    closed = open_case(db, ctx, world, now)
    fire(db, ctx, world, closed.case_id, "sluiten", now)
    mine = _plans(db, lambda: _list(db, ctx, world.regisseur_a, now))
    assert any("FROM signal" in statement for statement in mine)
    assert not _walks(mine), "\n\n".join(f"{s}\n{p}" for s, p in _walks(mine).items())
    team = _plans(db, lambda: _list(db, ctx, world.regisseur_a, now, scope="team"))
    for plans in (mine, team):
        [(statement, pending)] = [(s, p) for s, p in plans.items() if "FROM signal" in s]
        assert not _walks({statement: pending}), pending
        assert any("ix_signal_pending" in step for step in pending), pending
