"""Compute deadlines: when a clock ends, and from what, so the UI can say why.

Pure functions of (rule, day 0, calendar, suspensions): the same inputs always give the same
moment, which is what lets `mas deadlines recompute` move only what really changed. A
deadline row keeps these inputs (`Computed.inputs`), so it can be explained and recomputed
without knowing how it was first started.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Sequence

from mas.clocks.calendar import ClockPaused, SchoolCalendar, add_calendar_months
from mas.dates import end_of_day
from mas.settings import ClockRule

Interval = tuple[date, date | None]

SCHOOL_DAYS = "school_days"
CALENDAR_MONTHS = "calendar_months"
FIXED = "fixed"
# Rules that count school days, and so pause during a suspension.
SCHOOL_DAY_RULES = (SCHOOL_DAYS,)
# Rules recomputed from settings + calendar; "fixed" (a moment a person chose) never is.
COMPUTED_RULES = (SCHOOL_DAYS, CALENDAR_MONTHS)


@dataclass(frozen=True)
class Computed:
    kind: str
    started_on: date
    due_at: datetime | None  # None: paused by an open-ended suspension
    rule: str
    inputs: dict

    def row(self, case_id: int, step_id: int | None = None) -> dict:
        return {
            "case_id": case_id,
            "step_id": step_id,
            "kind": self.kind,
            "started_on": self.started_on,
            "due_at": self.due_at,
            "rule": self.rule,
            "inputs": self.inputs,
        }


def _suspension_inputs(suspensions: Sequence[Interval]) -> list:
    return [[a.isoformat(), b.isoformat() if b else None] for a, b in suspensions]


@lru_cache(maxsize=8192)
def _school_day_due(cal: SchoolCalendar, start: date, n: int, region: str, suspensions: tuple) -> date | None:
    """Pure, so cached: every case opened on one day in one region shares the answer."""
    try:
        return cal.add_school_days(start, n, region, skip=suspensions)
    except ClockPaused:
        return None


@lru_cache(maxsize=4096)
def _month_due(start: date, months: int) -> date:
    return add_calendar_months(start, months)


def compute(cal: SchoolCalendar, rule: ClockRule, start: date, region: str, suspensions: Sequence[Interval] = (),
            origin: dict | None = None) -> Computed:
    """The clock `rule.kind` counted from day 0 = `start`.

    `origin` says where day 0 came from (kept in the inputs for the explanation and for
    recompute): {"anchor": a field name or "entered", "entered_on": …, "trigger": …}.
    """
    inputs = {"rule": rule.unit, "start": start.isoformat(), **(origin or {})}
    if rule.unit == CALENDAR_MONTHS:
        due_on = _month_due(start, rule.amount)
        inputs.update(months=rule.amount, due_on=due_on.isoformat())
        return Computed(rule.kind, start, end_of_day(due_on), rule.unit, inputs)
    inputs.update(n=rule.amount, region=region, calendar=cal.version)
    if suspensions:
        inputs["suspensions"] = _suspension_inputs(suspensions)
    due_on = _school_day_due(cal, start, rule.amount, region, tuple(suspensions))
    if due_on is None:
        inputs["paused"] = True
        return Computed(rule.kind, start, None, rule.unit, inputs)
    inputs["due_on"] = due_on.isoformat()
    if not (cal.covers(start) and cal.covers(due_on)):
        inputs["uncovered"] = True  # school holidays unknown past the table: weekends and public holidays only
    return Computed(rule.kind, start, end_of_day(due_on), rule.unit, inputs)


def fixed_clock(kind: str, started_on: date, due_at: datetime, why: str, **inputs) -> Computed:
    """A due moment a person chose (a step's due date, an extension, doorzetten)."""
    return Computed(kind, started_on, due_at, FIXED, {"rule": FIXED, "why": why, "due_at": due_at.isoformat(), **inputs})


ORIGIN_KEYS = ("anchor", "entered_on", "trigger", "previous", "corrected_from")


def recompute(cal: SchoolCalendar, rule: ClockRule | None, inputs: dict, started_on: date, region: str,
              suspensions: Sequence[Interval]) -> Computed | None:
    """The same clock computed afresh from today's rule, calendar and suspensions.

    Day 0 and where it came from stay as stored; None when the clock is not computed.
    """
    if rule is None or inputs.get("rule") not in COMPUTED_RULES:
        return None
    start = date.fromisoformat(inputs["start"]) if "start" in inputs else started_on
    origin = {key: inputs[key] for key in ORIGIN_KEYS if key in inputs}
    return compute(cal, rule, start, region, suspensions if rule.unit in SCHOOL_DAY_RULES else (), origin)
