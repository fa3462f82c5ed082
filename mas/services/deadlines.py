"""Deadline rows: start a generation, close, extend, suspend/resume, recompute.

A generation is one row. Moving a due date later (extension, suspension, recompute) closes
the row and starts the next generation from rung zero; the old row stays as history.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from mas.clocks.rules import (
    COMPUTED_RULES,
    SCHOOL_DAY_RULES,
    Computed,
    Interval,
    recompute,
)
from mas.context import ServiceContext
from mas.models import DEADLINE_OPEN, Case, Deadline, Suspension
from mas.services.errors import Conflict

_d = Deadline.__table__
_s = Suspension.__table__
_c = Case.__table__

_next_clock_generation = (
    select(func.coalesce(func.max(_d.c.generation), 0) + 1)
    .where(_d.c.case_id == bindparam("g_case_id"), _d.c.kind == bindparam("g_kind"), _d.c.step_id.is_(None))
    .scalar_subquery()
)
_next_step_generation = (
    select(func.coalesce(func.max(_d.c.generation), 0) + 1)
    .where(_d.c.step_id == bindparam("g_step_id"), _d.c.kind == bindparam("g_kind"))
    .scalar_subquery()
)
_INSERT_CLOCK = _d.insert().values(generation=_next_clock_generation)
_INSERT_STEP_CLOCK = _d.insert().values(generation=_next_step_generation)
_INSERT_FIRST = _d.insert().values(generation=1)

_CLOSE_CLOCK = (
    update(_d)
    .where(_d.c.case_id == bindparam("w_case_id"), _d.c.kind == bindparam("w_kind"),
           _d.c.step_id.is_(None), _d.c.status == DEADLINE_OPEN)
    .values(status=bindparam("status"), closed_at=bindparam("closed_at"), closed_reason=bindparam("closed_reason"))
)
_STOP_CLOCKS = (
    update(_d)
    .where(_d.c.case_id == bindparam("w_case_id"), _d.c.kind.in_(bindparam("w_kinds", expanding=True)),
           _d.c.step_id.is_(None), _d.c.status == DEADLINE_OPEN)
    .values(status="stopped", closed_at=bindparam("closed_at"), closed_reason=bindparam("closed_reason"),
            stopped_on=bindparam("stopped_on"))
    .returning(_d.c.kind)
)
_LAST_GENERATION = (
    select(_d.c.started_on, _d.c.stopped_on, _d.c.status).where(
        _d.c.case_id == bindparam("case_id"), _d.c.kind == bindparam("kind"), _d.c.step_id.is_(None))
    .order_by(_d.c.generation.desc()).limit(1)
)
_CLOSE_STEP_CLOCK = (
    update(_d)
    .where(_d.c.step_id == bindparam("w_step_id"), _d.c.status == DEADLINE_OPEN)
    .values(status=bindparam("status"), closed_at=bindparam("closed_at"), closed_reason=bindparam("closed_reason"))
)
_CLOSE_ALL = (
    update(_d)
    .where(_d.c.case_id == bindparam("w_case_id"), _d.c.status == DEADLINE_OPEN)
    .values(status="closed", closed_at=bindparam("closed_at"), closed_reason=bindparam("closed_reason"))
)
_SUSPENSIONS = (
    select(_s.c.first_on, _s.c.last_on).where(_s.c.case_id == bindparam("case_id")).order_by(_s.c.first_on)
)


def _generation_row(ctx: ServiceContext, computed: Computed, case_id: int, region: str, step_id: int | None,
                    organisation_id: int | None, rung: str | None = None) -> dict:
    params = computed.row(case_id, step_id)
    params["organisation_id"] = organisation_id
    params["rung"] = rung
    params["next_at"] = ctx.ladders.next_after(ctx.ladder_for(computed.kind), rung, computed.due_at,
                                               computed.started_on, region, ctx.calendar)
    return params


def start_generation(conn: Connection, ctx: ServiceContext, computed: Computed, case_id: int, region: str,
                     step_id: int | None = None, organisation_id: int | None = None, rung: str | None = None) -> None:
    """Insert the next generation of a clock, its ladder armed after the level named `rung` (None:
    from the start; a corrected clock keeps the level its earlier generation already reached, so
    that level and those before it are not sent twice)."""
    params = _generation_row(ctx, computed, case_id, region, step_id, organisation_id, rung)
    if step_id is None:
        conn.execute(_INSERT_CLOCK, {**params, "g_case_id": case_id, "g_kind": computed.kind})
    else:
        conn.execute(_INSERT_STEP_CLOCK, {**params, "g_step_id": step_id, "g_kind": computed.kind})


def start_generation_once(conn: Connection, ctx: ServiceContext, computed: Computed, case_id: int, region: str,
                          generation: int) -> bool:
    """Insert generation `generation` of a case clock unless it exists (uq_deadline_case_clock_generation):
    a sweep that runs twice, or two schedulers at once, create it once. True when this call did."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    params = {**_generation_row(ctx, computed, case_id, region, None, None), "generation": generation}
    statement = insert(_d).values(params).on_conflict_do_nothing(
        index_elements=["case_id", "kind", "generation"], index_where=_d.c.step_id.is_(None)).returning(_d.c.id)
    return conn.execute(statement).first() is not None


def start_first_generations(conn: Connection, ctx: ServiceContext, started: Iterable[Computed | None], case_id: int,
                            region: str) -> None:
    """The clocks of a case opened in this transaction: each is its clock's first generation."""
    rows = [_generation_row(ctx, c, case_id, region, None, None) for c in started if c is not None]
    if rows:
        conn.execute(_INSERT_FIRST, rows)


def close_clock(conn: Connection, case_id: int, kind: str, now: datetime, reason: str, status: str = "closed") -> int:
    return conn.execute(_CLOSE_CLOCK, {"w_case_id": case_id, "w_kind": kind, "status": status, "closed_at": now,
                                   "closed_reason": reason}).rowcount


def stop_clocks(conn: Connection, case_id: int, kinds: list[str], now: datetime, reason: str,
                stopped_on) -> list[str]:
    """The clocks did their job (the offer started on `stopped_on`): closed as 'stopped', in one
    statement; returns the kinds that were running."""
    return list(conn.execute(_STOP_CLOCKS, {"w_case_id": case_id, "w_kinds": kinds, "closed_at": now,
                                            "closed_reason": reason, "stopped_on": stopped_on}).scalars())


def last_generation(conn: Connection, case_id: int, kind: str):
    """The newest generation of a case clock (running or not), or None."""
    return conn.execute(_LAST_GENERATION, {"case_id": case_id, "kind": kind}).first()


def close_step_clock(conn: Connection, step_id: int, now: datetime, reason: str, status: str = "closed") -> int:
    return conn.execute(_CLOSE_STEP_CLOCK, {"w_step_id": step_id, "status": status, "closed_at": now,
                                        "closed_reason": reason}).rowcount


def close_all(conn: Connection, case_id: int, now: datetime, reason: str) -> int:
    return conn.execute(_CLOSE_ALL, {"w_case_id": case_id, "closed_at": now, "closed_reason": reason}).rowcount


def suspensions_of(conn: Connection, case_id: int) -> list[Interval]:
    return [(r.first_on, r.last_on) for r in conn.execute(_SUSPENSIONS, {"case_id": case_id}).all()]


def open_deadlines(conn: Connection, case_id: int) -> list:
    return list(conn.execute(
        select(_d).where(_d.c.case_id == case_id, _d.c.status == DEADLINE_OPEN).order_by(_d.c.id)
    ))


def move(conn: Connection, ctx: ServiceContext, old, new: Computed, region: str, now: datetime,
         reason: str) -> dict | None:
    """Put `new` in place of the open row `old`; returns the change, or None if nothing moved.

    A due moment that moves later and has not yet passed re-arms the ladder (a new generation
    from rung zero). One that is still overdue keeps the rungs it reached: updated in place.
    """
    if old.due_at == new.due_at:
        if old.inputs != new.inputs:
            conn.execute(update(_d).where(_d.c.id == old.id).values(inputs=new.inputs))
        return None
    change = {
        "deadline_id": old.id, "kind": old.kind, "step_id": old.step_id,
        "old_due_at": old.due_at.isoformat() if old.due_at else None,
        "new_due_at": new.due_at.isoformat() if new.due_at else None,
    }
    still_overdue = new.due_at is not None and new.due_at <= now
    if still_overdue and old.due_at is not None and old.due_at <= now:
        next_at = ctx.ladders.next_after(ctx.ladder_for(old.kind), old.rung, new.due_at, old.started_on, region,
                                         ctx.calendar)
        conn.execute(update(_d).where(_d.c.id == old.id).values(due_at=new.due_at, inputs=new.inputs, next_at=next_at))
        change["in_place"] = True
        return change
    closed = conn.execute(update(_d).where(_d.c.id == old.id, _d.c.status == DEADLINE_OPEN)
                          .values(status="closed", closed_at=now, closed_reason=reason)).rowcount
    if closed != 1:  # moved or closed by someone else since it was read: never two open generations
        raise Conflict("Deze termijn is intussen al gewijzigd; bekijk hem opnieuw.")
    start_generation(conn, ctx, Computed(old.kind, new.started_on, new.due_at, new.rule, new.inputs), old.case_id,
                     region, old.step_id, old.organisation_id)
    return change


def recompute_case(conn: Connection, ctx: ServiceContext, case, now: datetime, reason: str,
                   only_school_days: bool = False) -> list[dict]:
    """Recompute every open computed deadline of one case; return the changes made."""
    suspensions = suspensions_of(conn, case.id) if case.has_suspensions else []
    changes = []
    for row in open_deadlines(conn, case.id):
        if row.rule not in COMPUTED_RULES or (only_school_days and row.rule not in SCHOOL_DAY_RULES):
            continue
        new = recompute(ctx.calendar, ctx.rule_for(row.kind), row.inputs, row.started_on, case.region, suspensions)
        if new is None:
            continue
        change = move(conn, ctx, row, new, case.region, now, reason)
        if change:
            changes.append(change)
    return changes


def earliest_next_at(conn: Connection) -> datetime | None:
    """When the next level of any open clock falls due (what the next sweep would find)."""
    return conn.execute(select(func.min(_d.c.next_at)).where(_d.c.status == DEADLINE_OPEN,
                                                             _d.c.next_at.is_not(None))).scalar_one()


def iter_open_case_ids(conn: Connection, batch: int = 500) -> Iterable[int]:
    """Cases with at least one open computed deadline, in id order (for `mas deadlines recompute`)."""
    last = 0
    while True:
        ids = list(conn.execute(
            select(_d.c.case_id).where(_d.c.status == DEADLINE_OPEN, _d.c.case_id > last)
            .group_by(_d.c.case_id).order_by(_d.c.case_id).limit(batch)
        ).scalars())
        if not ids:
            return
        yield from ids
        last = ids[-1]

