"""Compute deadlines: when a clock ends, and from what, so the UI can say why.

Pure functions of (rule, start, calendar, suspensions): the same inputs always give the same
date, which is what lets `mas deadlines recompute` move only what really changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from mas.clocks.calendar import ClockPaused, add_calendar_months
from mas.context import ServiceContext
from mas.dates import end_of_day

Interval = tuple[date, date | None]

# Rules that count school days, and so pause during a suspension.
SCHOOL_DAY_RULES = ("school_days", "planned_start", "lrv")
# Rules recomputed from settings + calendar; "fixed" (a date a person chose) never is.
COMPUTED_RULES = (*SCHOOL_DAY_RULES, "calendar_months", "thuiszitterspact")


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
def _school_day_due(cal, start: date, n: int, region: str, suspensions: tuple) -> date | None:
    """Pure, so cached: every case opened on one day in one region shares the answer."""
    try:
        return cal.add_school_days(start, n, region, skip=suspensions)
    except ClockPaused:
        return None


@lru_cache(maxsize=4096)
def _month_due(start: date, months: int) -> date:
    return add_calendar_months(start, months)


def _school_days(ctx: ServiceContext, kind: str, rule: str, start: date, n: int, region: str,
                 suspensions: Sequence[Interval], extra: dict | None = None) -> Computed:
    cal = ctx.calendar
    inputs = {"rule": rule, "start": start.isoformat(), "n": n, "region": region, "calendar": cal.version}
    if suspensions:
        inputs["suspensions"] = _suspension_inputs(suspensions)
    if extra:
        inputs.update(extra)
    due_on = _school_day_due(cal, start, n, region, tuple(suspensions))
    if due_on is None:
        inputs["paused"] = True
        return Computed(kind, start, None, rule, inputs)
    inputs["due_on"] = due_on.isoformat()
    if not (cal.covers(start) and cal.covers(due_on)):
        inputs["uncovered"] = True  # school holidays unknown past the table: weekends and public holidays only
    return Computed(kind, start, end_of_day(due_on), rule, inputs)


def _months(ctx: ServiceContext, kind: str, rule: str, start: date, months: int) -> Computed:
    due_on = _month_due(start, months)
    inputs = {"rule": rule, "start": start.isoformat(), "months": months, "due_on": due_on.isoformat()}
    return Computed(kind, start, end_of_day(due_on), rule, inputs)


def state_clock(ctx: ServiceContext, state: str, entered_on: date, region: str,
                suspensions: Sequence[Interval] = (), maatwerkplan: dict | None = None) -> Computed | None:
    spec = ctx.settings.clocks.states.get(state)
    if spec is None:
        return None
    if spec.rule == "school_days":
        return _school_days(ctx, state, "school_days", entered_on, spec.amount, region, suspensions)
    if spec.rule == "calendar_months":
        return _months(ctx, state, "calendar_months", entered_on, spec.amount)
    planned = (maatwerkplan or {}).get("planned_start_on")
    start = date.fromisoformat(planned) if planned else entered_on
    return _school_days(ctx, state, "planned_start", start, spec.amount, region, suspensions,
                        {"entered_on": entered_on.isoformat()})


def pact_clock(ctx: ServiceContext, home_since: date) -> Computed:
    """Thuiszitterspact: calendar months, never paused, never waits for a holiday."""
    return _months(ctx, "thuiszitterspact", "thuiszitterspact", home_since, ctx.settings.clocks.thuiszitterspact_months)


def lrv_clock(ctx: ServiceContext, first_absent_on: date, region: str, suspensions: Sequence[Interval] = ()) -> Computed:
    return _school_days(ctx, "lrv", "lrv", first_absent_on, ctx.settings.clocks.lrv_school_days, region, suspensions)


def fixed_clock(kind: str, started_on: date, due_at: datetime, why: str, **inputs) -> Computed:
    """A due moment a person chose (a step's due date, an extension)."""
    return Computed(kind, started_on, due_at, "fixed", {"rule": "fixed", "why": why, "due_at": due_at.isoformat(), **inputs})


def recompute(ctx: ServiceContext, kind: str, rule: str, inputs: dict, started_on: date, region: str,
              suspensions: Sequence[Interval], maatwerkplan: dict | None) -> Computed | None:
    """The same clock computed afresh from today's settings, calendar and suspensions."""
    if rule == "thuiszitterspact":
        return pact_clock(ctx, started_on)
    if rule == "lrv":
        return lrv_clock(ctx, started_on, region, suspensions)
    if rule in ("school_days", "calendar_months", "planned_start"):
        entered_on = date.fromisoformat(inputs.get("entered_on", started_on.isoformat()))
        return state_clock(ctx, kind, entered_on, region, suspensions, maatwerkplan)
    return None
