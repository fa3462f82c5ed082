"""The escalation ladders, read from config/escalation.toml, and the moments of their levels.

A deadline's ladder is a list of levels: an optional reminder, then rungs. Every level has a
stable name (`name = "..."` in the config). The deadline row keeps the name of the highest
level reached (`rung`) and the moment the next one falls due (`next_at`), so the sweep only
ever reads an index range of due rows, and a stored level keeps its meaning when levels are
added, removed or reordered: the ladder is looked up by name, never by position.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from mas.dates import TZ, end_of_day, local_date, start_of_day
from mas.settings import SettingsError, config_file
from mas.workflows.roles import LADDER_RECIPIENTS, Recipient

if TYPE_CHECKING:  # only passed in: a command that counts no day never loads the calendar
    from mas.clocks.calendar import SchoolCalendar

LEVEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MILESTONE_LEVEL = "mijlpaal"


@dataclass(frozen=True)
class Level:
    name: str  # stable: stored on deadline.rung and case_event.rung
    number: int  # 1-based position in today's ladder (for display only; never stored)
    is_reminder: bool
    anchor: str  # "due" | "start"
    unit: str  # "school_days" | "weeks" | "days"
    offset: int  # negative: before the anchor
    recipients: tuple[str, ...]
    reminders_before: int = 0  # how many reminder levels precede this one

    @property
    def label(self) -> str:
        return "herinnering" if self.is_reminder else f"escalatie trede {self.rung_number}"

    @property
    def rung_number(self) -> int:
        return self.number if self.is_reminder else self.number - self.reminders_before

    def describe(self) -> dict:
        """What the level is, for comparing today's ladder with the one last applied."""
        return {"name": self.name, "is_reminder": self.is_reminder, "anchor": self.anchor, "unit": self.unit,
                "offset": self.offset, "to": [str(r) for r in self.recipients]}


@dataclass(frozen=True)
class Ladder:
    name: str
    unit: str
    levels: tuple[Level, ...]
    is_milestone: bool = False  # one level, at the due moment: recorded, never sent

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {level.name: n for n, level in enumerate(self.levels)}

    def level(self, name: str | None) -> Level | None:
        position = self._positions.get(name) if name else None
        return None if position is None else self.levels[position]

    def after(self, reached: str | None) -> tuple[Level, ...] | None:
        """The levels still to come after `reached` (None: nothing reached yet); None when
        `reached` is no level of this ladder any more (the caller asks the journal)."""
        if reached is None:
            return self.levels
        position = self._positions.get(reached)
        return None if position is None else self.levels[position + 1:]

    @property
    def first_rung(self) -> Level | None:
        """The first level after the due moment: it reaches whoever must act (the assignee)."""
        return next((level for level in self.levels if not level.is_reminder), None)


def milestone_ladder(name: str) -> Ladder:
    """A milestone's "ladder": reaching the due moment is recorded on the case; nobody is mailed."""
    return Ladder(name, "school_days", (Level(MILESTONE_LEVEL, 1, False, "due", "school_days", 0, ()),),
                  is_milestone=True)


@dataclass(frozen=True)
class SendingWindow:
    start: time
    end: time  # exclusive; "24:00" in the config is the end of the day
    every_day: bool = False  # True: weekends and public holidays too (a test installation)

    def _is_day(self, day: date, calendar: SchoolCalendar) -> bool:
        return self.every_day or calendar.is_working_day(day)

    def is_open(self, now: datetime, calendar: SchoolCalendar) -> bool:
        local = now.astimezone(TZ)
        if not (self.start <= local.time() < self.end):  # first: needs no calendar
            return False
        return self._is_day(local.date(), calendar)

    def next_opening(self, now: datetime, calendar: SchoolCalendar) -> datetime:
        """`now` if e-mail may leave now, else the start of the next working day's window."""
        local = now.astimezone(TZ)
        day = local.date()
        if self._is_day(day, calendar) and self.start <= local.time() < self.end:
            return now
        if not (self._is_day(day, calendar) and local.time() < self.start):
            day += timedelta(days=1)
            while not self._is_day(day, calendar):
                day += timedelta(days=1)
        return datetime.combine(day, self.start, tzinfo=TZ).astimezone(now.tzinfo)

    def working_days_after(self, moment: datetime, days: int, calendar: SchoolCalendar) -> datetime:
        """The same local time `days` working days after `moment` (how long a message may wait)."""
        local = moment.astimezone(TZ)
        day, counted = local.date(), 0
        while counted < days:
            day += timedelta(days=1)
            if calendar.is_working_day(day):
                counted += 1
        return datetime.combine(day, local.time(), tzinfo=TZ).astimezone(UTC)


@dataclass(frozen=True, eq=False)
class Ladders:
    by_name: dict[str, Ladder]
    window: SendingWindow
    fallback: tuple[str, ...] = ()  # whom a rung that reaches nobody goes to, in order

    def get(self, name: str | None) -> Ladder | None:
        return self.by_name.get(name) if name else None

    def moment(self, level: Level, due_at: datetime, started_on: date, region: str, cal: SchoolCalendar) -> datetime:
        return _moment(level, due_at, started_on, region, cal)

    def next_after(self, ladder: Ladder | None, reached: str | None, due_at: datetime | None, started_on: date,
                   region: str, cal: SchoolCalendar, raised: frozenset[str] = frozenset()) -> datetime | None:
        """When the level after `reached` falls due (None: no ladder, paused, or ladder done).

        A `reached` level that today's ladder no longer has: the first level not in `raised`
        (the levels the journal recorded for this deadline).
        """
        if ladder is None or due_at is None:
            return None
        remaining = ladder.after(reached)
        if remaining is None:
            remaining = tuple(level for level in ladder.levels if level.name not in raised)
        return self.moment(remaining[0], due_at, started_on, region, cal) if remaining else None

    def describe(self) -> dict:
        """Today's ladders as data: stored when applied, compared at start-up."""
        return {name: [level.describe() for level in ladder.levels] for name, ladder in sorted(self.by_name.items())}


@lru_cache(maxsize=16384)
def _moment(level: Level, due_at: datetime, started_on: date, region: str, cal: SchoolCalendar) -> datetime:
    """Pure, so cached: due dates cluster on the ends of school days."""
    if level.unit == "school_days":
        due_day = local_date(due_at)
        if level.offset == 0:
            return due_at
        if level.offset < 0:  # a reminder: at the start of that school day
            return start_of_day(cal.school_day_before(due_day, -level.offset, region))
        return end_of_day(cal.add_school_days(due_day, level.offset, region))
    if level.anchor == "start":
        return start_of_day(started_on + timedelta(weeks=level.offset))
    # Days on the Dutch wall clock: 23:59:59 stays 23:59:59 across a change to or from summer time.
    return (due_at.astimezone(TZ) + timedelta(days=level.offset)).astimezone(UTC)


def _level(path: Path, kind: str, unit: str, number: int, spec: dict, reminder: bool, reminders: int) -> Level:
    where = f"{path}: [ladder.{kind}] level {number}"
    name = spec.get("name")
    if not isinstance(name, str) or not LEVEL_NAME.match(name):
        raise SettingsError(f"{where} needs a name (lowercase letters, digits, - or _): the name is what a "
                            "deadline stores, so it must stay the same when levels are added or removed")
    to = tuple(spec.get("to", ()))
    known = [r.value for r in LADDER_RECIPIENTS]
    if not to or any(r not in known for r in to):
        raise SettingsError(f"{where}: 'to' must list some of {', '.join(known)}")
    to = tuple(Recipient(r) for r in to)
    keys = set(spec) - {"to", "name"}
    if unit == "school_days":
        key = "school_days_before" if reminder else "school_days_after"
        if keys != {key}:
            raise SettingsError(f"{where} needs exactly '{key}'")
        offset = -spec[key] if reminder else spec[key]
        anchor, level_unit = "due", "school_days"
    else:
        if keys == {"weeks_after_start"}:
            anchor, level_unit, offset = "start", "weeks", spec["weeks_after_start"]
        elif keys == {"days_after_due"}:
            anchor, level_unit, offset = "due", "days", spec["days_after_due"]
        else:
            raise SettingsError(f"{where} needs weeks_after_start or days_after_due")
    if not isinstance(offset, int) or (reminder and offset >= 0) or (not reminder and offset < 0):
        raise SettingsError(f"{where}: the offset must be a whole number in the right direction")
    return Level(name, number, reminder, anchor, level_unit, offset, to, reminders)


def _window(path: Path, sending: dict) -> SendingWindow:
    def parse(text: str) -> time:
        return time.max if text == "24:00" else time.fromisoformat(text)

    try:
        window = SendingWindow(parse(sending.get("start", "07:00")), parse(sending.get("end", "19:00")),
                               every_day=sending.get("days", "working") == "all")
    except ValueError:
        raise SettingsError(f"{path}: [sending] start and end are times like 07:00") from None
    if window.start >= window.end:
        raise SettingsError(f"{path}: [sending] start must come before end")
    if sending.get("days", "working") not in ("working", "all"):
        raise SettingsError(f"{path}: [sending] days is \"working\" or \"all\"")
    return window


def _fallback(path: Path, data: dict) -> tuple[str, ...]:
    chain = tuple(data.get("fallback", {}).get("chain", [r.value for r in Recipient if r.is_fallback]))
    allowed = [r.value for r in Recipient if r.is_fallback]
    if not chain or any(step not in allowed for step in chain) or len(set(chain)) != len(chain):
        raise SettingsError(f"{path}: [fallback] chain lists some of {', '.join(allowed)}, each once")
    return tuple(Recipient(step) for step in chain)


def load_ladders(config_dir: Path | str | None = None) -> Ladders:
    """escalation.toml from `config_dir` when it has one, else the shipped one."""
    path = config_file(config_dir, "escalation.toml")
    try:
        data = tomllib.loads(path.read_text())
    except (FileNotFoundError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: {exc}") from None
    by_name = {}
    for kind, spec in data.get("ladder", {}).items():
        unit = spec.get("unit")
        if unit not in ("school_days", "calendar"):
            raise SettingsError(f"{path}: [ladder.{kind}] unit must be school_days or calendar")
        levels = []
        if "reminder" in spec:
            levels.append(_level(path, kind, unit, 1, spec["reminder"], True, 1))
        reminders = len(levels)
        for spec_rung in spec.get("rungs", []):
            levels.append(_level(path, kind, unit, len(levels) + 1, spec_rung, False, reminders))
        if not levels:
            raise SettingsError(f"{path}: [ladder.{kind}] has no rungs")
        names = [level.name for level in levels]
        if len(set(names)) != len(names) or MILESTONE_LEVEL in names:
            raise SettingsError(f"{path}: [ladder.{kind}] level names must differ from each other "
                                f"(and from {MILESTONE_LEVEL!r})")
        by_name[kind] = Ladder(kind, unit, tuple(levels))
    return Ladders(by_name, _window(path, data.get("sending", {})), _fallback(path, data))
