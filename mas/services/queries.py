"""Read models for the pages: the werkvoorraad, a case, a partner's steps.

Each function checks the actor against what it reads (deny by default), logs case reads,
and sends a fixed number of statements however many rows the page shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection

from mas.context import ServiceContext
from mas.dates import local_date
from mas.models import (
    DEADLINE_OPEN,
    OPEN_CASE,
    SIGNAL_PENDING,
    AccessLog,
    Case,
    CaseEvent,
    CaseTransfer,
    Deadline,
    ExtensionRequest,
    Guardian,
    Organisation,
    Signal,
    Step,
    Suspension,
    Team,
    User,
    YouthRecord,
)
from mas.services.access import directs, in_team, may_fire
from mas.services.actors import Actor
from mas.services.audit import log_access
from mas.services.errors import NotFound
from mas.services.obligation import obligation_today, recorded_facts
from mas.workflows import Role
from mas.workflows.roles import TEAM_ROLES

_c, _y, _d, _o, _st, _u, _e, _g, _sig, _sus, _x, _t, _tr = (
    Case.__table__, YouthRecord.__table__, Deadline.__table__, Organisation.__table__, Step.__table__, User.__table__,
    CaseEvent.__table__, Guardian.__table__, Signal.__table__, Suspension.__table__, ExtensionRequest.__table__,
    Team.__table__, CaseTransfer.__table__,
)
_waiting = _sig.alias("waiting")  # the signals waiting for a decision, as a list of their cases
PAGE_SIZE = 50
_RECENT = timedelta(days=14)  # a partner still sees what it finished lately


@dataclass(frozen=True)
class Filters:
    scope: str = "mine"  # mine | team
    state: str | None = None
    school_id: int | None = None
    overdue: bool = False
    q: str | None = None
    page: int = 1


def _nearest_due(ctx: ServiceContext):
    """The case's nearest due moment of a clock someone must act on (a milestone is no task)."""
    milestones = [c.name for c in ctx.workflow.clocks if c.milestone]
    return (select(func.min(_d.c.due_at)).where(_d.c.case_id == _c.c.id, _d.c.status == DEADLINE_OPEN,
                                                _d.c.kind.not_in(milestones)).correlate(_c).scalar_subquery())


def _nearest_kind(ctx: ServiceContext):
    """Which clock that nearest due moment belongs to (the werkvoorraad names it)."""
    milestones = [c.name for c in ctx.workflow.clocks if c.milestone]
    return (select(_d.c.kind).where(_d.c.case_id == _c.c.id, _d.c.status == DEADLINE_OPEN, _d.c.due_at.is_not(None),
                                    _d.c.kind.not_in(milestones))
            .order_by(_d.c.due_at, _d.c.id).limit(1).correlate(_c).scalar_subquery())


def _pact_due(ctx: ServiceContext):
    return (select(func.min(_d.c.due_at)).where(_d.c.case_id == _c.c.id, _d.c.status == DEADLINE_OPEN,
                                                _d.c.kind == ctx.workflow.pact_clock).correlate(_c).scalar_subquery())


def _escalated(ctx: ServiceContext, now: datetime):
    """Open clocks past due that climbed their ladder (a reached milestone is no escalation)."""
    milestones = [c.name for c in ctx.workflow.clocks if c.milestone]
    return (select(func.count()).where(_d.c.case_id == _c.c.id, _d.c.status == DEADLINE_OPEN, _d.c.rung.is_not(None),
                                       _d.c.due_at <= now, _d.c.kind.not_in(milestones))
            .correlate(_c).scalar_subquery())


def _scoped(conn: Connection, ctx: ServiceContext, actor: Actor, filters: Filters, now: datetime,
            status: str = "open") -> tuple[list, str]:
    """The conditions of a team's case list (open, closed or all) and its scope; a search is logged."""
    if actor.role not in TEAM_ROLES or actor.team_id is None:
        raise NotFound("Pagina niet gevonden.")
    scope = "team" if actor.role == Role.COORDINATOR or filters.scope == "team" else "mine"
    where = [_c.c.team_id == actor.team_id]
    if status == "open":
        where.append(OPEN_CASE)  # the partial index's own predicate: ix_case_open_team_regisseur matches
    elif status == "closed":
        where.append(_c.c.closed_at.is_not(None))
    if scope == "mine":
        where.append(_c.c.casusregisseur_id == actor.id)
    if filters.state:
        where.append(_c.c.state == filters.state)
    if filters.school_id:
        where.append(_y.c.school_id == filters.school_id)
    if filters.overdue:
        where.append(_nearest_due(ctx) <= now)
    if filters.q:
        needle = f"%{filters.q.strip().lower()}%"
        where.append(or_(func.lower(_c.c.reference).like(needle), func.lower(_y.c.given_name).like(needle),
                         func.lower(_y.c.family_name).like(needle)))
        log_access(conn, actor, "search", now, basis="team" if scope == "team" else "own_case",
                   detail={"q": filters.q.strip()})
    return where, scope


def werkvoorraad(conn: Connection, ctx: ServiceContext, actor: Actor, filters: Filters, now: datetime) -> dict:
    """Open cases, nearest deadline first: mine, or (coordinator, or asked for) the team's."""
    where, scope = _scoped(conn, ctx, actor, filters, now)
    nearest = _nearest_due(ctx)
    base = _c.join(_y, _y.c.id == _c.c.record_id).outerjoin(_o, _o.c.id == _y.c.school_id)
    counted = base if (filters.school_id or filters.q) else _c  # the youth only matters to those filters
    total = conn.execute(select(func.count()).select_from(counted).where(*where)).scalar_one()
    page = max(1, filters.page)
    rows = conn.execute(
        select(*_list_columns(ctx, now, nearest)).select_from(base).where(*where)
        .order_by(nearest.is_(None), nearest, _c.c.id).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    items = [_list_item(ctx, actor, row, now) for row in rows]
    schools = conn.execute(select(_o.c.id, _o.c.name).where(_o.c.kind == "school").order_by(_o.c.name)).all()
    return {"items": items, "total": total, "page": page, "pages": max(1, -(-total // PAGE_SIZE)), "scope": scope,
            "schools": schools, "may_choose_scope": actor.role == Role.CASUSREGISSEUR,
            "pending_signals": _pending_signals(conn, actor, scope)}


def _pending_signals(conn: Connection, actor: Actor, scope: str) -> list:
    """Signals another team entered for a youth whose open case this team directs: they wait
    for the team's decision (join or return). Only the melding and the sending team show."""
    where = [_sig.c.status == SIGNAL_PENDING, _c.c.team_id == actor.team_id,
             # The cases come from the few rows of ix_signal_pending: SQLite plans without statistics
             # and would otherwise walk ix_case_team_id, every case the team ever had.
             _c.c.id.in_(select(_waiting.c.case_id).where(_waiting.c.status == SIGNAL_PENDING))]
    if scope == "mine":
        where.append(_c.c.casusregisseur_id == actor.id)
    return conn.execute(
        select(_sig.c.id, _sig.c.kind, _sig.c.source, _sig.c.received_at, _c.c.reference, _t.c.name.label("from_team"))
        .select_from(_sig.join(_c, _c.c.id == _sig.c.case_id).join(_t, _t.c.id == _sig.c.team_id))
        .where(*where).order_by(_sig.c.received_at, _sig.c.id)
    ).all()


def _list_columns(ctx: ServiceContext, now: datetime, nearest=None) -> tuple:
    nearest = _nearest_due(ctx) if nearest is None else nearest
    return (_c.c.id, _c.c.reference, _c.c.state, _c.c.casusregisseur_id, _c.c.region, _y.c.given_name,
            _y.c.family_name, _o.c.name.label("school"), nearest.label("nearest_due"),
            _nearest_kind(ctx).label("nearest_kind"), _pact_due(ctx).label("pact_due"),
            _escalated(ctx, now).label("escalated"))


def _list_item(ctx: ServiceContext, actor: Actor, row, now: datetime) -> dict:
    """One line of a case list: the nearest deadline in school days, the pact in calendar days."""
    today = local_date(now)
    school_days_left = None
    if row.nearest_due is not None:
        due_day = local_date(row.nearest_due)
        school_days_left = (ctx.calendar.school_days_between(today, due_day, row.region) if due_day >= today
                            else -ctx.calendar.school_days_between(due_day, today, row.region))
    return {
        "id": row.id, "reference": row.reference, "state": row.state,
        "name": " ".join(n for n in (row.given_name, row.family_name) if n) or None,
        "school": row.school, "nearest_due": row.nearest_due, "school_days_left": school_days_left,
        "nearest_kind": row.nearest_kind,
        "nearest_what": ctx.workflow.clock_label(row.nearest_kind) if row.nearest_kind else None,
        "is_overdue": row.nearest_due is not None and row.nearest_due <= now,
        "pact_days_left": (local_date(row.pact_due) - today).days if row.pact_due else None,
        "is_escalated": bool(row.escalated), "is_mine": row.casusregisseur_id == actor.id,
    }


def case_index(conn: Connection, ctx: ServiceContext, actor: Actor, filters: Filters, now: datetime, *,
               status: str = "open", after_id: int = 0, limit: int = PAGE_SIZE) -> tuple[list[dict], int | None]:
    """A team's cases in the order they were opened, a page after the case `after_id`: the
    JSON API's list, scoped like the werkvoorraad. Returns the items and the id to continue
    after (None on the last page)."""
    where, _scope = _scoped(conn, ctx, actor, filters, now, status)
    base = _c.join(_y, _y.c.id == _c.c.record_id).outerjoin(_o, _o.c.id == _y.c.school_id)
    rows = conn.execute(
        select(*_list_columns(ctx, now), _c.c.opened_at, _c.c.closed_at).select_from(base)
        .where(*where, _c.c.id > after_id).order_by(_c.c.id).limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [{**_list_item(ctx, actor, row, now), "opened_at": row.opened_at, "closed_at": row.closed_at}
             for row in rows]
    return items, (rows[-1].id if more else None)


def read_basis(actor: Actor, case) -> str | None:
    """On what basis this actor may read the whole case, or None."""
    if actor.role == Role.CASUSREGISSEUR and case.casusregisseur_id == actor.id:
        return "own_case"
    if in_team(actor, case):
        return "team"
    return None


def _transfer_from_team(conn: Connection, actor: Actor, case_id: int):
    """The latest hand-over of this case by the actor's team, if any (its read-only basis)."""
    if actor.role not in TEAM_ROLES or actor.team_id is None:
        return None
    return conn.execute(select(_tr, _t.c.name.label("to_team")).join(_t, _t.c.id == _tr.c.to_team_id)
                        .where(_tr.c.case_id == case_id, _tr.c.from_team_id == actor.team_id)
                        .order_by(_tr.c.id.desc()).limit(1)).one_or_none()


def case_page(conn: Connection, ctx: ServiceContext, actor: Actor, reference: str, now: datetime) -> dict:
    case = conn.execute(select(_c).where(_c.c.reference == reference)).one_or_none()
    basis = read_basis(actor, case) if case is not None else None
    if basis is None and case is not None:
        transfer = _transfer_from_team(conn, actor, case.id)
        if transfer is not None:
            log_access(conn, actor, "read_case", now, case_id=case.id, basis="handed_over")
            return _handed_over_page(conn, actor, case, transfer)
    if basis is None:  # the refusal is logged by the caller, outside this rolled-back transaction
        raise NotFound("Zaak niet gevonden.")
    log_access(conn, actor, "read_case", now, case_id=case.id, basis=basis)
    youth = conn.execute(select(_y).where(_y.c.id == case.record_id)).one()
    all_orgs = conn.execute(select(_o).order_by(_o.c.name)).all()
    orgs = {o.id: o for o in all_orgs}  # names for what was recorded, switched off or not
    org_rows = [o for o in all_orgs if o.is_active]  # what may be chosen now
    users = {u.id: u for u in conn.execute(select(_u.c.id, _u.c.name, _u.c.role, _u.c.is_active)
                                           .where(or_(_u.c.team_id == case.team_id, _u.c.organisation_id.is_not(None))))}
    transitions = [t for t in ctx.workflow.transitions_from(case.state) if may_fire(actor, case, t)]
    journal = conn.execute(select(_e).where(_e.c.case_id == case.id).order_by(_e.c.at.desc(), _e.c.id.desc())).all()
    teams = {t.id: t.name for t in conn.execute(select(_t.c.id, _t.c.name).order_by(_t.c.name))}
    signals = conn.execute(select(_sig).where(_sig.c.case_id == case.id).order_by(_sig.c.received_at, _sig.c.id)).all()
    return {
        "obligation": obligation_today(ctx, youth.birth_on, case.region, local_date(now), **recorded_facts(youth)),
        "proposed_first_day": _proposed_first_day(journal, case),
        "case": case, "youth": youth, "basis": basis, "may_direct": directs(actor, case),
        "school": orgs.get(youth.school_id),
        "guardians": conn.execute(select(_g).where(_g.c.record_id == youth.id).order_by(_g.c.id)).all(),
        "signals": [s for s in signals if s.status == "joined"],
        "pending_signals": [s for s in signals if s.status == "pending"],
        "deadlines": conn.execute(select(_d).where(_d.c.case_id == case.id).order_by(_d.c.status != "open", _d.c.due_at,
                                                                                      _d.c.id)).all(),
        "events": journal,
        "steps": conn.execute(select(_st).where(_st.c.case_id == case.id).order_by(_st.c.status != "open", _st.c.due_at)).all(),
        "suspensions": conn.execute(select(_sus).where(_sus.c.case_id == case.id).order_by(_sus.c.first_on)).all(),
        "extension_requests": conn.execute(
            select(_x).join(_st, _st.c.id == _x.c.step_id).where(_st.c.case_id == case.id, _x.c.status == "open")
        ).all(),
        "organisations": org_rows, "orgs": orgs, "users": users, "teams": teams,
        "other_teams": [(team_id, name) for team_id, name in teams.items() if team_id != case.team_id],
        "colleagues": [u for u in users.values()
                       if u.role == Role.CASUSREGISSEUR and u.is_active and u.id != case.casusregisseur_id],
        "transitions": transitions,
        "team": conn.execute(select(_t).where(_t.c.id == case.team_id)).one(),
    }


def _proposed_first_day(journal, case):
    """The earliest first day without education a signal reported since the last correction,
    if it is earlier than the case's: the case page proposes the correction."""
    proposed = None
    for event in journal:  # newest first
        if event.kind == "eerste_dag_gecorrigeerd":
            break
        reported = (event.data or {}).get("earlier_first_absent_on") if event.kind == "signaal_toegevoegd" else None
        if reported:
            day = date.fromisoformat(reported)
            if day < case.first_absent_on and (proposed is None or day < proposed):
                proposed = day
    return proposed


def _handed_over_page(conn: Connection, actor: Actor, case, transfer) -> dict:
    """What a team that handed the case over still reads: what it entered itself, read-only.

    Its own record of the youth, the signals its members entered, and the journal up to and
    including the hand-over; nothing the receiving team wrote since.
    """
    youth = conn.execute(select(_y).where(_y.c.id == transfer.from_record_id)).one()
    school = conn.execute(select(_o).where(_o.c.id == youth.school_id)).one_or_none() if youth.school_id else None
    users = {u.id: u for u in conn.execute(select(_u.c.id, _u.c.name, _u.c.role, _u.c.is_active)
                                           .where(_u.c.team_id == actor.team_id))}
    return {
        "handed_over": True, "case": case, "transfer": transfer, "youth": youth, "school": school, "users": users,
        "guardians": conn.execute(select(_g).where(_g.c.record_id == youth.id).order_by(_g.c.id)).all(),
        "signals": conn.execute(select(_sig).where(_sig.c.case_id == case.id, _sig.c.team_id == actor.team_id,
                                                   _sig.c.status == "joined").order_by(_sig.c.received_at)).all(),
        "events": conn.execute(select(_e).where(_e.c.case_id == case.id, _e.c.id <= transfer.event_id)
                               .order_by(_e.c.at.desc(), _e.c.id.desc())).all(),
    }


def partner_steps(conn: Connection, actor: Actor, now: datetime) -> list:
    """Only the steps assigned to the partner's own organisation, overdue first, and of each
    case only what the step needs: reference, first name, school."""
    if actor.role != Role.PARTNER or actor.organisation_id is None:
        raise NotFound("Pagina niet gevonden.")
    school = _o.alias("school")
    regisseur = _u.alias("regisseur")  # whom the partner calls about the step: a name, nothing more
    rows = conn.execute(
        select(_st.c.id, _st.c.title, _st.c.description, _st.c.due_at, _st.c.status, _st.c.version,
               _c.c.id.label("case_id"), _c.c.reference, _y.c.given_name, school.c.name.label("school"),
               regisseur.c.name.label("regisseur"),
               select(func.count()).where(_x.c.step_id == _st.c.id, _x.c.status == "open")
               .correlate(_st).scalar_subquery().label("open_requests"))
        .select_from(_st.join(_c, _c.c.id == _st.c.case_id).join(_y, _y.c.id == _c.c.record_id)
                     .outerjoin(school, school.c.id == _y.c.school_id)
                     .outerjoin(regisseur, regisseur.c.id == _c.c.casusregisseur_id)
                     .join(_o, and_(_o.c.id == _st.c.organisation_id, _o.c.is_active.is_(True))))
        .where(_st.c.organisation_id == actor.organisation_id,
               or_(_st.c.status == "open", and_(_st.c.status == "done", _st.c.completed_at >= now - _RECENT)))
        .order_by(_st.c.status != "open", _st.c.due_at > now, _st.c.due_at)
    ).all()
    if rows:  # one statement for the whole page
        conn.execute(AccessLog.__table__.insert(), [
            {"at": now, "user_id": actor.id, "role": actor.role, "action": "read_step", "case_id": row.case_id,
             "basis": "assigned_step", "detail": {"step_id": row.id}} for row in rows
        ])
    return rows


def new_signal_choices(conn: Connection, actor: Actor) -> dict:
    """What the new-signal form offers: the team's active casusregisseurs and the active schools."""
    if actor.role not in TEAM_ROLES or actor.team_id is None:
        raise NotFound("Pagina niet gevonden.")
    return {
        "is_regisseur": actor.role == Role.CASUSREGISSEUR,  # the form offers "myself" as the default
        "regisseurs": conn.execute(
            select(_u.c.id, _u.c.name)
            .where(_u.c.team_id == actor.team_id, _u.c.role == Role.CASUSREGISSEUR, _u.c.is_active.is_(True))
            .order_by(_u.c.name)).all(),
        "schools": conn.execute(
            select(_o.c.id, _o.c.name, _o.c.brin).where(_o.c.kind == "school", _o.c.is_active.is_(True))
            .order_by(_o.c.name)).all(),
    }


def changes_since(conn: Connection, actor: Actor, case_id: int, seen_event_id: int) -> list:
    """The journal entries written after the one a stale form was built on (for the 409 page)."""
    case = conn.execute(select(_c.c.id, _c.c.team_id, _c.c.casusregisseur_id).where(_c.c.id == case_id)).one_or_none()
    if case is None or read_basis(actor, case) is None:
        raise NotFound("Zaak niet gevonden.")
    return conn.execute(select(_e).where(_e.c.case_id == case_id, _e.c.id > seen_event_id).order_by(_e.c.id)).all()
