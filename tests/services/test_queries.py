"""Read models: the werkvoorraad's scope, order, filters and paging; case reads are logged."""

from datetime import timedelta

import pytest
from sqlalchemy import select

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
