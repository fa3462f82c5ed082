"""Clocks as the services compute and arm them, for the bulk builders of bench/sweep.py and
bench/web.py (setup, never timed).

A bulk builder writes years of history with plain executemany instead of running the
services case by case, so it needs the deadline rows the services would have written: the
same rule (ctx.rule_for), the same day 0 and origin in the inputs (as mas.services.cases
starts a state's clock and the workflow's clock effects), the same ladder (ctx.ladder_for:
a ladder from config/escalation.toml, or a milestone's single level) and the same moments
(ctx.ladders.moment). Everything comes from the ServiceContext and the workflow's data.
"""

from __future__ import annotations

from datetime import date, datetime

from mas.clocks import rules


def state_clock(ctx, state: str, entered_on: date, region: str, data: dict | None = None,
                trigger: str = "opened") -> rules.Computed | None:
    """The clock a case starts on entering `state` (None if the state has none): day 0 is the
    day it was entered, or the date its kind's start field names in the transition's data."""
    kind = ctx.workflow.state_clock(state)
    if kind is None:
        return None
    day_zero = (data or {}).get(kind.start_field) if kind.start_field else None
    origin = {"anchor": kind.start_field if day_zero else "entered", "entered_on": entered_on.isoformat(),
              "trigger": trigger}
    return case_clock(ctx, kind.name, day_zero or entered_on, region, origin)


def case_clock(ctx, kind: str, day_zero: date, region: str, origin: dict) -> rules.Computed:
    """A computed clock of the whole case counted from `day_zero` (no suspensions)."""
    return rules.compute(ctx.calendar, ctx.rule_for(kind), day_zero, region, (), origin)


def opening_clocks(ctx, opened_on: date, first_absent_on: date, region: str) -> list[rules.Computed]:
    """The clocks a new case starts: its first state's, then the workflow's opening clocks."""
    started = [state_clock(ctx, ctx.workflow.initial, opened_on, region)]
    fields = {"first_absent_on": first_absent_on}
    for effect in ctx.workflow.opening_clocks:
        day_zero = fields.get(effect.from_field, opened_on) if effect.from_field else opened_on
        started.append(case_clock(ctx, effect.clock, day_zero, region, {"anchor": effect.from_field or "entered"}))
    return [c for c in started if c is not None]


def step_clock(ctx, assigned_on: date, due_at: datetime, set_by: int | None = None) -> rules.Computed:
    """A step's own due date, as mas.services.steps.assign_step starts it."""
    extra = {} if set_by is None else {"set_by": set_by}
    return rules.fixed_clock(ctx.workflow.step_clock, assigned_on, due_at, "uiterste datum van de stap", **extra)


def levels(ctx, kind: str) -> tuple:
    """The levels a clock kind climbs (a milestone: one, at the due moment), and whether it is a milestone."""
    ladder = ctx.ladder_for(kind)
    if ladder is None:
        return (), False
    return ladder.levels, ladder.is_milestone


def moments(ctx, kind: str, due_at: datetime | None, started_on: date, region: str) -> list[datetime]:
    """When each level of the clock's ladder falls due."""
    if due_at is None:
        return []
    return [ctx.ladders.moment(level, due_at, started_on, region, ctx.calendar) for level in levels(ctx, kind)[0]]


def level_names(ctx) -> dict[str, set[str]]:
    """Per clock kind of the workflow, the names its levels are stored by (deadline.rung, case_event.rung)."""
    return {clock.name: {level.name for level in levels(ctx, clock.name)[0]} for clock in ctx.workflow.clocks}
