"""A team records a startkwalificatie or the years of schooling (issue 15), and the case page's
obligation follows them. Dates hand-computed; local time is Europe/Amsterdam (UTC+2 in July)."""

from datetime import date, datetime, timezone

import pytest

from mas.clocks import obligation as rules
from mas.services import cases, queries, youth_records
from mas.services.errors import ValidationError
from tests.factories import open_case
from tests.services.helpers import events_of


def page(db, ctx, actor, reference, now):
    with db.begin() as conn:
        return queries.case_page(conn, ctx, actor, reference, now)


def correct(db, ctx, world, case_id, changes, now):
    with db.begin() as conn:
        youth_records.correct_youth(conn, ctx, world.regisseur_a, cases.get_case(conn, case_id), changes, now=now)


def test_a_startkwalificatie_ends_kwalificatieplicht_the_day_before(db, ctx, world, now):
    # Born 10 March 2009: 16 in school year 2024-2025, so leerplicht ends 31 July 2025;
    # kwalificatieplicht from 1 August 2025 until the day before the 18th birthday (9 March 2027).
    case = open_case(db, ctx, world, now, birth_on=date(2009, 3, 10))
    first_july = datetime(2026, 7, 1, 8, 0, tzinfo=timezone.utc)  # 10:00 in Amsterdam
    before = page(db, ctx, world.regisseur_a, case.reference, first_july)["obligation"]
    assert (before.kind, before.current.last_on, before.current.ends_because) == (
        rules.KWALIFICATIEPLICHT, date(2027, 3, 9), "18 jaar")
    correct(db, ctx, world, case.case_id, {"startkwalificatie_on": date(2026, 7, 1)}, first_july)
    seen = page(db, ctx, world.regisseur_a, case.reference, first_july)
    assert seen["youth"].startkwalificatie_on == date(2026, 7, 1)
    today = seen["obligation"]
    # Nothing holds any more (no RMC: the startkwalificatie came before 18); the page says why it ended.
    assert today.kind == rules.NONE and today.changes_on is None
    assert (today.ended.kind, today.ended.last_on, today.ended.ends_because) == (
        rules.KWALIFICATIEPLICHT, date(2026, 6, 30), "startkwalificatie behaald")
    # Seen on a day before the diploma, the obligation runs until 30 June and then nothing follows.
    earlier = page(db, ctx, world.regisseur_a, case.reference, datetime(2026, 6, 15, 8, 0, tzinfo=timezone.utc))
    assert (earlier["obligation"].current.last_on, earlier["obligation"].changes_on, earlier["obligation"].next) == (
        date(2026, 6, 30), date(2026, 7, 1), None)
    last = events_of(db, case.case_id)[-1]
    assert last.kind == "gegevens_jongere_gewijzigd" and last.data["fields"] == ["startkwalificatie_on"]


def test_twelve_school_years_end_leerplicht_before_the_school_year_of_the_16th_birthday(db, ctx, world, now):
    # Born 1 October 2010: 16 in school year 2026-2027, so by age leerplicht ends 31 July 2027.
    case = open_case(db, ctx, world, now, birth_on=date(2010, 10, 1))
    assert page(db, ctx, world.regisseur_a, case.reference, now)["obligation"].current.last_on == date(2027, 7, 31)
    # Told on 3 March 2026: 11 full school years before 2025-2026, so this is the 12th: it ends 31 July 2026.
    correct(db, ctx, world, case.case_id, {"school_years_completed": 11}, now)
    seen = page(db, ctx, world.regisseur_a, case.reference, now)
    assert (seen["youth"].school_years_completed, seen["youth"].school_years_on) == (11, date(2026, 3, 3))
    today = seen["obligation"]
    assert (today.kind, today.current.last_on, today.current.ends_because) == (
        rules.LEERPLICHT, date(2026, 7, 31), "12 volledige schooljaren")
    assert (today.changes_on, today.next.kind) == (date(2026, 8, 1), rules.KWALIFICATIEPLICHT)
    assert events_of(db, case.case_id)[-1].data["fields"] == ["school_years_completed"]
    # Another correction that leaves the count alone keeps the day it was told.
    correct(db, ctx, world, case.case_id, {"municipality": "Zeist"}, datetime(2026, 4, 1, 8, 0, tzinfo=timezone.utc))
    assert page(db, ctx, world.regisseur_a, case.reference, now)["youth"].school_years_on == date(2026, 3, 3)


@pytest.mark.parametrize("changes, field", [
    ({"startkwalificatie_on": date(2026, 3, 4)}, "startkwalificatie_on"),  # tomorrow
    ({"startkwalificatie_on": date(2021, 3, 9)}, "startkwalificatie_on"),  # the day before the 12th birthday
    ({"school_years_completed": 13}, "school_years_completed"),
    ({"school_years_completed": -1}, "school_years_completed"),
    ({"school_years_completed": "elf"}, "school_years_completed"),
    ({"school_years_completed": True}, "school_years_completed"),
])
def test_schooling_that_cannot_be_true_is_refused_by_field(db, ctx, world, now, changes, field):
    case = open_case(db, ctx, world, now, birth_on=date(2009, 3, 10))
    with pytest.raises(ValidationError) as err:
        correct(db, ctx, world, case.case_id, changes, now)
    assert set(err.value.errors) == {field}
    youth = page(db, ctx, world.regisseur_a, case.reference, now)["youth"]
    assert (youth.startkwalificatie_on, youth.school_years_completed, youth.school_years_on) == (None, None, None)


def test_the_12th_birthday_itself_is_accepted_and_every_wrong_field_is_named_at_once(db, ctx, world, now):
    case = open_case(db, ctx, world, now, birth_on=date(2009, 3, 10))
    with pytest.raises(ValidationError) as err:
        correct(db, ctx, world, case.case_id, {"given_name": "", "school_years_completed": 13}, now)
    assert {"given_name", "school_years_completed"} <= set(err.value.errors)
    correct(db, ctx, world, case.case_id, {"startkwalificatie_on": date(2021, 3, 10), "school_years_completed": 0}, now)
    youth = page(db, ctx, world.regisseur_a, case.reference, now)["youth"]
    assert (youth.startkwalificatie_on, youth.school_years_completed) == (date(2021, 3, 10), 0)


def test_a_hand_over_copies_the_schooling_to_the_receiving_team(db, ctx, world, now):
    from mas.services import transfers

    case = open_case(db, ctx, world, now, birth_on=date(2010, 10, 1))
    correct(db, ctx, world, case.case_id, {"school_years_completed": 11, "startkwalificatie_on": date(2026, 3, 2)}, now)
    with db.begin() as conn:
        version = cases.get_case(conn, case.case_id).version
        transfers.transfer_case(conn, ctx, world.regisseur_a, case.case_id, world.team_b, reason="Verhuisd",
                                now=now, expected_version=version)
    youth = page(db, ctx, world.coordinator_b, case.reference, now)["youth"]
    assert youth.team_id == world.team_b
    assert (youth.startkwalificatie_on, youth.school_years_completed, youth.school_years_on) == (
        date(2026, 3, 2), 11, date(2026, 3, 3))
