"""The obligation by age, with hand-computed dates (Leerplichtwet art. 3, 4a; RMC 18-23)."""

from __future__ import annotations

from datetime import date

import pytest

from mas.clocks.calendar import SchoolCalendar
from mas.clocks.obligation import (
    KWALIFICATIEPLICHT,
    LEERPLICHT,
    NONE,
    RMC,
    age_on,
    birthday,
    in_age_bounds,
    obligation_on,
    periods,
)


def spans(birth_on, **facts):
    return [(p.kind, p.first_on, p.last_on) for p in periods(birth_on, **facts)]


def test_born_31_july_turns_16_in_the_last_day_of_a_school_year():
    # 5 on Fri 31 Jul 2015 -> the month after is August; 1 Aug 2015 is a Saturday -> Mon 3 Aug.
    # 16 on Fri 31 Jul 2026: school year 2025-2026 -> leerplicht to 31 Jul 2026.
    # 18 on Mon 31 Jul 2028 -> kwalificatieplicht to 30 Jul 2028; RMC to 30 Jul 2033.
    assert spans(date(2010, 7, 31)) == [
        (LEERPLICHT, date(2015, 8, 3), date(2026, 7, 31)),
        (KWALIFICATIEPLICHT, date(2026, 8, 1), date(2028, 7, 30)),
        (RMC, date(2028, 7, 31), date(2033, 7, 30)),
    ]


def test_born_1_august_one_day_later_has_a_whole_school_year_more():
    # 5 on Sat 1 Aug 2015 -> September; Tue 1 Sep 2015. 16 on Sat 1 Aug 2026: school year
    # 2026-2027 -> leerplicht to 31 Jul 2027. 18 on Tue 1 Aug 2028.
    assert spans(date(2010, 8, 1)) == [
        (LEERPLICHT, date(2015, 9, 1), date(2027, 7, 31)),
        (KWALIFICATIEPLICHT, date(2027, 8, 1), date(2028, 7, 31)),
        (RMC, date(2028, 8, 1), date(2033, 7, 31)),
    ]


def test_born_29_february_reaches_an_age_on_1_march_in_a_common_year():
    assert birthday(date(2012, 2, 29), 5) == date(2017, 3, 1)
    assert birthday(date(2012, 2, 29), 16) == date(2028, 2, 29)  # 2028 is a leap year
    assert birthday(date(2012, 2, 29), 18) == date(2030, 3, 1)
    assert age_on(date(2012, 2, 29), date(2030, 2, 28)) == 17
    assert age_on(date(2012, 2, 29), date(2030, 3, 1)) == 18
    # 5 on 1 Mar 2017 -> April; Sat 1 Apr -> Mon 3 Apr 2017. 16 in school year 2027-2028.
    assert spans(date(2012, 2, 29)) == [
        (LEERPLICHT, date(2017, 4, 3), date(2028, 7, 31)),
        (KWALIFICATIEPLICHT, date(2028, 8, 1), date(2030, 2, 28)),
        (RMC, date(2030, 3, 1), date(2035, 2, 28)),
    ]


def test_first_school_day_of_august_follows_the_summer_holiday():
    calendar = SchoolCalendar.from_config()
    # regio midden's summer holiday 2026 runs to Sun 16 Aug 2026 (config/school_holidays.toml).
    first = periods(date(2021, 7, 31), is_school_day=lambda d: calendar.is_school_day(d, "midden"))[0].first_on
    assert first.month == 8 and first > date(2026, 8, 3)
    assert calendar.is_school_day(first, "midden")
    assert not calendar.is_school_day(first.replace(day=first.day - 1), "midden")


def test_startkwalificatie_ends_kwalificatieplicht_and_there_is_no_rmc():
    assert spans(date(2010, 8, 1), startkwalificatie_on=date(2028, 3, 15)) == [
        (LEERPLICHT, date(2015, 9, 1), date(2027, 7, 31)),
        (KWALIFICATIEPLICHT, date(2027, 8, 1), date(2028, 3, 14)),
    ]
    # obtained at 19: RMC until the day before
    assert spans(date(2010, 8, 1), startkwalificatie_on=date(2029, 7, 1))[-1] == (RMC, date(2028, 8, 1), date(2029, 6, 30))


def test_twelve_full_school_years_end_leerplicht_early():
    # In school year 2025-2026 with 11 full years done: the 12th ends 31 Jul 2026, a year before
    # the school year of the 16th birthday (1 Aug 2026 -> 31 Jul 2027) would.
    found = periods(date(2010, 8, 1), school_years_completed=11, as_of=date(2026, 3, 3))
    assert (found[0].kind, found[0].last_on, found[0].ends_because) == (LEERPLICHT, date(2026, 7, 31), "12 volledige schooljaren")
    assert found[1].first_on == date(2026, 8, 1)
    # fewer years done: the age rule ends it first
    assert periods(date(2010, 8, 1), school_years_completed=9, as_of=date(2026, 3, 3))[0].last_on == date(2027, 7, 31)


def test_obligation_today_and_when_it_changes():
    today = obligation_on(date(2026, 3, 3), date(2010, 7, 31))
    assert (today.kind, today.changes_on, today.next.kind) == (LEERPLICHT, date(2026, 8, 1), KWALIFICATIEPLICHT)
    assert obligation_on(date(2026, 7, 31), date(2010, 7, 31)).kind == LEERPLICHT
    assert obligation_on(date(2026, 8, 1), date(2010, 7, 31)).kind == KWALIFICATIEPLICHT
    toddler = obligation_on(date(2026, 3, 3), date(2022, 1, 15))
    assert (toddler.kind, toddler.changes_on, toddler.next.kind) == (NONE, date(2027, 2, 1), LEERPLICHT)
    adult = obligation_on(date(2040, 1, 1), date(2010, 7, 31))
    assert (adult.kind, adult.changes_on, adult.next) == (NONE, None, None)


@pytest.mark.parametrize("cutoff", [date(2026, 2, 28), date(2026, 3, 1), date(2026, 10, 1), date(2027, 8, 2),
                                    date(2028, 2, 29), date(2026, 12, 31)])
def test_age_bounds_agree_with_the_rules_day_by_day(cutoff):
    after, up_to = in_age_bounds(cutoff)
    for birth in (after - _d(3), after, after + _d(1), after + _d(2), up_to - _d(1), up_to, up_to + _d(1),
                  date(after.year, 2, 29) if after.year % 4 == 0 else after):
        expected = obligation_on(cutoff, birth).is_leerplicht_age
        assert (after < birth <= up_to) == expected, birth


def test_age_bounds_by_hand():
    # cutoff 1 Mar 2026: born 29 Feb 2008 turns 18 on 1 Mar 2026 -> out; born 2 Mar 2008 in.
    after, up_to = in_age_bounds(date(2026, 3, 1))
    assert after == date(2008, 3, 1)
    # 5 in January 2021 -> leerplicht from Mon 1 Feb 2021... born 31 Jan 2021 -> 1 Feb 2026 (Sunday) -> Mon 2 Feb.
    # born in February 2021 -> from the first weekday of March 2026 (Mon 2 Mar), after the cutoff.
    assert up_to == date(2021, 1, 31)


def _d(n):
    from datetime import timedelta

    return timedelta(days=n)
