"""A youth's obligation by age for the pages, the vangnet and the handover sweep.

The rules are mas.clocks.obligation's; this module adds the school calendar of the youth's
vakantieregio (the first school day of a month) where the holiday table covers the day.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from mas.clocks import obligation as rules
from mas.context import ServiceContext


def school_day_test(ctx: ServiceContext, region: str) -> Callable[[date], bool]:
    """Is `day` a school day in `region`: the holiday table where it covers the day, else Mon-Fri."""
    calendar = ctx.calendar

    def is_school_day(day: date) -> bool:
        return calendar.is_school_day(day, region) if calendar.covers(day) else day.weekday() < 5

    return is_school_day


def recorded_facts(record) -> dict:
    """What a team recorded that ends the obligation early (a youth_record row), as the rules take it."""
    return {"startkwalificatie_on": record.startkwalificatie_on,
            "school_years_completed": record.school_years_completed, "as_of": record.school_years_on}


def obligation_today(ctx: ServiceContext, birth_on: date | None, region: str, today: date,
                     **facts) -> rules.ObligationToday | None:
    """What the case page shows: the obligation today and when it changes (None without a birth
    date); `facts` as `recorded_facts` gives them."""
    if birth_on is None:
        return None
    return rules.obligation_on(today, birth_on, is_school_day=school_day_test(ctx, region), **facts)


def age_bounds(ctx: ServiceContext, cutoff: date, region: str) -> tuple[date, date]:
    """Birth dates of leerplicht or kwalificatieplicht age on `cutoff`: born after, up to and including."""
    return rules.in_age_bounds(cutoff, school_day_test(ctx, region))
