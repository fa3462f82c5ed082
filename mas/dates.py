"""Moments and dates as the Dutch field reads them: Europe/Amsterdam, in Dutch words.

Every time in mas is aware UTC; it becomes a local date or a sentence only here. The real
clock is read once, at the edge (a request, a CLI command, a scheduler job), and passed on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Europe/Amsterdam")
WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december")


def utcnow() -> datetime:
    """The real clock. Read only at the edges and passed on as `now`."""
    return datetime.now(UTC)


def end_of_day(day: date) -> datetime:
    """23:59:59 Dutch time on `day`, as an aware UTC datetime (CET or CEST as that day has)."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=TZ).astimezone(UTC)


def start_of_day(day: date) -> datetime:
    """00:00 Dutch time on `day`, as an aware UTC datetime."""
    return datetime.combine(day, time(0, 0), tzinfo=TZ).astimezone(UTC)


def local_date(moment: datetime) -> date:
    """The Dutch calendar date of an aware moment."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("local_date needs an aware datetime")
    return moment.astimezone(TZ).date()


def as_local(value: str | datetime) -> datetime:
    """An aware moment (or its ISO text) in Dutch time."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: mas keeps aware UTC times only")
    return moment.astimezone(TZ)


def as_date(value: str | date | datetime) -> date:
    """A date, or the Dutch date of an aware moment (or of its ISO text)."""
    if isinstance(value, datetime):
        return as_local(value).date()
    if isinstance(value, date):
        return value
    return as_local(value).date() if "T" in value else date.fromisoformat(value)


def nl_date(value: str | date | datetime) -> str:
    """'dinsdag 3 maart 2026'."""
    day = as_date(value)
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


def nl_short_date(value: str | date | datetime) -> str:
    """'dinsdag 3 maart' (subjects, lists within one year)."""
    day = as_date(value)
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]}"


def nl_day_month(value: str | date | datetime) -> str:
    """'21 december' (a span's ends, within a sentence that gives the year)."""
    day = as_date(value)
    return f"{day.day} {MONTHS[day.month - 1]}"


def nl_month(month: int) -> str:
    return MONTHS[month - 1]


def plural(count: int, one: str, many: str) -> str:
    """'1 dag', '2 dagen', '0 dagen'."""
    return f"{count} {one if count == 1 else many}"


def nl_moment(value: str | datetime) -> str:
    """'dinsdag 10 maart 2026, 23:59' (Europe/Amsterdam)."""
    local = as_local(value)
    return f"{nl_date(local.date())}, {local:%H:%M}"
