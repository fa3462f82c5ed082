"""The handover step when a youth's obligation changes: from leerplicht to kwalificatieplicht,
or at 18 (to RMC / Doorstroompunt).

Weeks before (config/mas.toml [obligation]), the casusregisseur of an open case gets the clock
"Overdracht voorbereiden" (the workflow's handover clock, ladder `plichtovergang`), due at the
end of the last day before the change. The scheduler runs `plan_handovers`; it reads the open
cases whose record's birth date lies in the ranges that can change soon (an index range on
youth_record.birth_on, never a scan of all cases), and creates each clock once: the change
decides the generation (1: leerplicht ends; 2: 18th birthday), and the deadline's unique
(case, kind, generation) makes a second sweep, or a second scheduler, create nothing.

The team's recorded startkwalificatie and school years count (mas.services.obligation): a youth
whose startkwalificatie already ended the obligation gets no clock; one whose 12 school years
end leerplicht years before the age rule does get it (the sweep also reads the few records with
school years recorded, by a partial index). When the team records or corrects them (or the
birth date) later, `follow_facts` closes a clock whose change they no longer make and moves one
whose change moved (the levels it reached stay reached).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Connection

from mas.clocks import obligation as rules
from mas.clocks.rules import fixed_clock
from mas.context import ServiceContext
from mas.dates import end_of_day, local_date, nl_date
from mas.db import Database
from mas.models import DEADLINE_OPEN, OPEN_CASE, Case, Deadline, YouthRecord
from mas.services import deadlines, events
from mas.services.actors import SYSTEM, Actor
from mas.services.obligation import recorded_facts, school_day_test

_c, _r, _d = Case.__table__, YouthRecord.__table__, Deadline.__table__
LEERPLICHT_ENDS, TURNS_18 = 1, 2
WHAT = {LEERPLICHT_ENDS: "de leerplicht eindigt; kwalificatieplicht tot 18 jaar of een startkwalificatie",
        TURNS_18: "de jongere wordt 18: geen kwalificatieplicht meer, RMC / Doorstroompunt tot 23 jaar"}


def weeks_before(ctx: ServiceContext) -> int:
    return ctx.settings.handover_weeks_before


def changes(birth_on: date, region_test, **facts) -> dict[int, date]:
    """The days the obligation changes, by generation: leerplicht's end + 1, the 18th birthday.
    A recorded startkwalificatie (`facts`, as mas.services.obligation.recorded_facts) leaves out
    a change it already made moot: no RMC at 18, no kwalificatieplicht after leerplicht."""
    found = {p.kind: p for p in rules.periods(birth_on, is_school_day=region_test, **facts)}
    out = {TURNS_18: rules.birthday(birth_on, 18)} if rules.RMC in found else {}
    if rules.LEERPLICHT in found and rules.KWALIFICATIEPLICHT in found:
        out[LEERPLICHT_ENDS] = found[rules.LEERPLICHT].last_on + timedelta(days=1)
    return out


def _birth_ranges(today: date, horizon: date):
    """Birth dates whose 18th birthday, or whose leerplicht's end by age, falls in (today,
    horizon]; and every record with school years recorded (12 of them may end leerplicht sooner)."""
    eighteen = and_(_r.c.birth_on >= rules.birthday(today, -18) - timedelta(days=1),
                    _r.c.birth_on <= rules.birthday(horizon, -18) + timedelta(days=1))
    ranges = [eighteen, _r.c.school_years_completed.is_not(None)]
    for year in range(rules.school_year_start(today), rules.school_year_start(horizon) + 1):
        # leerplicht ends 31 July (year + 1) for a 16th birthday in school year `year`
        if today < date(year + 1, 8, 1) <= horizon:
            ranges.append(and_(_r.c.birth_on >= date(year - 16, 8, 1) - timedelta(days=1),
                               _r.c.birth_on <= date(year - 15, 7, 31)))
    return or_(*ranges)


def _candidates(conn: Connection, today: date, horizon: date):
    return conn.execute(
        select(_c.c.id, _c.c.region, _r.c.birth_on, _r.c.startkwalificatie_on, _r.c.school_years_completed,
               _r.c.school_years_on).join(_r, _r.c.id == _c.c.record_id)
        .where(_birth_ranges(today, horizon), OPEN_CASE)).all()


def _handover_clock(ctx: ServiceContext, today: date, generation: int, change_on: date):
    due_at = end_of_day(change_on - timedelta(days=1))
    return fixed_clock(ctx.workflow.handover_clock, today, due_at, f"de dag vóór {nl_date(change_on)}: {WHAT[generation]}",
                       change_on=change_on.isoformat(), weeks_before=weeks_before(ctx))


def follow_facts(conn: Connection, ctx: ServiceContext, actor: Actor, case_id: int, region: str, record,
                 now: datetime) -> int:
    """The youth's facts changed (`record`: the youth_record row as it now is): each open handover
    clock of the case whose change they no longer make is closed, one whose change moved to a
    later or earlier day (even one already past: the handover is still to be arranged) is moved
    there: the levels it reached stay reached (each is journalled once per clock), the next one
    falls due by the new day. Returns how many changed."""
    # Locked while they are changed (PostgreSQL: the sweep skips locked rows), so the level read
    # here is the level the clock keeps; SQLite's BEGIN IMMEDIATE already serialises writers.
    rows = conn.execute(select(_d.c.id, _d.c.generation, _d.c.started_on, _d.c.inputs, _d.c.rung).where(
        _d.c.case_id == case_id, _d.c.kind == ctx.workflow.handover_clock, _d.c.status == DEADLINE_OPEN)
        .with_for_update()).all()
    if not rows:
        return 0
    today = local_date(now)
    found = (changes(record.birth_on, school_day_test(ctx, region), **recorded_facts(record))
             if record.birth_on is not None else {})
    ladder = ctx.ladder_for(ctx.workflow.handover_clock)
    changed = 0
    for row in rows:
        was_on, change_on = row.inputs.get("change_on"), found.get(row.generation)
        if change_on is not None and change_on.isoformat() == was_on:
            continue
        if change_on is None:
            conn.execute(update(_d).where(_d.c.id == row.id).values(
                status="closed", closed_at=now, closed_reason="de overgang vervalt door de gegevens van de jongere"))
            events.record(conn, case_id, actor, "overdracht_vervallen", now,
                          data={"change_on": was_on, "what": WHAT.get(row.generation)})
        else:
            moved = _handover_clock(ctx, today, row.generation, change_on)
            next_at = ctx.ladders.next_after(ladder, row.rung, moved.due_at, row.started_on, region, ctx.calendar)
            conn.execute(update(_d).where(_d.c.id == row.id).values(due_at=moved.due_at, inputs=moved.inputs,
                                                                    next_at=next_at))
            events.record(conn, case_id, actor, "overdracht_verplaatst", now,
                          data={"change_on": change_on, "was_on": was_on, "what": WHAT[row.generation],
                                "due_at": moved.due_at})
        changed += 1
    return changed


def plan_handovers(db: Database, ctx: ServiceContext, now: datetime) -> int:
    """Create every handover clock that has come within its weeks; returns how many were made."""
    today = local_date(now)
    horizon = today + timedelta(weeks=weeks_before(ctx))
    made = 0
    with db.begin() as conn:
        for row in _candidates(conn, today, horizon):
            case_id, region = row.id, row.region
            found = changes(row.birth_on, school_day_test(ctx, region), **recorded_facts(row))
            for generation, change_on in sorted(found.items()):
                if not today < change_on <= horizon:
                    continue
                computed = _handover_clock(ctx, today, generation, change_on)
                if deadlines.start_generation_once(conn, ctx, computed, case_id, region, generation):
                    events.record(conn, case_id, SYSTEM, "overdracht_gepland", now,
                                  data={"change_on": change_on, "what": WHAT[generation], "due_at": computed.due_at})
                    made += 1
    return made
