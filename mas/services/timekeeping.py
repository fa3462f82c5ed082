"""People acting on clocks: extend a deadline, suspend and resume a case, recompute after
the holiday table or the clock settings changed."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from mas.clocks import rules as clocks
from mas.context import ServiceContext
from mas.dates import local_date
from mas.models import Case, Deadline, Step, Suspension
from mas.services import cases, deadlines, events
from mas.services.access import require_directs
from mas.services.actors import SYSTEM, Actor
from mas.services.cases import get_case, require_open
from mas.services.errors import NotFound, ValidationError
from mas.services.inputs import case_date_bounds, check_texts

_d, _s, _c, _st = Deadline.__table__, Suspension.__table__, Case.__table__, Step.__table__


def _case_for_change(conn, actor, case_id):
    case = get_case(conn, case_id)
    require_directs(actor, case)
    require_open(case)
    return case


def extend_deadline(conn: Connection, ctx: ServiceContext, actor: Actor, deadline_id: int, *, due_at: datetime,
                    reason: str, now: datetime, case_id: int | None = None) -> None:
    """Move an open deadline to a later moment, with a reason: a new generation, ladder re-armed."""
    row = conn.execute(select(_d).where(_d.c.id == deadline_id)).one_or_none()
    if row is None or (case_id is not None and row.case_id != case_id):
        raise NotFound("Termijn niet gevonden.")
    case = _case_for_change(conn, actor, row.case_id)
    errors = {}
    if row.status != "open":
        errors["deadline_id"] = "Deze termijn loopt niet meer."
    kind = ctx.clock(row.kind)
    if kind is not None and not kind.extendable:
        errors["deadline_id"] = f"De termijn '{kind.label}' kan niet worden verlengd."
    latest = case_date_bounds(ctx.settings.input, local_date(now))[1]
    if due_at.tzinfo is None or due_at <= now or (row.due_at is not None and due_at <= row.due_at):
        errors["due_at"] = "De nieuwe datum moet later liggen dan de huidige en in de toekomst."
    elif local_date(due_at) > latest:
        errors["due_at"] = f"Een termijn kan niet verder dan tot {latest.strftime('%d-%m-%Y')} worden verlengd."
    if not (reason or "").strip():
        errors["reason"] = "Geef een reden voor de verlenging."
    check_texts("De termijn kan zo niet worden verlengd.", reason=reason)
    if errors:
        raise ValidationError("De termijn kan zo niet worden verlengd.", errors=errors)
    new = clocks.fixed_clock(row.kind, row.started_on, due_at, "verlengd", reason=reason.strip(),
                             previous_due_at=row.due_at.isoformat() if row.due_at else None, set_by=actor.id)
    change = deadlines.move(conn, ctx, row, new, case.region, now, f"verlengd: {reason.strip()}")
    if row.step_id is not None:
        conn.execute(update(_st).where(_st.c.id == row.step_id).values(due_at=due_at, version=_st.c.version + 1))
    events.record(conn, case.id, actor, "termijn_verlengd", now, reason=reason.strip(), data=change)


def suspend(conn: Connection, ctx: ServiceContext, actor: Actor, case_id: int, *, first_on: date,
            last_on: date | None, reason: str, now: datetime) -> int:
    """Opschorting: the case's school-day clocks pause for the school days it covers."""
    case = _case_for_change(conn, actor, case_id)
    errors = {}
    if last_on is not None and last_on < first_on:
        errors["last_on"] = "De einddatum ligt vóór de begindatum."
    if not (reason or "").strip():
        errors["reason"] = "Geef een reden voor de opschorting."
    overlapping = conn.execute(select(_s.c.first_on, _s.c.last_on).where(_s.c.case_id == case.id)).all()
    for other_first, other_last in overlapping:
        if (other_last is None or first_on <= other_last) and (last_on is None or other_first <= last_on):
            errors["first_on"] = "Deze periode overlapt met een andere opschorting."
    if errors:
        raise ValidationError("De opschorting kan zo niet worden vastgelegd.", errors=errors)
    suspension_id = conn.execute(_s.insert().returning(_s.c.id), {
        "case_id": case.id, "first_on": first_on, "last_on": last_on, "reason": reason.strip(),
        "created_by_id": actor.id, "created_at": now,
    }).scalar_one()
    if not case.has_suspensions:
        conn.execute(update(_c).where(_c.c.id == case.id).values(has_suspensions=True))
    changes = deadlines.recompute_case(conn, ctx, get_case(conn, case.id), now, f"opgeschort: {reason.strip()}",
                                       only_school_days=True)
    events.record(conn, case.id, actor, "opgeschort", now, reason=reason.strip(),
                  data={"suspension_id": suspension_id, "first_on": first_on, "last_on": last_on, "changes": changes})
    return suspension_id


def resume(conn: Connection, ctx: ServiceContext, actor: Actor, suspension_id: int, *, last_on: date,
           now: datetime, case_id: int | None = None) -> None:
    """End a running suspension on `last_on` (its last suspended day)."""
    row = conn.execute(select(_s).where(_s.c.id == suspension_id)).one_or_none()
    if row is None or (case_id is not None and row.case_id != case_id):
        raise NotFound("Opschorting niet gevonden.")
    case = _case_for_change(conn, actor, row.case_id)
    if row.last_on is not None:
        raise ValidationError("Deze opschorting is al beëindigd.", field="suspension_id")
    if last_on < row.first_on or last_on > local_date(now):
        raise ValidationError("De laatste dag moet tussen de begindatum en vandaag liggen.", field="last_on")
    ended = conn.execute(update(_s).where(_s.c.id == row.id, _s.c.last_on.is_(None)).values(last_on=last_on)).rowcount
    if ended != 1:  # ended by someone else at the same moment: once only
        raise ValidationError("Deze opschorting is al beëindigd.", field="suspension_id")
    changes = deadlines.recompute_case(conn, ctx, case, now, "opschorting beëindigd", only_school_days=True)
    events.record(conn, case.id, actor, "hervat", now, data={"suspension_id": row.id, "last_on": last_on, "changes": changes})


def correct_first_day(conn: Connection, ctx: ServiceContext, actor: Actor, case_id: int, *, first_absent_on: date,
                      reason: str, now: datetime, expected_version: int | None) -> list[dict]:
    """Correct the first day without education (it can be backdated further, or set later).

    Every running clock counted from it (the Thuiszitterspact clock, the LRV milestone) moves as
    a new generation, explained, keeping the levels its earlier generation reached: what was sent
    stays in the journal and is not sent again. Returns the clock changes.
    """
    case = _case_for_change(conn, actor, case_id)
    cases.check_version(conn, case, expected_version, actor)
    errors = {}
    if first_absent_on > local_date(now):
        errors["first_absent_on"] = "De eerste dag zonder onderwijs kan niet in de toekomst liggen."
    elif first_absent_on == case.first_absent_on:
        errors["first_absent_on"] = "Dit is al de eerste dag zonder onderwijs van deze zaak."
    if not (reason or "").strip():
        errors["reason"] = "Geef een reden voor de correctie."
    if errors:
        raise ValidationError("De eerste dag zonder onderwijs kan zo niet worden gecorrigeerd.", errors=errors)
    cases.bump(conn, case, {"first_absent_on": first_absent_on, "updated_at": now}, actor)
    why = f"eerste dag zonder onderwijs gecorrigeerd: {reason.strip()}"
    suspensions = deadlines.suspensions_of(conn, case.id) if case.has_suspensions else []
    changes = []
    counted_from_it = {e.clock for e in ctx.workflow.opening_clocks if e.from_field == "first_absent_on"}
    for row in deadlines.open_deadlines(conn, case.id):
        if row.kind not in counted_from_it or (row.inputs or {}).get("anchor", "first_absent_on") != "first_absent_on":
            continue  # a later period (after a relapse) does not start on the first day
        origin = {key: row.inputs[key] for key in clocks.ORIGIN_KEYS if key in (row.inputs or {})}
        origin["corrected_from"] = case.first_absent_on.isoformat()
        new = clocks.recompute(ctx.calendar, ctx.rule_for(row.kind), {**(row.inputs or {}),
                               "start": first_absent_on.isoformat(), **origin}, first_absent_on, case.region,
                               suspensions)
        conn.execute(update(_d).where(_d.c.id == row.id).values(status="closed", closed_at=now, closed_reason=why))
        deadlines.start_generation(conn, ctx, new, case.id, case.region, rung=row.rung)
        changes.append({"kind": row.kind, "old_due_at": row.due_at.isoformat() if row.due_at else None,
                        "new_due_at": new.due_at.isoformat() if new.due_at else None})
    events.record(conn, case.id, actor, "eerste_dag_gecorrigeerd", now, reason=reason.strip(), data={
        "from": case.first_absent_on, "to": first_absent_on, "changes": changes})
    return changes


_CASE_FOR_RECOMPUTE = select(_c.c.id, _c.c.region, _c.c.has_suspensions).where(
    _c.c.id == bindparam("case_id")
)


def recompute_all(db, ctx: ServiceContext, *, now: datetime, reason: str = "kalender of klokinstellingen gewijzigd"):
    """`mas deadlines recompute`: every open computed deadline, one transaction per case.

    Returns the list of changes (each with old and new due moment); each is also an event.
    """
    with db.read() as conn:
        case_ids = list(deadlines.iter_open_case_ids(conn))
    all_changes = []
    for case_id in case_ids:
        with db.begin() as conn:
            case = conn.execute(_CASE_FOR_RECOMPUTE, {"case_id": case_id}).one()
            changes = deadlines.recompute_case(conn, ctx, case, now, reason)
            if changes:
                events.record(conn, case_id, SYSTEM, "termijnen_herberekend", now, reason=reason,
                              data={"changes": changes})
                all_changes.extend({"case_id": case_id, **c} for c in changes)
    return all_changes
