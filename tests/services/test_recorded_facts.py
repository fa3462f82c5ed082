"""The facts the figures count, recorded on transitions: the route's day (Halt referrals), the
proces-verbaal's date, and the peer-expert indicators on the closing form."""

from datetime import date, timedelta

import pytest

from mas.services import cases
from mas.services.errors import GuardDataError
from tests.factories import fire, open_case
from tests.services.helpers import case_row


def _to_gesprek(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    fire(db, ctx, world, case_id, "plan_gesprek", now)
    return case_id


def test_the_route_keeps_the_day_it_was_chosen(db, ctx, world, now):
    case_id = _to_gesprek(db, ctx, world, now)
    fire(db, ctx, world, case_id, "naar_zorgtafel", now, data={"gesprek_report": "x", "route": "halt"})
    row = case_row(db, case_id)
    assert (row.route, row.route_on, row.pv_on) == ("halt", date(2026, 3, 3), None)
    later = now + timedelta(days=9)
    with db.begin() as conn:
        cases.change_route(conn, ctx, world.regisseur_a, case_id, "strafrechtelijk", now=later,
                           expected_version=case_row(db, case_id).version, reason="Halt afgerond zonder resultaat")
    row = case_row(db, case_id)
    assert (row.route, row.route_on) == ("strafrechtelijk", date(2026, 3, 12))


def test_a_pv_date_is_kept_on_the_route_strafrechtelijk(db, ctx, world, now):
    case_id = _to_gesprek(db, ctx, world, now)
    fire(db, ctx, world, case_id, "naar_zorgtafel", now,
         data={"gesprek_report": "x", "route": "strafrechtelijk", "pv_on": "2026-03-02"})
    assert case_row(db, case_id).pv_on == date(2026, 3, 2)


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"route": "vrijwillig", "pv_on": "2026-03-02"}, "pv_on", "Strafrechtelijk"),
    ({"route": "strafrechtelijk", "pv_on": "2026-03-04"}, "pv_on", "toekomst"),
])
def test_a_pv_date_is_refused_beside_another_route_or_in_the_future(db, ctx, world, now, data, field, message):
    case_id = _to_gesprek(db, ctx, world, now)
    with pytest.raises(GuardDataError) as caught:
        fire(db, ctx, world, case_id, "naar_zorgtafel", now, data={"gesprek_report": "x", **data})
    assert message in caught.value.errors[field]
    assert case_row(db, case_id).route is None


def test_the_closing_form_records_the_peer_expert_indicators(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    fire(db, ctx, world, case_id, "sluiten", now, data={
        "closing_reason": "terug_naar_school", "peer_contact": "ja", "satisfaction_youth": "4",
        "satisfaction_professionals": 5})
    row = case_row(db, case_id)
    assert (row.peer_contact, row.satisfaction_youth, row.satisfaction_professionals) == ("ja", 4, 5)


@pytest.mark.parametrize("value", ["0", "6", "drie"])
def test_satisfaction_is_one_to_five(db, ctx, world, now, value):
    case_id = open_case(db, ctx, world, now).case_id
    with pytest.raises(GuardDataError) as caught:
        fire(db, ctx, world, case_id, "sluiten", now,
             data={"closing_reason": "terug_naar_school", "satisfaction_youth": value})
    assert "satisfaction_youth" in caught.value.errors
    assert case_row(db, case_id).closed_at is None


def test_the_indicators_are_optional(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    fire(db, ctx, world, case_id, "sluiten", now)
    row = case_row(db, case_id)
    assert (row.peer_contact, row.satisfaction_youth, row.satisfaction_professionals) == (None, None, None)
