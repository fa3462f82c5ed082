"""Opening cases from signals, firing transitions, conflicts, access, hand-overs."""

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from mas.models import Case, CaseEvent, Signal
from mas.services import cases
from mas.services.errors import (
    CaseClosed,
    Conflict,
    Forbidden,
    GuardDataError,
    InvalidTransition,
    NotFound,
    ValidationError,
)
from tests.factories import fire, open_case, signal, youth
from tests.services.helpers import case_row, count, deadlines_of, events_of, open_deadline, signals_of

AMS_WINTER = timezone(timedelta(hours=1))
AMS_SUMMER = timezone(timedelta(hours=2))


def test_a_signal_opens_a_case_with_its_clocks(db, ctx, world, now):
    result = open_case(db, ctx, world, now)
    assert result.reference == "MAS-2026-000001" and not result.joined
    case = case_row(db, result.case_id)
    assert (case.state, case.version, case.region, case.first_absent_on) == ("signaal", 1, "midden", date(2026, 2, 2))
    # Tuesday 3 March + 5 school days = Tuesday 10 March, 23:59:59 in Amsterdam (winter time).
    signaal = open_deadline(db, case.id, "signaal")
    assert signaal.due_at == datetime(2026, 3, 10, 23, 59, 59, tzinfo=AMS_WINTER)
    assert signaal.inputs["start"] == "2026-03-03" and signaal.inputs["n"] == 5
    assert signaal.inputs["calendar"] == ctx.calendar.version
    # Thuiszitterspact: 2 February + 3 calendar months = 2 May, end of day, summer time.
    pact = open_deadline(db, case.id, "thuiszitterspact")
    assert pact.due_at == datetime(2026, 5, 2, 23, 59, 59, tzinfo=AMS_SUMMER)
    # LRV: 20 school days from Monday 2 February skip the voorjaarsvakantie (16-20 Feb, midden).
    assert open_deadline(db, case.id, "lrv").due_at == datetime(2026, 3, 9, 23, 59, 59, tzinfo=AMS_WINTER)
    [event] = events_of(db, case.id)
    assert (event.kind, event.to_state, event.actor_id) == ("zaak_geopend", "signaal", world.regisseur_a.id)


def test_references_count_up_per_year(db, ctx, world, now):
    first = open_case(db, ctx, world, now)
    second = open_case(db, ctx, world, now)
    next_year = open_case(db, ctx, world, datetime(2027, 1, 5, 9, tzinfo=timezone.utc))
    assert (first.reference, second.reference, next_year.reference) == (
        "MAS-2026-000001", "MAS-2026-000002", "MAS-2027-000001")


def test_a_new_signal_joins_the_open_case_and_is_kept(db, ctx, world, now):
    first = open_case(db, ctx, world, now, bsn="111222333")
    with db.begin() as conn:
        again = cases.receive_signal(conn, ctx, world.regisseur_a, youth(bsn="111222333"), signal(kind="relatief"),
                                     team_id=world.team_a, now=now + timedelta(days=1))
    assert again.joined and again.case_id == first.case_id and again.reference == first.reference
    assert count(db, Case.__table__) == 1
    assert [s.kind for s in signals_of(db, first.case_id)] == ["lrv", "relatief"]
    assert events_of(db, first.case_id)[-1].kind == "signaal_toegevoegd"
    assert case_row(db, first.case_id).version == 1


def test_after_closure_a_signal_opens_a_new_linked_case(db, ctx, world, now):
    first = open_case(db, ctx, world, now, bsn="111222333")
    fire(db, ctx, world, first.case_id, "sluiten", now)
    later = open_case(db, ctx, world, now + timedelta(days=30), bsn="111222333")
    assert not later.joined and later.case_id != first.case_id
    assert later.previous_case_id == first.case_id
    assert case_row(db, later.case_id).previous_case_id == first.case_id


def test_invalid_bsn_is_refused_with_its_field(db, ctx, world, now):
    with pytest.raises(ValidationError) as err, db.begin() as conn:
        cases.receive_signal(conn, ctx, world.regisseur_a, youth(bsn="123456789"), signal(), team_id=world.team_a, now=now)
    assert "bsn" in err.value.errors and "elfproef" in err.value.errors["bsn"]
    assert count(db, Case.__table__) == 0


def test_signal_needs_bsn_or_onderwijsnummer(db, ctx, world, now):
    with pytest.raises(ValidationError) as err, db.begin() as conn:
        cases.receive_signal(conn, ctx, world.regisseur_a, youth(bsn=None), signal(kind="onzin"),
                             team_id=world.team_a, now=now)
    assert "bsn" in err.value.errors


def test_onderwijsnummer_identifies_a_youth_without_bsn(db, ctx, world, now):
    first = open_case(db, ctx, world, now, bsn=None, onderwijsnummer="123456780")
    again = open_case(db, ctx, world, now, bsn=None, onderwijsnummer="123456780")
    assert again.joined and again.case_id == first.case_id


@pytest.mark.parametrize("who", ["partner_wijkteam", "admin", "regisseur_b"])
def test_only_the_team_takes_in_signals(db, ctx, world, now, who):
    with pytest.raises(Forbidden), db.begin() as conn:
        cases.receive_signal(conn, ctx, getattr(world, who), youth(), signal(), team_id=world.team_a, now=now)


def test_region_follows_the_school_municipality(db, ctx, world, now):
    # The team's default is midden; a school in Groningen (noord) decides the region.
    from mas.models import Organisation
    o = Organisation.__table__
    with db.begin() as conn:
        school = conn.execute(o.insert().returning(o.c.id), dict(
            name="Noorderpoort", kind="school", municipality="Groningen", is_active=True, created_at=now)).scalar_one()
    result = open_case(db, ctx, world, now, school_id=school)
    assert case_row(db, result.case_id).region == "noord"


def test_the_full_flow_and_its_clocks(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    for trigger in ("plan_gesprek", "naar_zorgtafel", "maatwerkplan_vastgesteld", "aanbod_gestart", "nazorg_afgerond"):
        fire(db, ctx, world, case_id, trigger, now)
    case = case_row(db, case_id)
    assert (case.state, case.version, case.route, case.closing_reason) == (
        "afgesloten", 6, "vrijwillig", "terug_naar_school")
    assert case.offer_started_on == date(2026, 3, 2) and case.maatwerkplan["offer"] == "Deeltijdrooster"
    rows = deadlines_of(db, case_id)
    assert all(r.status != "open" for r in rows)
    assert {r.kind: r.status for r in rows if r.kind in ("signaal", "gesprek", "zorgtafel", "aanbod")} == dict.fromkeys(
        ("signaal", "gesprek", "zorgtafel", "aanbod"), "met")
    pact = deadlines_of(db, case_id, "thuiszitterspact")
    assert [r.status for r in pact] == ["stopped"] and pact[0].closed_reason == "Aanbod is gestart op maandag 2 maart 2026"
    assert [e.kind for e in events_of(db, case_id)] == ["zaak_geopend"] + ["overgang"] * 5


def test_aanbod_clock_follows_the_planned_start(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    for trigger in ("plan_gesprek", "naar_zorgtafel", "maatwerkplan_vastgesteld"):
        fire(db, ctx, world, case_id, trigger, now)
    assert open_deadline(db, case_id, "aanbod").due_at == datetime(2026, 3, 23, 23, 59, 59, tzinfo=AMS_WINTER)


def test_reentering_a_state_starts_a_new_generation_and_relapse_restarts_the_pact(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    for trigger in ("plan_gesprek", "naar_zorgtafel", "maatwerkplan_vastgesteld", "aanbod_mislukt"):
        fire(db, ctx, world, case_id, trigger, now)
    # The offer never started: the pact clock keeps running from the first day without education.
    assert [(r.generation, r.status) for r in deadlines_of(db, case_id, "thuiszitterspact")] == [(1, "open")]
    fire(db, ctx, world, case_id, "maatwerkplan_vastgesteld", now)
    fire(db, ctx, world, case_id, "aanbod_gestart", now)
    later = now + timedelta(days=20)
    fire(db, ctx, world, case_id, "terugval", later, data={"home_again_on": "2026-03-20"})
    zorgtafel = deadlines_of(db, case_id, "zorgtafel")
    assert [(r.generation, r.status) for r in zorgtafel] == [(1, "met"), (2, "met"), (3, "open")]
    pact = deadlines_of(db, case_id, "thuiszitterspact")
    assert [(r.generation, r.status) for r in pact] == [(1, "stopped"), (2, "open")]
    assert pact[1].started_on == date(2026, 3, 20)
    assert pact[1].due_at == datetime(2026, 6, 20, 23, 59, 59, tzinfo=AMS_SUMMER)
    assert case_row(db, case_id).offer_started_on is None


def test_a_stale_version_is_refused_and_changes_nothing(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    fire(db, ctx, world, case_id, "plan_gesprek", now)
    before = (count(db, CaseEvent.__table__), deadlines_of(db, case_id))
    with pytest.raises(Conflict) as err, db.begin() as conn:
        cases.fire(conn, ctx, world.regisseur_a, case_id, "naar_zorgtafel", now=now, expected_version=1,
                   data={"gesprek_report": "x", "route": "halt"})
    assert err.value.current_version == 2
    assert case_row(db, case_id).state == "gesprek"
    assert (count(db, CaseEvent.__table__), deadlines_of(db, case_id)) == before


def test_the_same_transition_twice_from_one_page_is_a_conflict_naming_who(db, ctx, world, now):
    """Two people fire "Gesprek gevoerd, naar de zorgtafel" from the same page: the second hears
    that the case changed and by whom (409), not that the step cannot be taken from 'zorgtafel'."""
    case_id = open_case(db, ctx, world, now).case_id
    fire(db, ctx, world, case_id, "plan_gesprek", now)
    data = {"gesprek_report": "Gesprek met moeder en Sem", "route": "vrijwillig"}
    with db.begin() as conn:
        cases.fire(conn, ctx, world.coordinator_a, case_id, "naar_zorgtafel", now=now, expected_version=2, data=data)
    before = (count(db, CaseEvent.__table__), deadlines_of(db, case_id))
    with pytest.raises(Conflict) as err, db.begin() as conn:
        cases.fire(conn, ctx, world.regisseur_a, case_id, "naar_zorgtafel", now=now, expected_version=2, data=data)
    assert err.value.message == "De zaak is intussen door coordinator.a gewijzigd."
    assert err.value.current_version == 3
    assert (count(db, CaseEvent.__table__), deadlines_of(db, case_id)) == before
    # The same person in two windows is told it was they themselves.
    with pytest.raises(Conflict) as err, db.begin() as conn:
        cases.fire(conn, ctx, world.coordinator_a, case_id, "naar_zorgtafel", now=now, expected_version=2, data=data)
    assert "door uzelf (in een ander venster of tabblad)" in err.value.message
    # Version before state, for every change that carries a version: a closed case too.
    with db.begin() as conn:
        cases.fire(conn, ctx, world.regisseur_a, case_id, "sluiten", now=now, expected_version=3,
                   data={"closing_reason": "verhuisd"}, reason="Verhuisd naar Groningen")
    with pytest.raises(Conflict), db.begin() as conn:
        cases.change_route(conn, ctx, world.regisseur_a, case_id, "halt", now=now, expected_version=3, reason="x")
    with pytest.raises(Conflict), db.begin() as conn:
        cases.hand_over(conn, world.regisseur_a, case_id, world.regisseur_a2.id, now=now, expected_version=3)


def test_missing_guard_data_names_the_fields_and_changes_nothing(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    fire(db, ctx, world, case_id, "plan_gesprek", now)
    with pytest.raises(GuardDataError) as err, db.begin() as conn:
        cases.fire(conn, ctx, world.regisseur_a, case_id, "naar_zorgtafel", now=now, expected_version=2,
                   data={"gesprek_report": ""})
    assert set(err.value.errors) == {"gesprek_report", "route"}
    assert case_row(db, case_id).state == "gesprek" and case_row(db, case_id).version == 2


def test_offer_start_cannot_be_in_the_future(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    for trigger in ("plan_gesprek", "naar_zorgtafel", "maatwerkplan_vastgesteld"):
        fire(db, ctx, world, case_id, trigger, now)
    with pytest.raises(GuardDataError) as err:
        fire(db, ctx, world, case_id, "aanbod_gestart", now, data={"offer_started_on": "2026-04-01"})
    assert "offer_started_on" in err.value.errors


def test_unknown_organisation_in_maatwerkplan_is_refused(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    fire(db, ctx, world, case_id, "plan_gesprek", now)
    fire(db, ctx, world, case_id, "naar_zorgtafel", now)
    with pytest.raises(GuardDataError) as err:
        fire(db, ctx, world, case_id, "maatwerkplan_vastgesteld", now,
             data={"offer": "x", "responsible_organisation_id": 999, "planned_start_on": "2026-03-20"})
    assert list(err.value.errors) == ["responsible_organisation_id"]


def test_invalid_transition_and_closed_case_are_distinct_errors(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    with pytest.raises(InvalidTransition):
        fire(db, ctx, world, case_id, "aanbod_gestart", now)
    with pytest.raises(InvalidTransition):
        fire(db, ctx, world, case_id, "bestaat_niet", now)
    fire(db, ctx, world, case_id, "sluiten", now)
    with pytest.raises(CaseClosed):
        fire(db, ctx, world, case_id, "plan_gesprek", now)
    with pytest.raises(CaseClosed), db.begin() as conn:
        cases.change_route(conn, ctx, world.regisseur_a, case_id, "halt", now=now, expected_version=None, reason="x")


def test_closing_needs_a_duo_reason_and_closes_every_clock(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    with pytest.raises(GuardDataError) as err:
        fire(db, ctx, world, case_id, "sluiten", now, data={"closing_reason": "zomaar"}, reason="")
    assert set(err.value.errors) == {"closing_reason", "reason"}
    fire(db, ctx, world, case_id, "sluiten", now)
    assert all(r.status == "closed" for r in deadlines_of(db, case_id))
    assert case_row(db, case_id).closed_at == now


@pytest.mark.parametrize("who,error", [
    ("regisseur_a2", Forbidden),  # a colleague in the team: may read, not direct
    ("regisseur_b", NotFound), ("coordinator_b", NotFound), ("partner_wijkteam", NotFound), ("admin", NotFound),
])
def test_only_the_casusregisseur_and_the_coordinator_fire(db, ctx, world, now, who, error):
    case_id = open_case(db, ctx, world, now).case_id
    with pytest.raises(error):
        fire(db, ctx, world, case_id, "plan_gesprek", now, actor=getattr(world, who))
    assert case_row(db, case_id).state == "signaal"
    fire(db, ctx, world, case_id, "plan_gesprek", now, actor=world.coordinator_a)
    assert case_row(db, case_id).state == "gesprek"


def test_notes_are_events_and_do_not_change_the_version(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    with db.begin() as conn:
        cases.add_note(conn, world.regisseur_a, case_id, "Moeder gebeld, gesprek donderdag.", now=now)
    assert events_of(db, case_id)[-1].data == {"text": "Moeder gebeld, gesprek donderdag."}
    assert case_row(db, case_id).version == 1
    with pytest.raises(ValidationError), db.begin() as conn:
        cases.add_note(conn, world.regisseur_a, case_id, "  ", now=now)


def test_route_changes_with_a_reason(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    fire(db, ctx, world, case_id, "plan_gesprek", now)
    fire(db, ctx, world, case_id, "naar_zorgtafel", now)
    with pytest.raises(ValidationError) as err, db.begin() as conn:
        cases.change_route(conn, ctx, world.regisseur_a, case_id, "halt", now=now, expected_version=3, reason="")
    assert list(err.value.errors) == ["reason"]
    with db.begin() as conn:
        cases.change_route(conn, ctx, world.regisseur_a, case_id, "halt", now=now, expected_version=3,
                           reason="Twaalf keer te laat; Halt past beter.")
    assert (case_row(db, case_id).route, case_row(db, case_id).version) == ("halt", 4)
    assert events_of(db, case_id)[-1].data == {"from": "vrijwillig", "to": "halt"}


def test_hand_over_to_a_colleague(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    with pytest.raises(ValidationError), db.begin() as conn:
        cases.hand_over(conn, world.regisseur_a, case_id, world.regisseur_b.id, now=now, expected_version=1)
    with db.begin() as conn:
        cases.hand_over(conn, world.coordinator_a, case_id, world.regisseur_a2.id, now=now, expected_version=1,
                        reason="Verlof")
    case = case_row(db, case_id)
    assert (case.casusregisseur_id, case.version) == (world.regisseur_a2.id, 2)
    # The former casusregisseur no longer directs it; the new one does.
    with pytest.raises(Forbidden):
        fire(db, ctx, world, case_id, "plan_gesprek", now, actor=world.regisseur_a)
    fire(db, ctx, world, case_id, "plan_gesprek", now, actor=world.regisseur_a2)


def test_signals_are_never_lost_when_joining(db, ctx, world, now):
    first = open_case(db, ctx, world, now, bsn="111222333")
    for _ in range(3):
        open_case(db, ctx, world, now, bsn="111222333")
    assert count(db, Signal.__table__) == 4 and len(signals_of(db, first.case_id)) == 4


@pytest.mark.parametrize("typed,problem", [
    ("1112.22.333", None),  # dots, as printed on a passport
    (" 111 222 333 ", None),
    ("11122233", "klopt niet: de elfproef faalt"),  # eight digits: an older number, given its leading zero
    ("1112223", "9 cijfers nodig; dit zijn er 7"),
    ("111222334", "klopt niet: de elfproef faalt"),
    ("11122233a", "alleen uit cijfers"),
    ("١١١٢٢٢٣٣٣", "alleen uit cijfers"),  # Arabic-Indic digits are no BSN
])
def test_a_bsn_is_accepted_as_people_type_it_and_a_wrong_one_says_what_failed(typed, problem):
    from mas.bsn import bsn_problem, normalise_bsn

    found = bsn_problem(typed)
    if problem is None:
        assert found is None and normalise_bsn(typed) == "111222333"
    else:
        assert found is not None and problem in found, found


def test_a_signal_stores_the_bsn_normalised(db, ctx, world, now):
    result = open_case(db, ctx, world, now, bsn="1112.22.333")
    from mas.models import Youth
    y = Youth.__table__
    with db.read() as conn:
        stored = conn.execute(select(y.c.bsn).where(y.c.id == case_row(db, result.case_id).youth_id)).scalar_one()
    assert stored == "111222333"


def test_a_proces_verbaal_is_recorded_later_on_the_route_strafrechtelijk(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    later = now + timedelta(days=20)

    def change(route, pv_on=None, moment=now):
        with db.begin() as conn:
            version = case_row(db, case_id).version
            cases.change_route(conn, ctx, world.regisseur_a, case_id, route, now=moment, expected_version=version,
                               reason="Zitting bij het OM", pv_on=pv_on)

    change(ctx.workflow.pv_route)
    assert (case_row(db, case_id).route_on, case_row(db, case_id).pv_on) == (now.date(), None)
    change(ctx.workflow.pv_route, date(2026, 3, 18), later)  # the same route, a PV made since
    row = case_row(db, case_id)
    assert (row.route_on, row.pv_on) == (now.date(), date(2026, 3, 18))  # the route's day stays
    for route, pv_on, message in ((ctx.workflow.halt_route, date(2026, 3, 18), "hoort bij de route strafrechtelijk"),
                                  (ctx.workflow.pv_route, later.date() + timedelta(days=1), "in de toekomst")):
        with pytest.raises(ValidationError) as refused:
            change(route, pv_on, later)
        assert message in refused.value.errors["pv_on"]
    assert case_row(db, case_id).pv_on == date(2026, 3, 18)
