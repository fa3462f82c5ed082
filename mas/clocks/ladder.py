"""The escalation ladders, read from config/escalation.toml, and the moments of their levels.

A deadline's ladder is a list of levels: an optional reminder, then rungs. The deadline row
keeps the highest level reached (`rung`) and the moment the next one falls due (`next_at`),
so the sweep only ever reads an index range of due rows.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

from mas.clocks.calendar import SchoolCalendar
from mas.dates import TZ, end_of_day, local_date, start_of_day
from mas.settings import SettingsError, config_file
from mas.workflows.roles import Recipient


@dataclass(frozen=True)
class Level:
    number: int  # 1-based; a deadline's `rung` column holds the highest number reached
    is_reminder: bool
    anchor: str  # "due" | "start"
    unit: str  # "school_days" | "weeks" | "days"
    offset: int  # negative: before the anchor
    recipients: tuple[str, ...]

    @property
    def label(self) -> str:
        return "herinnering" if self.is_reminder else f"escalatie trede {self.rung_number}"

    reminders_before: int = 0  # how many reminder levels precede this one

    @property
    def rung_number(self) -> int:
        return self.number if self.is_reminder else self.number - self.reminders_before


@dataclass(frozen=True)
class Ladder:
    name: str
    unit: str
    levels: tuple[Level, ...]
    is_milestone: bool = False  # one level, at the due moment: recorded, never sent


def milestone_ladder(name: str) -> Ladder:
    """A milestone's "ladder": reaching the due moment is recorded on the case; nobody is mailed."""
    return Ladder(name, "school_days", (Level(1, False, "due", "school_days", 0, ()),), is_milestone=True)


@dataclass(frozen=True)
class SendingWindow:
    start: time
    end: time

    def next_opening(self, now: datetime, calendar: SchoolCalendar) -> datetime:
        """`now` if e-mail may leave now, else the start of the next working day's window."""
        local = now.astimezone(TZ)
        day = local.date()
        if calendar.is_working_day(day) and self.start <= local.time() < self.end:
            return now
        if not (calendar.is_working_day(day) and local.time() < self.start):
            day += timedelta(days=1)
            while not calendar.is_working_day(day):
                day += timedelta(days=1)
        return datetime.combine(day, self.start, tzinfo=TZ).astimezone(now.tzinfo)


@dataclass(frozen=True, eq=False)
class Ladders:
    by_name: dict[str, Ladder]
    window: SendingWindow

    def get(self, name: str | None) -> Ladder | None:
        return self.by_name.get(name) if name else None

    def moment(self, level: Level, due_at: datetime, started_on: date, region: str, cal: SchoolCalendar) -> datetime:
        return _moment(level, due_at, started_on, region, cal)

    def next_after(self, ladder: Ladder | None, rung: int, due_at: datetime | None, started_on: date, region: str,
                   cal: SchoolCalendar) -> datetime | None:
        """When the level after `rung` falls due (None: no ladder, paused, or ladder done)."""
        if ladder is None or due_at is None or rung >= len(ladder.levels):
            return None
        return self.moment(ladder.levels[rung], due_at, started_on, region, cal)


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
    return due_at + timedelta(days=level.offset)


def _level(path: Path, kind: str, unit: str, number: int, spec: dict, reminder: bool, reminders: int) -> Level:
    to = tuple(spec.get("to", ()))
    known = [r.value for r in Recipient]
    if not to or any(r not in known for r in to):
        raise SettingsError(f"{path}: [ladder.{kind}] level {number}: 'to' must list some of {', '.join(known)}")
    to = tuple(Recipient(r) for r in to)
    keys = set(spec) - {"to"}
    if unit == "school_days":
        key = "school_days_before" if reminder else "school_days_after"
        if keys != {key}:
            raise SettingsError(f"{path}: [ladder.{kind}] level {number} needs exactly '{key}'")
        offset = -spec[key] if reminder else spec[key]
        anchor, level_unit = "due", "school_days"
    else:
        if keys == {"weeks_after_start"}:
            anchor, level_unit, offset = "start", "weeks", spec["weeks_after_start"]
        elif keys == {"days_after_due"}:
            anchor, level_unit, offset = "due", "days", spec["days_after_due"]
        else:
            raise SettingsError(f"{path}: [ladder.{kind}] level {number} needs weeks_after_start or days_after_due")
    if not isinstance(offset, int) or (reminder and offset >= 0) or (not reminder and offset < 0):
        raise SettingsError(f"{path}: [ladder.{kind}] level {number}: the offset must be a whole number in the right direction")
    return Level(number, reminder, anchor, level_unit, offset, to, reminders)


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
        by_name[kind] = Ladder(kind, unit, tuple(levels))
    sending = data.get("sending", {})
    try:
        window = SendingWindow(time.fromisoformat(sending.get("start", "07:00")), time.fromisoformat(sending.get("end", "19:00")))
    except ValueError:
        raise SettingsError(f"{path}: [sending] start and end are times like 07:00") from None
    if window.start >= window.end:
        raise SettingsError(f"{path}: [sending] start must come before end")
    return Ladders(by_name, window)
