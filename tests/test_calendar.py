"""mas.clocks.calendar: school days per vakantieregio, suspensions, end of day, calendar months.

Hand-computed cases use the shipped table (config/school_holidays.toml). Each says why.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mas.clocks.calendar import (
    HOLIDAY_NAMES,
    REGIONS,
    ClockPaused,
    HolidayPeriod,
    SchoolCalendar,
    add_calendar_months,
)
from mas.dates import end_of_day, local_date
from mas.settings import SHIPPED_CONFIG_DIR

CONFIG = SHIPPED_CONFIG_DIR
CAL = SchoolCalendar.from_config()
D = date


def _shipped_periods() -> list[HolidayPeriod]:
    rows = tomllib.loads((CONFIG / "school_holidays.toml").read_text(encoding="utf-8"))["period"]
    return [HolidayPeriod(r["school_year"], r["name"], r["region"], r["first"], r["last"], r["source"]) for r in rows]


# -- counting across weekends and public holidays -------------------------------------------


def test_across_a_weekend():
    # Fri 14 Nov 2025 is day 0; Mon 17 .. Fri 21 are days 1..5 (no holiday that week anywhere).
    for region in REGIONS:
        assert CAL.add_school_days(D(2025, 11, 14), 5, region) == D(2025, 11, 21)
    # Wed 12 Nov + 3: Thu 13, Fri 14, (weekend), Mon 17.
    assert CAL.add_school_days(D(2025, 11, 12), 3, "midden") == D(2025, 11, 17)


def test_across_goede_vrijdag_and_tweede_paasdag_2026():
    # Thu 2 Apr 2026 is day 0; Fri 3 Apr Goede Vrijdag, weekend, Mon 6 Apr Tweede Paasdag,
    # so day 1 is Tue 7 Apr and day 3 is Thu 9 Apr. No school holiday in early April 2026.
    assert CAL.add_school_days(D(2026, 4, 2), 1, "noord") == D(2026, 4, 7)
    assert CAL.add_school_days(D(2026, 4, 2), 3, "zuid") == D(2026, 4, 9)
    assert CAL.reason_not_school_day(D(2026, 4, 3), "midden") == "Goede Vrijdag"
    assert CAL.reason_not_school_day(D(2026, 4, 6), "midden") == "Tweede Paasdag"


def test_across_the_christmas_holiday():
    # Kerstvakantie 20 Dec 2025 - 4 Jan 2026 in every region: Fri 19 Dec + 1 is Mon 5 Jan,
    # + 5 is Fri 9 Jan.
    assert CAL.add_school_days(D(2025, 12, 19), 1, "noord") == D(2026, 1, 5)
    assert CAL.add_school_days(D(2025, 12, 19), 5, "zuid") == D(2026, 1, 9)
    assert CAL.reason_not_school_day(D(2025, 12, 23), "noord") == "kerstvakantie (regio noord)"
    # Christmas Day itself is named as the public holiday, not as the school holiday.
    assert CAL.reason_not_school_day(D(2025, 12, 25), "noord") == "Eerste Kerstdag"


def test_liberation_day_every_year():
    # Tue 5 May 2026 falls after the meivakantie (25 Apr - 3 May 2026) and 2026 is no
    # lustrum year, so only the configured rule makes it free: Mon 4 May + 1 = Wed 6 May.
    assert CAL.reason_not_school_day(D(2026, 5, 5), "midden") == "Bevrijdingsdag"
    assert CAL.add_school_days(D(2026, 5, 4), 1, "midden") == D(2026, 5, 6)
    # With the rule off, holidays.NL decides: 5 May 2026 is then an ordinary Tuesday.
    off = SchoolCalendar(_shipped_periods(), liberation_day_every_year=False)
    assert off.is_school_day(D(2026, 5, 5), "midden")
    assert off.add_school_days(D(2026, 5, 4), 1, "midden") == D(2026, 5, 5)
    assert off.version != CAL.version


def test_koningsdag():
    # Thu 27 Apr 2028 is Koningsdag; the meivakantie 2028 starts Sat 29 Apr, so Wed 26 Apr
    # + 1 skips Thursday and lands on Fri 28 Apr.
    assert CAL.reason_not_school_day(D(2028, 4, 27), "noord") == "Koningsdag"
    assert CAL.add_school_days(D(2028, 4, 26), 1, "noord") == D(2028, 4, 28)
    # Mon 27 Apr 2026 lies inside the meivakantie: the public holiday is the reason given.
    assert CAL.reason_not_school_day(D(2026, 4, 27), "zuid") == "Koningsdag"
    assert CAL.reason_not_school_day(D(2026, 4, 28), "zuid") == "meivakantie (regio zuid)"


def test_region_specific_herfstvakantie():
    # Herfstvakantie 2025: zuid 11-19 Oct, noord and midden 18-26 Oct. From Fri 10 Oct,
    # noord counts Mon 13 .. Fri 17 (5 -> Fri 17 Oct); zuid is off that week and counts
    # Mon 20 .. Fri 24 (5 -> Fri 24 Oct).
    assert CAL.add_school_days(D(2025, 10, 10), 5, "noord") == D(2025, 10, 17)
    assert CAL.add_school_days(D(2025, 10, 10), 5, "midden") == D(2025, 10, 17)
    assert CAL.add_school_days(D(2025, 10, 10), 5, "zuid") == D(2025, 10, 24)
    # The sixth school day is Mon 27 Oct in both: noord is then off for 18-26 Oct.
    assert CAL.add_school_days(D(2025, 10, 10), 6, "noord") == D(2025, 10, 27)
    assert CAL.add_school_days(D(2025, 10, 10), 6, "zuid") == D(2025, 10, 27)


def test_region_specific_voorjaarsvakantie():
    # Voorjaarsvakantie 2026: midden and zuid 14-22 Feb, noord 21 Feb - 1 Mar.
    # From Fri 13 Feb: zuid's day 1 is Mon 23 Feb, noord's is Mon 16 Feb.
    assert CAL.add_school_days(D(2026, 2, 13), 1, "zuid") == D(2026, 2, 23)
    assert CAL.add_school_days(D(2026, 2, 13), 1, "noord") == D(2026, 2, 16)
    # noord: Mon 16 .. Fri 20 are days 1..5, then off until Sun 1 Mar: day 6 is Mon 2 Mar.
    assert CAL.add_school_days(D(2026, 2, 13), 6, "noord") == D(2026, 3, 2)


def test_event_on_saturday():
    # Sat 15 Nov 2025: day 0 becomes Mon 17; days 1..5 are Tue 18 .. Fri 21, Mon 24.
    assert CAL.add_school_days(D(2025, 11, 15), 5, "noord") == D(2025, 11, 24)
    # Friday + 5 and Saturday + 5 differ by a whole school day, not by one calendar day.
    assert CAL.add_school_days(D(2025, 11, 14), 5, "noord") == D(2025, 11, 21)


def test_n_zero():
    # n = 0 is day 0 itself: the event day when it is a school day, else the next one.
    assert CAL.add_school_days(D(2025, 11, 18), 0, "noord") == D(2025, 11, 18)
    assert CAL.add_school_days(D(2025, 11, 15), 0, "noord") == D(2025, 11, 17)  # Sat -> Mon
    assert CAL.add_school_days(D(2025, 12, 24), 0, "noord") == D(2026, 1, 5)  # in kerstvakantie


def test_negative_n_and_unknown_region_are_refused():
    with pytest.raises(ValueError):
        CAL.add_school_days(D(2025, 11, 18), -1, "noord")
    with pytest.raises(ValueError, match="vakantieregio"):
        CAL.add_school_days(D(2025, 11, 18), 1, "oost")
    with pytest.raises(ValueError, match="vakantieregio"):
        CAL.is_school_day(D(2025, 11, 18), "Noord")


# -- suspensions --------------------------------------------------------------------------


def test_closed_suspension_pauses_the_clock():
    # Mon 3 Nov 2025 + 5 = Mon 10 Nov (Tue 4, Wed 5, Thu 6, Fri 7, Mon 10).
    assert CAL.add_school_days(D(2025, 11, 3), 5, "noord") == D(2025, 11, 10)
    # Suspended Wed 5 - Thu 6: those two do not count -> Tue 4, Fri 7, Mon 10, Tue 11, Wed 12.
    skip = [(D(2025, 11, 5), D(2025, 11, 6))]
    assert CAL.add_school_days(D(2025, 11, 3), 5, "noord", skip=skip) == D(2025, 11, 12)
    # A suspension over a weekend covers no school day and changes nothing.
    assert CAL.add_school_days(D(2025, 11, 3), 5, "noord", skip=[(D(2025, 11, 8), D(2025, 11, 9))]) == D(2025, 11, 10)
    # Suspended Sun 2 - Tue 4 (covers day 0 and day 1): counting starts on Wed 5 ->
    # Wed 5, Thu 6, Fri 7, Mon 10, Tue 11.
    assert CAL.add_school_days(D(2025, 11, 3), 5, "noord", skip=[(D(2025, 11, 2), D(2025, 11, 4))]) == D(2025, 11, 11)
    # Overlapping suspensions count each school day once: 5-6 and 6-7 Nov skip Wed, Thu, Fri
    # -> Tue 4, Mon 10, Tue 11, Wed 12, Thu 13.
    overlapping = [(D(2025, 11, 6), D(2025, 11, 7)), (D(2025, 11, 5), D(2025, 11, 6))]
    assert CAL.add_school_days(D(2025, 11, 3), 5, "noord", skip=overlapping) == D(2025, 11, 13)


def test_open_ended_suspension_raises_clock_paused():
    # Would-be due date Mon 10 Nov; a suspension running since Thu 6 Nov stops the clock
    # after Tue 4 and Wed 5 were counted, so 3 school days remain.
    with pytest.raises(ClockPaused) as info:
        CAL.add_school_days(D(2025, 11, 3), 5, "noord", skip=[(D(2025, 11, 6), None)])
    assert info.value.paused_since == D(2025, 11, 6)
    assert info.value.remaining == 3
    # Starting on the due date itself still pauses it.
    with pytest.raises(ClockPaused):
        CAL.add_school_days(D(2025, 11, 3), 5, "noord", skip=[(D(2025, 11, 10), None)])
    # Starting after the due date does not matter: the clock ran out first.
    assert CAL.add_school_days(D(2025, 11, 3), 5, "noord", skip=[(D(2025, 11, 11), None)]) == D(2025, 11, 10)
    # A closed suspension moves the due date past the open one: paused after all.
    with pytest.raises(ClockPaused):
        CAL.add_school_days(
            D(2025, 11, 3), 5, "noord", skip=[(D(2025, 11, 5), D(2025, 11, 6)), (D(2025, 11, 11), None)]
        )


def test_bad_suspension_is_refused():
    with pytest.raises(ValueError, match="before it starts"):
        CAL.add_school_days(D(2025, 11, 3), 5, "noord", skip=[(D(2025, 11, 6), D(2025, 11, 5))])


# -- counting elapsed school days ---------------------------------------------------------


def test_school_days_between():
    # (Fri 19 Dec 2025, Fri 9 Jan 2026]: the kerstvakantie leaves Mon 5 .. Fri 9 Jan = 5.
    assert CAL.school_days_between(D(2025, 12, 19), D(2026, 1, 9), "noord") == 5
    # (Thu 2 Apr, Thu 9 Apr 2026]: Goede Vrijdag and Tweede Paasdag out -> Tue 7, Wed 8, Thu 9.
    assert CAL.school_days_between(D(2026, 4, 2), D(2026, 4, 9), "midden") == 3
    # (Mon 3, Mon 10 Nov 2025] with Wed 5 - Thu 6 suspended -> Tue 4, Fri 7, Mon 10.
    assert CAL.school_days_between(D(2025, 11, 3), D(2025, 11, 10), "zuid", skip=[(D(2025, 11, 5), D(2025, 11, 6))]) == 3
    # An open-ended suspension since Thu 6 Nov leaves only Tue 4 and Wed 5.
    assert CAL.school_days_between(D(2025, 11, 3), D(2025, 11, 10), "zuid", skip=[(D(2025, 11, 6), None)]) == 2
    # Empty and reversed ranges count nothing.
    assert CAL.school_days_between(D(2025, 11, 10), D(2025, 11, 10), "zuid") == 0
    assert CAL.school_days_between(D(2025, 11, 10), D(2025, 11, 3), "zuid") == 0


def test_holidays_in_explains_the_missing_weekdays():
    assert CAL.holidays_in(D(2026, 4, 1), D(2026, 4, 10), "noord") == [
        (D(2026, 4, 3), "Goede Vrijdag"),
        (D(2026, 4, 6), "Tweede Paasdag"),
    ]
    # Zuid's herfstvakantie week 13-17 Oct 2025 (weekdays only; the weekends are not listed).
    assert CAL.holidays_in(D(2025, 10, 11), D(2025, 10, 19), "zuid") == [
        (D(2025, 10, 13) + timedelta(days=i), "herfstvakantie (regio zuid)") for i in range(5)
    ]
    assert CAL.holidays_in(D(2025, 10, 13), D(2025, 10, 17), "noord") == []


# -- beyond the table ---------------------------------------------------------------------


def test_coverage_and_counting_beyond_it():
    assert CAL.covered_from == D(2025, 8, 1)
    assert CAL.covered_until == D(2029, 7, 31)
    assert CAL.covers(D(2025, 8, 1)) and CAL.covers(D(2029, 7, 31))
    assert not CAL.covers(D(2025, 7, 31))  # 2024-2025 lists only its summer holiday
    assert not CAL.covers(D(2029, 8, 1))
    # But that summer still counts: 1 Aug 2025 lies in every region's zomervakantie.
    assert CAL.reason_not_school_day(D(2025, 8, 1), "midden") == "zomervakantie (regio midden)"
    # 2031 is outside the table: only weekends and public holidays are skipped. Easter 2031
    # is 13 Apr, so Thu 10 Apr + 1 skips Goede Vrijdag (11th), the weekend and Tweede
    # Paasdag (14th) and lands on Tue 15 Apr.
    assert CAL.add_school_days(D(2031, 4, 10), 1, "noord") == D(2031, 4, 15)
    assert not CAL.covers(D(2031, 4, 10))


def test_far_dates_extend_the_precomputed_days():
    # 2000 school days from March 2026 run well past the initial window (to 2032).
    due = CAL.add_school_days(D(2026, 3, 2), 2000, "midden")
    assert CAL.school_days_between(D(2026, 3, 2), due, "midden") == 2000
    # A backdated event before the window works as well: Fri 5 Jan 2018 + 1 = Mon 8 Jan.
    assert CAL.add_school_days(D(2018, 1, 5), 1, "zuid") == D(2018, 1, 8)
    with pytest.raises(ValueError):
        CAL.is_school_day(D(1900, 1, 1), "zuid")


# -- moments and calendar months ----------------------------------------------------------


def test_end_of_day_in_winter_and_summer_time():
    winter = end_of_day(D(2026, 1, 15))  # CET, UTC+1
    assert winter == datetime(2026, 1, 15, 22, 59, 59, tzinfo=timezone.utc)
    summer = end_of_day(D(2026, 7, 15))  # CEST, UTC+2
    assert summer == datetime(2026, 7, 15, 21, 59, 59, tzinfo=timezone.utc)
    assert winter.utcoffset() == timedelta(0)
    # The days the clocks change take the offset of their evening.
    assert end_of_day(D(2026, 3, 29)) == datetime(2026, 3, 29, 21, 59, 59, tzinfo=timezone.utc)
    assert end_of_day(D(2026, 10, 25)) == datetime(2026, 10, 25, 22, 59, 59, tzinfo=timezone.utc)


def test_local_date():
    # 22:30 UTC is 23:30 in winter (same day) but 00:30 the next day in summer.
    assert local_date(datetime(2026, 1, 15, 22, 30, tzinfo=timezone.utc)) == D(2026, 1, 15)
    assert local_date(datetime(2026, 7, 15, 22, 30, tzinfo=timezone.utc)) == D(2026, 7, 16)
    assert local_date(end_of_day(D(2026, 7, 15))) == D(2026, 7, 15)
    with pytest.raises(ValueError):
        local_date(datetime(2026, 7, 15, 22, 30))


def test_add_calendar_months():
    assert add_calendar_months(D(2026, 1, 31), 3) == D(2026, 4, 30)  # April has 30 days
    assert add_calendar_months(D(2027, 11, 30), 3) == D(2028, 2, 29)  # 2028 is a leap year
    assert add_calendar_months(D(2026, 11, 30), 3) == D(2027, 2, 28)  # 2027 is not
    assert add_calendar_months(D(2028, 2, 29), 12) == D(2029, 2, 28)
    assert add_calendar_months(D(2026, 3, 15), 3) == D(2026, 6, 15)


# -- the configuration ---------------------------------------------------------------------


def test_config_loads_every_period_with_a_source():
    table = tomllib.loads((CONFIG / "school_holidays.toml").read_text(encoding="utf-8"))
    rows = table["period"]
    assert len(rows) == len(_shipped_periods()) > 0
    for row in rows:
        assert row["source"].strip(), row
    # Every covered school year has all five holidays in all three regions.
    for year in ("2025-2026", "2026-2027", "2027-2028", "2028-2029"):
        for region in REGIONS:
            names = {r["name"] for r in rows if r["school_year"] == year and r["region"] == region}
            assert names == set(HOLIDAY_NAMES), (year, region)
    assert len(CAL.version) == 12 and int(CAL.version, 16) >= 0


GOOD_ROW = """
[[period]]
school_year = "2025-2026"
name = "kerstvakantie"
region = "noord"
first = 2025-12-20
last = 2026-01-04
source = "test"
"""


def _write_config(path: Path, periods: str) -> Path:
    """A config directory with its own school_holidays.toml; calendar.toml is the shipped one."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "school_holidays.toml").write_text(periods, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "bad_row, message",
    [
        (GOOD_ROW.replace('"noord"', '"oost"'), "unknown region 'oost'"),
        (GOOD_ROW.replace("last = 2026-01-04", "last = 2025-12-01"), "is before first"),
        (GOOD_ROW.replace('source = "test"\n', ""), "missing source"),
        (GOOD_ROW.replace('source = "test"', 'source = "  "'), "missing source"),
        (GOOD_ROW.replace("first = 2025-12-20", 'first = "2025-12-20"'), "must be a TOML date"),
        (GOOD_ROW.replace('"2025-2026"', '"2026-2027"'), "not in school year"),
        (GOOD_ROW.replace("kerstvakantie", "paasvakantie"), "unknown holiday"),
    ],
)
def test_a_bad_row_is_rejected_and_named(tmp_path, bad_row, message):
    # The bad row is the second one; the error must point at it.
    config = _write_config(tmp_path, GOOD_ROW.replace("noord", "zuid") + bad_row)
    with pytest.raises(ValueError, match=message) as info:
        SchoolCalendar.from_config(config)
    assert "period #2" in str(info.value)


def test_overlapping_periods_in_one_region_are_rejected(tmp_path):
    overlapping = GOOD_ROW.replace("kerstvakantie", "herfstvakantie").replace("first = 2025-12-20", "first = 2025-12-13").replace(
        "last = 2026-01-04", "last = 2025-12-21"
    )
    config = _write_config(tmp_path, GOOD_ROW + overlapping)
    with pytest.raises(ValueError, match=r"period #\d .*overlaps .*period #\d") as info:
        SchoolCalendar.from_config(config)
    assert "herfstvakantie" in str(info.value) and "kerstvakantie" in str(info.value)


def test_an_unknown_region_in_extra_free_days_is_rejected(tmp_path):
    config = _write_config(tmp_path, (CONFIG / "school_holidays.toml").read_text(encoding="utf-8"))
    (config / "calendar.toml").write_text(
        'extra_free_days = [{ date = 2026-03-02, regions = ["west"], reason = "test" }]\n', encoding="utf-8"
    )
    with pytest.raises(ValueError, match="extra_free_days #1"):
        SchoolCalendar.from_config(config)


def test_extra_free_day_counts_only_in_its_regions(tmp_path):
    config = _write_config(tmp_path, (CONFIG / "school_holidays.toml").read_text(encoding="utf-8"))
    (config / "calendar.toml").write_text(
        'extra_free_days = [{ date = 2025-11-18, regions = ["zuid"], reason = "studiedag alle scholen" }]\n',
        encoding="utf-8",
    )
    cal = SchoolCalendar.from_config(config)
    # Mon 17 Nov + 1: zuid skips Tue 18 (the extra day) -> Wed 19; noord does not.
    assert cal.add_school_days(D(2025, 11, 17), 1, "zuid") == D(2025, 11, 19)
    assert cal.add_school_days(D(2025, 11, 17), 1, "noord") == D(2025, 11, 18)
    assert cal.reason_not_school_day(D(2025, 11, 18), "zuid") == "studiedag alle scholen"
    assert cal.version != CAL.version


def test_version_changes_when_a_row_changes(tmp_path):
    text = (CONFIG / "school_holidays.toml").read_text(encoding="utf-8")
    same = SchoolCalendar.from_config(_write_config(tmp_path / "same", text))
    assert same.version == CAL.version
    # Move the zuid herfstvakantie 2025 a week: a different table, a different version.
    moved = text.replace("first = 2025-10-11\nlast = 2025-10-19", "first = 2025-10-18\nlast = 2025-10-26", 1)
    assert moved != text
    changed = SchoolCalendar.from_config(_write_config(tmp_path / "changed", moved))
    assert changed.version != CAL.version
    assert changed.add_school_days(D(2025, 10, 10), 5, "zuid") == D(2025, 10, 17)
    # A source is documentation: rewording it does not invalidate stored deadlines.
    reworded = text.replace('source = "', 'source = "see: ', 1)
    assert SchoolCalendar.from_config(_write_config(tmp_path / "reworded", reworded)).version == CAL.version


# -- property: bisect arithmetic == a naive day-by-day walk --------------------------------


def _naive_add(cal: SchoolCalendar, start: date, n: int, region: str, skip) -> date:
    closed = [(a, b) for a, b in skip if b is not None]
    open_starts = [a for a, b in skip if b is None]
    day = start
    while not cal.is_school_day(day, region):
        day += timedelta(days=1)
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if cal.is_school_day(day, region) and not any(a <= day <= b for a, b in closed):
            counted += 1
    if open_starts and min(open_starts) <= day:
        raise ClockPaused(min(open_starts), -1)
    return day


_dates = st.dates(min_value=D(2023, 6, 1), max_value=D(2033, 12, 31))
_closed = st.tuples(_dates, st.integers(min_value=0, max_value=60)).map(lambda t: (t[0], t[0] + timedelta(days=t[1])))
_open = _dates.map(lambda a: (a, None))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=_dates,
    n=st.integers(min_value=0, max_value=120),
    region=st.sampled_from(REGIONS),
    skip=st.lists(st.one_of(_closed, _closed, _closed, _open), max_size=4),
)
def test_add_school_days_matches_a_naive_walk(start, n, region, skip):
    try:
        expected = _naive_add(CAL, start, n, region, skip)
    except ClockPaused as naive:
        with pytest.raises(ClockPaused) as fast:
            CAL.add_school_days(start, n, region, skip=skip)
        assert fast.value.paused_since == naive.paused_since
        return
    assert CAL.add_school_days(start, n, region, skip=skip) == expected
    # And counting back gives n again, measured from day 0.
    day0 = CAL.add_school_days(start, 0, region)
    assert CAL.school_days_between(day0, expected, region, skip=[s for s in skip if s[1] is not None]) == n


@settings(max_examples=200, deadline=None)
@given(start=_dates, region=st.sampled_from(REGIONS))
def test_is_school_day_agrees_with_the_reason(start, region):
    assert CAL.is_school_day(start, region) == (CAL.reason_not_school_day(start, region) is None)
