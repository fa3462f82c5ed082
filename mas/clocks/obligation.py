"""A youth's obligation by age: leerplicht, kwalificatieplicht, RMC (pure date code).

The rules (Leerplichtwet 1969, art. 1, 3, 4a; RMC: art. 8 WEB / Doorstroompunt):

- leerplicht from the first school day of the month after the month of the 5th birthday,
  until the end of the school year (1 August - 31 July) in which the youth turns 16, or
  earlier after 12 full school years (when the years of schooling are recorded);
- kwalificatieplicht from the day after, until the 18th birthday or the day a startkwalificatie
  (havo, vwo, mbo-2+) is obtained;
- RMC / Doorstroompunt from the 18th until the 23rd birthday, for a youth without a
  startkwalificatie.

A youth born on 29 February reaches an age in a common year on 1 March (Dutch law counts the
day after 28 February); `birthday` says so once.

"First school day": with a calendar (`is_school_day`) the first school day of that month in the
youth's region (in August usually after the summer holiday); without one, or when the month
lies outside the holiday table, the first weekday.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

LEERPLICHT = "leerplicht"
KWALIFICATIEPLICHT = "kwalificatieplicht"
RMC = "rmc"
NONE = "geen"

LABELS = {
    LEERPLICHT: "Leerplicht",
    KWALIFICATIEPLICHT: "Kwalificatieplicht",
    RMC: "RMC / Doorstroompunt (18-23 jaar zonder startkwalificatie)",
    NONE: "Geen leer- of kwalificatieplicht",
}

SCHOOL_YEARS_FOR_LEERPLICHT = 12


@dataclass(frozen=True)
class Period:
    """One obligation from `first_on` up to and including `last_on`, and why it ends."""

    kind: str
    first_on: date
    last_on: date
    ends_because: str

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    def holds_on(self, day: date) -> bool:
        return self.first_on <= day <= self.last_on


@dataclass(frozen=True)
class ObligationToday:
    """The obligation on one day, and the next change (None: nothing follows)."""

    day: date
    current: Period | None
    next: Period | None
    changes_on: date | None  # the first day the obligation is different
    ended: Period | None = None  # without a current one: the last that ended before the day (and why)

    @property
    def kind(self) -> str:
        return self.current.kind if self.current else NONE

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    @property
    def is_leerplicht_age(self) -> bool:
        """Leerplicht or kwalificatieplicht: the ages the vangnet checks."""
        return self.kind in (LEERPLICHT, KWALIFICATIEPLICHT)


def birthday(birth_on: date, years: int) -> date:
    """The day a youth reaches `years`; 29 February reaches it on 1 March in a common year."""
    year = birth_on.year + years
    try:
        return birth_on.replace(year=year)
    except ValueError:  # 29 February in a common year
        return date(year, 3, 1)


def age_on(birth_on: date, day: date) -> int:
    years = day.year - birth_on.year
    return years if birthday(birth_on, years) <= day else years - 1


def school_year_start(day: date) -> int:
    """The year a school year (1 August - 31 July) containing `day` began."""
    return day.year if day.month >= 8 else day.year - 1


def school_year_end(day: date) -> date:
    """31 July of the school year containing `day`."""
    return date(school_year_start(day) + 1, 7, 31)


def _first_school_day(month_start: date, is_school_day: Callable[[date], bool] | None) -> date:
    day = month_start
    while day.month == month_start.month:
        if is_school_day is not None:
            try:
                if is_school_day(day):
                    return day
            except (KeyError, ValueError):  # outside the holiday table: weekdays only
                is_school_day = None
                continue
        elif day.weekday() < 5:
            return day
        day += timedelta(days=1)
    return month_start  # a month without a school day: the obligation runs from its first day


def leerplicht_first_on(birth_on: date, is_school_day: Callable[[date], bool] | None = None) -> date:
    fifth = birthday(birth_on, 5)
    month_after = date(fifth.year + (fifth.month == 12), fifth.month % 12 + 1, 1)
    return _first_school_day(month_after, is_school_day)


def leerplicht_last_on(birth_on: date, *, school_years_completed: int | None = None,
                       as_of: date | None = None) -> tuple[date, str]:
    """The last day of leerplicht and why: the school year of the 16th birthday ends, or 12 full
    school years are done (`school_years_completed` counted before the school year of `as_of`)."""
    by_age = school_year_end(birthday(birth_on, 16))
    if school_years_completed is not None and as_of is not None:
        remaining = SCHOOL_YEARS_FOR_LEERPLICHT - school_years_completed
        by_years = date(school_year_start(as_of) + remaining, 7, 31)
        if by_years < by_age:
            return by_years, "12 volledige schooljaren"
    return by_age, "einde van het schooljaar waarin de jongere 16 wordt"


def periods(birth_on: date, *, startkwalificatie_on: date | None = None, school_years_completed: int | None = None,
            as_of: date | None = None, is_school_day: Callable[[date], bool] | None = None) -> list[Period]:
    """The youth's obligations in order (empty periods left out)."""
    found = []
    lp_first = leerplicht_first_on(birth_on, is_school_day)
    lp_last, lp_why = leerplicht_last_on(birth_on, school_years_completed=school_years_completed, as_of=as_of)
    if lp_last >= lp_first:
        found.append(Period(LEERPLICHT, lp_first, lp_last, lp_why))
    eighteen, twentythree = birthday(birth_on, 18), birthday(birth_on, 23)
    kq_last, kq_why = eighteen - timedelta(days=1), "18 jaar"
    if startkwalificatie_on is not None and startkwalificatie_on <= kq_last:
        kq_last, kq_why = startkwalificatie_on - timedelta(days=1), "startkwalificatie behaald"
    if kq_last > lp_last:
        found.append(Period(KWALIFICATIEPLICHT, lp_last + timedelta(days=1), kq_last, kq_why))
    if startkwalificatie_on is None or startkwalificatie_on > eighteen:
        rmc_last, rmc_why = twentythree - timedelta(days=1), "23 jaar"
        if startkwalificatie_on is not None and startkwalificatie_on <= rmc_last:
            rmc_last, rmc_why = startkwalificatie_on - timedelta(days=1), "startkwalificatie behaald"
        found.append(Period(RMC, eighteen, rmc_last, rmc_why))
    return found


def obligation_on(day: date, birth_on: date, **facts) -> ObligationToday:
    """The obligation on `day` and when it changes next (see `periods` for `facts`)."""
    found = periods(birth_on, **facts)
    current = next((p for p in found if p.holds_on(day)), None)
    later = [p for p in found if p.first_on > day]
    following = later[0] if later else None
    if current is not None:
        changes_on = current.last_on + timedelta(days=1)
        following = following if following is not None and following.first_on == changes_on else None
    else:
        changes_on = following.first_on if following else None
    before = [p for p in found if p.last_on < day]
    ended = before[-1] if before and current is None else None
    return ObligationToday(day, current, following, changes_on, ended)


def in_age_bounds(cutoff: date, is_school_day: Callable[[date], bool] | None = None) -> tuple[date, date]:
    """The birth dates of leerplicht or kwalificatieplicht age on `cutoff` (for a youth without a
    startkwalificatie): born after the first and on or before the second. Found by stepping over
    the few days around each edge with the rules above, so 29 February needs no rule of its own."""
    oldest = birthday(cutoff, -18) - timedelta(days=3)
    while birthday(oldest, 18) <= cutoff:  # still 18 on the cutoff: too old
        oldest += timedelta(days=1)
    youngest = birthday(cutoff, -5) + timedelta(days=3)
    while leerplicht_first_on(youngest, is_school_day) > cutoff:  # leerplicht not begun yet
        youngest -= timedelta(days=1)
    return oldest - timedelta(days=1), youngest
