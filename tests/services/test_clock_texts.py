"""What a casusregisseur reads under "Waarom deze datum?", checked against dates counted by hand.

Regio midden. Kerstvakantie 2026-2027: Saturday 19 December – Sunday 3 January; the weekdays
in it are Monday 21 December – Friday 1 January, ten of them (Christmas Day and New Year's
Day among them: they are in the holiday, and counted with it).
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from mas.clocks.explain import explain
from mas.dates import TZ, end_of_day
from tests.factories import fire, open_case, signal
from tests.services.helpers import deadlines_of, open_deadline


def _at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ).astimezone(timezone.utc)


def test_a_case_entered_in_the_christmas_holiday_counts_from_the_first_school_day(db, ctx, world):
    case = open_case(db, ctx, world, _at(2026, 12, 19, 11, 0))  # Saturday 19 December 2026
    signaal = open_deadline(db, case.case_id, "signaal")
    # Day 0 is Monday 4 January; school days 1-5: Tue 5, Wed 6, Thu 7, Fri 8, Mon 11 January.
    assert signaal.due_at == end_of_day(date(2027, 1, 11))
    lines = explain(signaal, ctx.workflow, ctx.calendar, "midden")
    assert lines[0] == ctx.clock("signaal").explanation
    assert ("Het begin van deze fase: zaterdag 19 december 2026, in de kerstvakantie; de telling begint op de "
            "eerstvolgende schooldag, maandag 4 januari 2027 (dag 0).") in lines
    assert "Termijn: 5 schooldagen na dag 0, in vakantieregio midden." in lines
    assert "kerstvakantie, regio midden: 21 december – 1 januari, 10 schooldagen" in lines
    assert "Eindigt: maandag 11 januari 2027, 23:59." in lines
    assert not any("(" in line and "(" in line.split("(", 1)[1].split(")", 1)[0] for line in lines), lines


def test_a_school_day_is_its_own_day_0_and_single_free_days_are_named(db, ctx, world):
    # Zorgtafel entered Monday 16 March 2026: 20 school days, Goede Vrijdag (3 April) and
    # Tweede Paasdag (6 April) skipped: 17-20 Mar (4), 23-27 (9), 30 Mar-2 Apr (13), 7-10 (17),
    # 13-15 April (20) -> Wednesday 15 April.
    case = open_case(db, ctx, world, _at(2026, 3, 16, 9, 0))
    fire(db, ctx, world, case.case_id, "plan_gesprek", _at(2026, 3, 16, 9, 5))
    fire(db, ctx, world, case.case_id, "naar_zorgtafel", _at(2026, 3, 16, 9, 10))
    zorgtafel = open_deadline(db, case.case_id, "zorgtafel")
    assert zorgtafel.due_at == end_of_day(date(2026, 4, 15))
    lines = explain(zorgtafel, ctx.workflow, ctx.calendar, "midden")
    assert "Dag 0: maandag 16 maart 2026 (het begin van deze fase)." in lines
    assert "Goede Vrijdag: vrijdag 3 april 2026" in lines and "Tweede Paasdag: maandag 6 april 2026" in lines
    assert "Termijn: 20 schooldagen na dag 0, in vakantieregio midden." in lines


def test_a_month_end_is_explained(db, ctx, world):
    case = _open_with_first_day(db, ctx, world, date(2027, 1, 31), _at(2027, 2, 1, 10, 0))
    pact = open_deadline(db, case.case_id, "thuiszitterspact")
    assert pact.due_at == end_of_day(date(2027, 4, 30))
    lines = explain(pact, ctx.workflow, ctx.calendar, "midden")
    assert "Dag 0: zondag 31 januari 2027 (de eerste dag zonder onderwijs)." in lines
    assert "Termijn: 3 kalendermaanden: 31 januari + 3 maanden = 30 april 2027 (april heeft geen 31 dagen)." in lines
    assert "Vakanties tellen mee; opschorten zet deze klok niet stil." in lines


def _open_with_first_day(db, ctx, world, first_day: date, now: datetime):
    from mas.services import cases
    from tests.factories import youth

    with db.begin() as conn:
        return cases.receive_signal(conn, ctx, world.regisseur_a, youth(), signal(period_first_on=first_day),
                                    team_id=world.team_a, now=now, casusregisseur_id=world.regisseur_a.id)


def test_a_restarted_thuiszitterspact_clock_says_why_and_when_the_earlier_period_ran(db, ctx, world):
    case = _open_with_first_day(db, ctx, world, date(2026, 10, 5), _at(2026, 10, 6, 10, 0))
    fire(db, ctx, world, case.case_id, "plan_gesprek", _at(2026, 10, 7, 10, 0))
    fire(db, ctx, world, case.case_id, "naar_zorgtafel", _at(2026, 10, 14, 10, 0))
    fire(db, ctx, world, case.case_id, "maatwerkplan_vastgesteld", _at(2026, 12, 1, 10, 0),
         data={"offer": "Deeltijdrooster", "responsible_organisation_id": None, "planned_start_on": "2027-01-04"})
    fire(db, ctx, world, case.case_id, "aanbod_gestart", _at(2027, 1, 4, 15, 0), data={"offer_started_on": "2027-01-04"})
    fire(db, ctx, world, case.case_id, "terugval", _at(2027, 2, 9, 10, 0), data={"home_again_on": "2027-02-08"})

    first, second = deadlines_of(db, case.case_id, "thuiszitterspact")
    assert (first.status, first.stopped_on) == ("stopped", date(2027, 1, 4))
    assert (second.generation, second.started_on, second.status) == (2, date(2027, 2, 8), "open")
    assert second.due_at == end_of_day(date(2027, 5, 8))
    lines = explain(second, ctx.workflow, ctx.calendar, "midden")
    # 5 October 2026 to 4 January 2027: 26 + 30 + 31 + 4 = 91 days.
    assert ("Dit is een nieuwe periode na 'Terugval: terug naar de zorgtafel'. De vorige periode liep van "
            "maandag 5 oktober 2026 tot maandag 4 januari 2027 (91 dagen).") in lines
    assert "Dag 0: maandag 8 februari 2027 (weer thuis sinds)." in lines
    assert "Termijn: 3 kalendermaanden: 8 februari + 3 maanden = 8 mei 2027." in lines
