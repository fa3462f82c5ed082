"""School days, end-of-day moments and calendar months: the arithmetic behind every clock.

A school day is Monday to Friday, not a Dutch public holiday, not 5 May (configurable), not
an extra free day and not in a school holiday of the school's vakantieregio. The holiday
table and the extra days live in config/ (school_holidays.toml, calendar.toml) so that a
municipality can correct them without a release; `SchoolCalendar.version` identifies the
exact table a deadline was computed with, so it can be recomputed and explained later.

Counting: the day of the event is day 0 (or, when the event falls on a non-school day, the
next school day is); "N school days" ends on the N-th school day after day 0.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import tomllib
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from dateutil.easter import easter
from dateutil.relativedelta import relativedelta

from mas.settings import config_file

__all__ = [
    "HOLIDAY_NAMES",
    "REGIONS",
    "ClockPaused",
    "ClosedSpan",
    "ExtraFreeDay",
    "HolidayPeriod",
    "SchoolCalendar",
    "add_calendar_months",
]

REGIONS = ("noord", "midden", "zuid")
HOLIDAY_NAMES = ("herfstvakantie", "kerstvakantie", "voorjaarsvakantie", "meivakantie", "zomervakantie")

# Part of the version: bump it when a rule in this module changes which days count, so
# deadlines stored under the old rules are recognisably stale.
RULES_REVISION = 1

# Dates outside this range are typos, not case dates; refusing them keeps the precomputed
# school-day arrays bounded whatever a caller passes in.
MIN_DAY = date(1970, 1, 1)
MAX_DAY = date(2199, 12, 31)
_MIN_ORD = MIN_DAY.toordinal()
_MAX_ORD = MAX_DAY.toordinal()

_SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{4})$")
_PERIOD_KEYS = {"school_year", "name", "region", "first", "last", "source"}
_EXTRA_KEYS = {"date", "regions", "reason"}

Interval = tuple[date, "date | None"]


class ClockPaused(Exception):
    """An open-ended suspension began on or before the due date, so the due date is unknown
    until the suspension ends. `remaining` is the number of school days still to count."""

    def __init__(self, paused_since: date, remaining: int):
        super().__init__(
            f"clock paused since {paused_since.isoformat()}, {remaining} school day(s) still to count"
        )
        self.paused_since = paused_since
        self.remaining = remaining


@dataclass(frozen=True)
class ClosedSpan:
    """Weekdays in a row without school for one reason: a holiday period, or one free day."""

    name: str  # "kerstvakantie", "Goede Vrijdag", an extra free day's reason
    region: str | None  # the vakantieregio, for a school holiday
    first: date
    last: date
    school_days: int  # the weekdays in it, which would otherwise have been school days


@dataclass(frozen=True)
class HolidayPeriod:
    school_year: str  # "2025-2026"
    name: str  # one of HOLIDAY_NAMES
    region: str  # one of REGIONS
    first_on: date  # inclusive
    last_on: date  # inclusive
    source: str


@dataclass(frozen=True)
class ExtraFreeDay:
    day: date
    regions: tuple[str, ...]
    reason: str  # Dutch, shown as the reason the day does not count


@dataclass(frozen=True)
class _Window:
    """School days precomputed over [lo, hi] (ordinals): replaced whole, never mutated,
    so readers need no lock."""

    lo: int
    hi: int
    days: dict[str, list[int]]  # region -> sorted ordinals of its school days
    public: dict[int, str]  # ordinal -> public holiday name (5 May included when configured)


def _weekday(ordinal: int) -> int:
    return (ordinal - 1) % 7  # date.fromordinal(1) is a Monday


def _dutch_title(name: str) -> str:
    # holidays.NL writes "Goede vrijdag"; users know the days as "Goede Vrijdag".
    return " ".join(word[:1].upper() + word[1:] for word in name.split(" "))


def _is_date(value: Any) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _school_year_of(day: date) -> int:
    return day.year if day.month >= 8 else day.year - 1


class SchoolCalendar:
    """School days per vakantieregio. Immutable once built; safe to share between threads."""

    version: str
    covered_from: date
    covered_until: date

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_config(cls, config_dir: Path | str | None = None) -> SchoolCalendar:
        """Read school_holidays.toml and calendar.toml, each from `config_dir` when it has that
        file, else the shipped one; ValueError names the offending row."""
        holidays_path = config_file(config_dir, "school_holidays.toml")
        settings_path = config_file(config_dir, "calendar.toml")
        table, settings = _read_toml(holidays_path), _read_toml(settings_path)

        rows = table.get("period")
        if not isinstance(rows, list) or not rows:
            raise ValueError(f"{holidays_path}: no [[period]] rows")
        periods = [_parse_period(holidays_path, i, row) for i, row in enumerate(rows, 1)]

        unknown = set(settings) - {"timezone", "liberation_day_every_year", "extra_free_days"}
        if unknown:
            raise ValueError(f"{settings_path}: unknown setting(s) {', '.join(sorted(unknown))}")
        tz = settings.get("timezone", "Europe/Amsterdam")
        if tz != "Europe/Amsterdam":
            raise ValueError(f"{settings_path}: timezone must be 'Europe/Amsterdam', not {tz!r}")
        liberation = settings.get("liberation_day_every_year", True)
        if not isinstance(liberation, bool):
            raise ValueError(f"{settings_path}: liberation_day_every_year must be true or false")
        extra_rows = settings.get("extra_free_days", [])
        if not isinstance(extra_rows, list):
            raise ValueError(f"{settings_path}: extra_free_days must be a list of inline tables")
        extras = [_parse_extra(settings_path, i, row) for i, row in enumerate(extra_rows, 1)]

        try:
            return cls(periods, extras, liberation)
        except ValueError as exc:
            raise ValueError(f"{holidays_path}, {settings_path}: {exc}") from None

    def __init__(
        self,
        periods: Sequence[HolidayPeriod],
        extra_free_days: Iterable[ExtraFreeDay | tuple[date, Sequence[str], str]] = (),
        liberation_day_every_year: bool = True,
    ):
        self._periods_all = tuple(periods)
        _validate_periods(self._periods_all)
        self._extras_all = tuple(_coerce_extra(i, e) for i, e in enumerate(extra_free_days, 1))
        self._liberation = bool(liberation_day_every_year)

        by_region: dict[str, list[HolidayPeriod]] = {r: [] for r in REGIONS}
        for p in self._periods_all:
            by_region[p.region].append(p)
        self._periods = {r: sorted(ps, key=lambda p: p.first_on) for r, ps in by_region.items()}
        self._firsts = {r: [p.first_on.toordinal() for p in ps] for r, ps in self._periods.items()}
        self._lasts = {r: [p.last_on.toordinal() for p in ps] for r, ps in self._periods.items()}

        self._extra: dict[str, dict[int, str]] = {r: {} for r in REGIONS}
        for i, e in enumerate(self._extras_all, 1):
            for r in e.regions:
                if e.day.toordinal() in self._extra[r]:
                    raise ValueError(f"extra_free_days #{i} ({e.day.isoformat()}): {r} already has an extra free day then")
                self._extra[r][e.day.toordinal()] = e.reason

        # A school year is covered only when every region has all five holidays: a partial
        # year (such as a previous summer running into August) still counts its rows.
        names: dict[tuple[int, str], set[str]] = {}
        for p in self._periods_all:
            names.setdefault((int(p.school_year[:4]), p.region), set()).add(p.name)
        years = {y for (y, _) in names}
        self._covered_years = frozenset(
            y for y in years if all(names.get((y, r), set()) >= set(HOLIDAY_NAMES) for r in REGIONS)
        )
        if not self._covered_years:
            raise ValueError("no school year lists all five holidays for all three regions")
        self.covered_from = date(min(self._covered_years), 8, 1)
        self.covered_until = date(max(self._covered_years) + 1, 7, 31)

        self._lock = threading.Lock()
        self._window = self._build(
            date(self.covered_from.year - 1, 1, 1).toordinal(),
            date(self.covered_until.year + 3, 12, 31).toordinal(),
        )
        self.version = self._fingerprint()

    def _fingerprint(self) -> str:
        # Sources are left out: they explain a row but never change a date.
        payload = {
            "rules": RULES_REVISION,
            "liberation_day_every_year": self._liberation,
            "periods": sorted(
                [p.school_year, p.name, p.region, p.first_on.isoformat(), p.last_on.isoformat()]
                for p in self._periods_all
            ),
            "extra_free_days": sorted(
                [e.day.isoformat(), sorted(e.regions), e.reason] for e in self._extras_all
            ),
            # The holidays package can change between releases; its days count too.
            "public_holidays": sorted(
                [date.fromordinal(o).isoformat(), name] for o, name in self._window.public.items()
            ),
        }
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]

    # -- precomputation -----------------------------------------------------------------

    def _public_holidays(self, first_year: int, last_year: int) -> dict[int, str]:
        import holidays  # here: a process that never counts a day does not load the package

        years = range(first_year, last_year + 1)
        found = holidays.NL(years=years, language="nl", categories=("public",))
        public = {d.toordinal(): _dutch_title(name) for d, name in found.items()}
        for y in years:
            # Older holidays releases lacked Goede Vrijdag, a day off for every school.
            public.setdefault((easter(y) - timedelta(days=2)).toordinal(), "Goede Vrijdag")
            if self._liberation:
                public[date(y, 5, 5).toordinal()] = "Bevrijdingsdag"
        return public

    def _build(self, lo: int, hi: int) -> _Window:
        window = _Window(lo, hi, {}, self._public_holidays(date.fromordinal(lo).year, date.fromordinal(hi).year))
        for region in REGIONS:
            window.days[region] = [o for o in range(lo, hi + 1) if self._reason_at(window, o, region) is None]
        return window

    def _window_for(self, lo: int, hi: int) -> _Window:
        """The current window, grown (with a year of slack) when [lo, hi] falls outside it."""
        window = self._window
        if window.lo <= lo and hi <= window.hi:
            return window
        if lo < _MIN_ORD or hi > _MAX_ORD:
            raise ValueError(f"dates must lie between {MIN_DAY.isoformat()} and {MAX_DAY.isoformat()}")
        with self._lock:
            window = self._window
            if window.lo <= lo and hi <= window.hi:
                return window
            new_lo = min(window.lo, max(_MIN_ORD, date(date.fromordinal(lo).year - 1, 1, 1).toordinal()))
            new_hi = max(window.hi, min(_MAX_ORD, date(date.fromordinal(hi).year + 1, 12, 31).toordinal()))
            window = self._build(new_lo, new_hi)
            self._window = window
            return window

    def _period_on(self, region: str, ordinal: int) -> HolidayPeriod | None:
        i = bisect_right(self._firsts[region], ordinal) - 1
        if i >= 0 and self._lasts[region][i] >= ordinal:
            return self._periods[region][i]
        return None

    def _reason_at(self, window: _Window, ordinal: int, region: str) -> str | None:
        if _weekday(ordinal) >= 5:
            return "weekend"
        name = window.public.get(ordinal)
        if name is not None:
            return name
        reason = self._extra[region].get(ordinal)
        if reason is not None:
            return reason
        period = self._period_on(region, ordinal)
        if period is not None:
            return f"{period.name} (regio {region})"
        return None

    # -- queries ------------------------------------------------------------------------

    def covers(self, day: date) -> bool:
        """Whether the holiday table knows the school holidays of `day`'s school year."""
        return _school_year_of(day) in self._covered_years

    def is_working_day(self, day: date) -> bool:
        """Monday-Friday and not a public holiday (school holidays are working days): when e-mail may leave."""
        o = day.toordinal()
        return _weekday(o) < 5 and o not in self._window_for(o, o).public

    def school_day_before(self, day: date, n: int, region: str) -> date:
        """The n-th school day before `day` (n >= 1), for reminders ahead of a due date."""
        _check_region(region)
        o = day.toordinal()
        days = self._window_for(o - 60 - 3 * n, o).days[region]
        i = bisect_left(days, o) - n
        if i < 0:
            raise ValueError("too far before the calendar's window")
        return date.fromordinal(days[i])

    def is_school_day(self, day: date, region: str) -> bool:
        _check_region(region)
        o = day.toordinal()
        days = self._window_for(o, o).days[region]
        i = bisect_left(days, o)
        return i < len(days) and days[i] == o

    def reason_not_school_day(self, day: date, region: str) -> str | None:
        """Why `day` is not a school day, in Dutch ("weekend", "Goede Vrijdag",
        "kerstvakantie (regio noord)", ...); None for a school day."""
        _check_region(region)
        o = day.toordinal()
        return self._reason_at(self._window_for(o, o), o, region)

    def holidays_in(self, first: date, last: date, region: str) -> list[tuple[date, str]]:
        """The weekdays in [first, last] that are not school days, with their reason."""
        _check_region(region)
        lo, hi = first.toordinal(), last.toordinal()
        if hi < lo:
            return []
        window = self._window_for(lo, hi)
        out = []
        for o in range(lo, hi + 1):
            if _weekday(o) < 5:
                reason = self._reason_at(window, o, region)
                if reason is not None:
                    out.append((date.fromordinal(o), reason))
        return out

    def closed_on(self, day: date, region: str) -> tuple[str, str | None] | None:
        """Why `day` is no school day as a person would say it: (name, region of a school
        holiday or None). A school holiday is named before the weekend or a public holiday in
        it ("kerstvakantie" for Saturday 19 December or Christmas Day); None: a school day."""
        _check_region(region)
        o = day.toordinal()
        window = self._window_for(o, o)
        if self._reason_at(window, o, region) is None:
            return None
        period = self._period_on(region, o)
        if period is not None:
            return period.name, region
        return self._reason_at(window, o, region), None

    def closed_spans(self, first: date, last: date, region: str) -> list[ClosedSpan]:
        """The weekdays in [first, last] that are no school days, one span per holiday period
        or free day (weekends are never listed, nor do they split a holiday)."""
        _check_region(region)
        lo, hi = first.toordinal(), last.toordinal()
        if hi < lo:
            return []
        window = self._window_for(lo, hi)
        spans: list[ClosedSpan] = []
        key = None
        for o in range(lo, hi + 1):
            if _weekday(o) >= 5:
                continue
            reason = self._reason_at(window, o, region)
            if reason is None:
                key = None  # a school day ends any span
                continue
            period = self._period_on(region, o)
            here = ("period", period.name, period.first_on) if period is not None else ("day", reason, o)
            day = date.fromordinal(o)
            if here == key:
                last_span = spans[-1]
                spans[-1] = ClosedSpan(last_span.name, last_span.region, last_span.first, day,
                                       last_span.school_days + 1)
            else:
                spans.append(ClosedSpan(period.name if period else reason, region if period else None, day, day, 1))
            key = here
        return spans

    def add_school_days(self, start: date, n: int, region: str, skip: Sequence[Interval] = ()) -> date:
        """The N-th school day after day 0 (see the module docstring); the school days of
        `skip` (suspensions, inclusive, last None while still running) do not count.

        Raises ClockPaused when an open-ended suspension starts on or before the due date."""
        _check_region(region)
        if n < 0:
            raise ValueError(f"n must be zero or more, not {n}")
        closed, paused_since = _split_skips(skip)
        start_o = start.toordinal()
        due = self._add(start_o, n, region, closed)
        if paused_since is not None and paused_since.toordinal() <= due:
            day0 = self._add(start_o, 0, region, ())
            counted = self._count(day0, paused_since.toordinal() - 1, region, closed)
            raise ClockPaused(paused_since, n - counted)
        return date.fromordinal(due)

    def school_days_between(self, after: date, until: date, region: str, skip: Sequence[Interval] = ()) -> int:
        """The number of school days d with after < d <= until, leaving out those in `skip`
        (an open-ended suspension counts as running through `until`)."""
        _check_region(region)
        intervals = [(a, b if b is not None else max(a, until)) for a, b in _checked(skip)]
        return self._count(after.toordinal(), until.toordinal(), region, _merge(intervals))

    # -- arithmetic on the precomputed arrays -------------------------------------------

    def _add(self, start_o: int, n: int, region: str, closed: list[tuple[int, int]]) -> int:
        window = self._window_for(start_o, start_o)
        while True:
            due = _due_index(window.days[region], start_o, n, closed)
            if due is not None:
                return window.days[region][due]
            if window.hi >= _MAX_ORD:
                raise ValueError(f"the due date lies after {MAX_DAY.isoformat()}")
            # About 190 school days a year even with every holiday: grow by what is missing.
            window = self._window_for(start_o, min(_MAX_ORD, window.hi + 366 * (1 + n // 190)))

    def _count(self, after_o: int, until_o: int, region: str, closed: list[tuple[int, int]]) -> int:
        if until_o <= after_o:
            return 0
        days = self._window_for(after_o + 1, until_o).days[region]
        total = bisect_right(days, until_o) - bisect_right(days, after_o)
        for a, b in closed:
            lo, hi = max(a, after_o + 1), min(b, until_o)
            if lo <= hi:
                total -= bisect_right(days, hi) - bisect_left(days, lo)
        return total


def _due_index(days: list[int], start_o: int, n: int, closed: list[tuple[int, int]]) -> int | None:
    """Index in `days` of the due date, or None when the array ends too early."""
    i = bisect_left(days, start_o)  # day 0
    if i >= len(days):
        return None
    remaining = n
    if remaining:
        # Walk the suspensions in order: the free school days before each one count, the
        # ones inside it move day 0's stand-in to its last school day.
        for a, b in closed:
            free = bisect_left(days, a) - i - 1
            if free >= remaining:
                break
            if free > 0:
                remaining -= free
            i = max(i, bisect_right(days, b) - 1)
    due = i + remaining
    return due if due < len(days) else None


def _check_region(region: str) -> None:
    if region not in REGIONS:
        raise ValueError(f"unknown vakantieregio {region!r}; expected one of {', '.join(REGIONS)}")


def _checked(skip: Sequence[Interval]) -> list[Interval]:
    out = []
    for interval in skip:
        first, last = interval
        if not _is_date(first) or (last is not None and not _is_date(last)):
            raise ValueError(f"a suspension is (first date, last date or None), not {interval!r}")
        if last is not None and last < first:
            raise ValueError(f"suspension ends ({last.isoformat()}) before it starts ({first.isoformat()})")
        out.append((first, last))
    return out


def _merge(intervals: Iterable[tuple[date, date]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for a, b in sorted((a.toordinal(), b.toordinal()) for a, b in intervals):
        if merged and a <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _split_skips(skip: Sequence[Interval]) -> tuple[list[tuple[int, int]], date | None]:
    intervals = _checked(skip)
    open_starts = [a for a, b in intervals if b is None]
    closed = _merge((a, b) for a, b in intervals if b is not None)
    return closed, (min(open_starts) if open_starts else None)


# -- validation -------------------------------------------------------------------------


def _label(i: int, p: HolidayPeriod | dict) -> str:
    get = p.get if isinstance(p, dict) else lambda k: getattr(p, k, None)
    return f"school_holidays period #{i} ({get('school_year')} {get('name')} {get('region')})"


def _validate_periods(periods: Sequence[HolidayPeriod]) -> None:
    seen: dict[tuple[str, str, str], int] = {}
    for i, p in enumerate(periods, 1):
        if not isinstance(p, HolidayPeriod):
            raise ValueError(f"school_holidays period #{i}: expected a HolidayPeriod, got {type(p).__name__}")
        label = _label(i, p)
        if p.region not in REGIONS:
            raise ValueError(f"{label}: unknown region {p.region!r}; expected one of {', '.join(REGIONS)}")
        if p.name not in HOLIDAY_NAMES:
            raise ValueError(f"{label}: unknown holiday {p.name!r}; expected one of {', '.join(HOLIDAY_NAMES)}")
        m = _SCHOOL_YEAR.match(p.school_year) if isinstance(p.school_year, str) else None
        if not m or int(m.group(2)) != int(m.group(1)) + 1:
            raise ValueError(f"{label}: school_year must look like '2025-2026'")
        if not _is_date(p.first_on) or not _is_date(p.last_on):
            raise ValueError(f"{label}: first and last must be dates")
        if not isinstance(p.source, str) or not p.source.strip():
            raise ValueError(f"{label}: missing source (name the page the dates come from)")
        if p.last_on < p.first_on:
            raise ValueError(f"{label}: last {p.last_on.isoformat()} is before first {p.first_on.isoformat()}")
        y = int(m.group(1))
        # A holiday starts inside its school year; only the summer runs on into the next.
        if not date(y, 8, 1) <= p.first_on <= date(y + 1, 7, 31) or p.last_on > date(y + 1, 9, 30):
            raise ValueError(f"{label}: {p.first_on.isoformat()}..{p.last_on.isoformat()} is not in school year {p.school_year}")
        key = (p.school_year, p.name, p.region)
        if key in seen:
            raise ValueError(f"{label}: duplicates period #{seen[key]}")
        seen[key] = i

    for region in REGIONS:
        rows = sorted(
            ((i, p) for i, p in enumerate(periods, 1) if p.region == region), key=lambda ip: ip[1].first_on
        )
        for (i, p), (j, q) in zip(rows, rows[1:]):
            if q.first_on <= p.last_on:
                raise ValueError(f"{_label(j, q)}: overlaps {_label(i, p)} in regio {region}")


def _coerce_extra(i: int, item: ExtraFreeDay | tuple) -> ExtraFreeDay:
    if not isinstance(item, ExtraFreeDay):
        try:
            day, regions, reason = item
        except (TypeError, ValueError):
            raise ValueError(f"extra_free_days #{i}: expected (date, regions, reason), got {item!r}") from None
        if isinstance(regions, str):
            regions = (regions,)
        item = ExtraFreeDay(day, tuple(regions), reason)
    label = f"extra_free_days #{i} ({item.day})"
    if not _is_date(item.day):
        raise ValueError(f"{label}: date must be a date")
    if not item.regions or any(r not in REGIONS for r in item.regions):
        raise ValueError(f"{label}: regions must be one or more of {', '.join(REGIONS)}, not {list(item.regions)}")
    if not isinstance(item.reason, str) or not item.reason.strip():
        raise ValueError(f"{label}: missing reason")
    return item


def _read_toml(path: Path) -> dict:
    with open(path, "rb") as fh:
        try:
            return tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: {exc}") from None


def _parse_period(path: Path, i: int, row: Any) -> HolidayPeriod:
    if not isinstance(row, dict):
        raise ValueError(f"{path}: period #{i} is not a table")
    label = f"{path}: {_label(i, row)}"
    missing = sorted(_PERIOD_KEYS - set(row))
    if missing:
        raise ValueError(f"{label}: missing {', '.join(missing)}")
    unknown = sorted(set(row) - _PERIOD_KEYS)
    if unknown:
        raise ValueError(f"{label}: unknown key(s) {', '.join(unknown)}")
    for key in ("first", "last"):
        if not _is_date(row[key]):
            raise ValueError(f"{label}: {key} must be a TOML date such as 2025-12-20 (unquoted)")
    for key in ("school_year", "name", "region", "source"):
        if not isinstance(row[key], str):
            raise ValueError(f"{label}: {key} must be text")
    return HolidayPeriod(row["school_year"], row["name"], row["region"], row["first"], row["last"], row["source"])


def _parse_extra(path: Path, i: int, row: Any) -> ExtraFreeDay:
    if not isinstance(row, dict) or set(row) != _EXTRA_KEYS:
        raise ValueError(f"{path}: extra_free_days #{i} needs exactly date, regions and reason")
    if not isinstance(row["regions"], list):
        raise ValueError(f"{path}: extra_free_days #{i}: regions must be a list")
    try:
        return _coerce_extra(i, (row["date"], row["regions"], row["reason"]))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


# -- moments ----------------------------------------------------------------------------


def add_calendar_months(day: date, months: int) -> date:
    """Calendar-month arithmetic, clipped to the month's end: 31 Jan + 3 months = 30 Apr."""
    return day + relativedelta(months=months)
