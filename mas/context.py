"""What every service call needs besides the connection: settings, calendar, ladders, workflow.

Built once per process (web app, scheduler, CLI, bench) and passed in; nothing global.
`make_context` refuses to start on a flow, a clock table or a ladder that cannot run.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mas.clocks.ladder import Ladder, Ladders, load_ladders, milestone_ladder
from mas.figures_config import figures_config
from mas.models import Case
from mas.settings import ClockRule, Settings, SettingsError
from mas.workflows import WORKFLOW, ClockKind, Workflow, validate

if TYPE_CHECKING:
    from mas.clocks.calendar import SchoolCalendar


@dataclass(frozen=True, eq=False)
class ServiceContext:
    settings: Settings
    loaded_calendar: SchoolCalendar | None  # None: read config/ on first use (`mas tick` on a quiet night)
    ladders: Ladders
    workflow: Workflow = WORKFLOW
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def calendar(self) -> SchoolCalendar:
        found = self.loaded_calendar
        if found is None:
            found = self.__dict__.get("_calendar")
        if found is None:
            with self._lock:
                found = self.__dict__.get("_calendar")
                if found is None:
                    found = _load_calendar(self.settings)
                    self.__dict__["_calendar"] = found
        return found

    def clock(self, kind: str) -> ClockKind | None:
        return self.workflow.clock(kind)

    def rule_for(self, kind: str) -> ClockRule | None:
        """The configured amount of a computed clock kind (None for a clock a person sets)."""
        return self.settings.clocks.get(kind)

    def ladder_for(self, kind: str) -> Ladder | None:
        """The ladder a clock kind climbs; a milestone's one level; None for an unknown kind."""
        clock = self.workflow.clock(kind)
        if clock is None:
            return None
        found = self.__dict__.setdefault("_ladders", {}).get(kind)
        if found is None:
            found = milestone_ladder(kind) if clock.milestone else self.ladders.get(clock.ladder)
            self.__dict__["_ladders"][kind] = found
        return found


def _column_problems(workflow: Workflow) -> list[str]:
    columns = set(Case.__table__.c.keys())
    problems = []
    for t in workflow.transitions:
        named = ([f.column for f in t.fields if f.column] + [f.dated_column for f in t.fields if f.dated_column]
                 + list(t.clears)) + ([t.record] if t.record else [])
        problems += [f"{t.trigger}: the case has no column {name!r}" for name in named if name not in columns]
    problems += [f"case field {name!r} is no case column" for name in workflow.case_fields if name not in columns]
    return problems


def _load_calendar(settings: Settings) -> SchoolCalendar:
    from mas.clocks.calendar import SchoolCalendar  # here: `mas tick` on a quiet night never loads it

    return SchoolCalendar.from_config(settings.config_dir)


def make_context(settings: Settings, workflow: Workflow = WORKFLOW, *, lazy_calendar: bool = False) -> ServiceContext:
    """Load the calendar and the ladders, and refuse to start on a flow that cannot run.

    `lazy_calendar`: read the school calendar when first needed (a short-lived command that
    may find nothing to do); a long-running process checks it at start-up.
    """
    ladders = load_ladders(settings.config_dir)
    figures_config(settings)  # read (and cached) at start-up, so a broken figures.toml stops it
    validate(workflow, settings.clocks, set(ladders.by_name))
    problems = _column_problems(workflow)
    if problems:
        raise SettingsError("; ".join(problems))
    return ServiceContext(
        settings=settings,
        loaded_calendar=None if lazy_calendar else _load_calendar(settings),
        ladders=ladders,
        workflow=workflow,
    )
