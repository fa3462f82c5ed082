"""The figures count per Amsterdam day and month, as their ranges (from Amsterdam midnight) do:
a moment between midnight and 01:00/02:00 Amsterdam time is on the new day, not on the UTC day
before. On SQLite the summer-time rule is written out in SQL; it must agree with zoneinfo."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import bindparam, select

from mas.dates import local_date
from mas.db import UTCDateTime
from mas.services.figures import facts
from mas.services.figures.data import local_day, local_month


def _moments() -> list[datetime]:
    """Every 20 minutes for a day around each change of summer time 2024-2030, around New Year
    and midnight in winter and summer, and whole hours across a year."""
    out = []
    for year in range(2024, 2031):
        for month in (3, 10):
            last_sunday = max(date(year, month, d) for d in range(25, 32) if date(year, month, d).weekday() == 6)
            start = datetime(last_sunday.year, month, last_sunday.day, tzinfo=UTC) - timedelta(hours=12)
            out += [start + timedelta(minutes=20 * k) for k in range(72)]
        out += [datetime(year, 1, 1, tzinfo=UTC) - timedelta(hours=2) + timedelta(minutes=20 * k) for k in range(12)]
    out += [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=h, seconds=59, microseconds=999_999) for h in range(0, 8760, 7)]
    return out


def test_local_day_and_month_agree_with_zoneinfo(db):
    day = select(local_day(bindparam("m", type_=UTCDateTime())), local_month(bindparam("m", type_=UTCDateTime())))
    wrong = []
    with db.read() as conn:
        for moment in _moments():
            got_day, got_month = conn.execute(day, {"m": moment}).one()
            want = local_date(moment)
            if (got_day, got_month) != (want, want.replace(day=1)):
                wrong.append((moment.isoformat(), got_day, got_month, want))
    assert not wrong, wrong[:10]


def test_just_after_midnight_is_the_new_day_in_sql(db):
    """1 March 2026 00:30 Amsterdam is 28 February 23:30 UTC: it counts in March."""
    query = select(local_day(bindparam("m", type_=UTCDateTime())), local_month(bindparam("m", type_=UTCDateTime())))
    with db.read() as conn:
        assert conn.execute(query, {"m": datetime(2026, 2, 28, 23, 30, tzinfo=UTC)}).one() == (
            date(2026, 3, 1), date(2026, 3, 1))
        # 1 June 00:30 in summer time is 31 May 22:30 UTC
        assert conn.execute(query, {"m": datetime(2026, 5, 31, 22, 30, tzinfo=UTC)}).one() == (
            date(2026, 6, 1), date(2026, 6, 1))


def test_a_stay_ended_just_after_midnight_is_a_fact_of_the_new_day(ctx):
    opened = SimpleNamespace(kind="zaak_geopend", from_state=None, to_state="signaal",
                             at=datetime(2026, 5, 1, 8, tzinfo=UTC))
    moved = SimpleNamespace(kind="overgang", from_state="signaal", to_state="gesprek",
                            at=datetime(2026, 5, 31, 22, 30, tzinfo=UTC))  # 1 June 00:30 Amsterdam
    (stay,) = facts._facts(ctx, None, [opened, moved], [])
    assert stay["day"] == date(2026, 6, 1)
    assert stay["key"] == "signaal"
