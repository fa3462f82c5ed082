"""Facts per case for the dashboard's over-time panels (days per state, returns after nazorg,
the offer within three months, days to the offer): the summary the issue allows, rebuilt from
the journal and the Thuiszitterspact clock.

Walking every journal and clock of a large team on each request costs what the team holds
(20,000 cases: about 100,000 events). Instead each case has its facts in `case_figure`, made
by `refresh` from that case's rows alone (so making them twice gives the same rows), and a
team's panels sum the facts of its days from one index.

Staleness. Every change to a case writes a journal event (mas.services.events), a transfer
too. A case's stamp holds its journal as the facts saw it (number of events, last id); a team
holds `event_id`, the journal's id up to which its cases were checked. `current` (read-only)
says whether a team's facts can be used: made under the same settings, and no case of the team
(or that was the team's) with a journal other than its stamp says. `ensure` (a write
transaction, before the dashboard reads) makes what is missing or stale. On PostgreSQL a journal
id is only taken as accounted for once its event is SETTLED old: an event written by a
transaction that commits later than one with a higher id is still seen (ids are handed out
before commit); SQLite writes one transaction at a time, so its ids arrive in order.
The figures never read facts that are not current: they fall back to the journals.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from functools import lru_cache

from dateutil.relativedelta import relativedelta
from sqlalchemy import delete, func, insert, or_, select, text, update
from sqlalchemy.engine import Connection

from mas.context import ServiceContext
from mas.dates import local_date, start_of_day
from mas.figures_config import figures_config
from mas.models import Case, CaseEvent, CaseFigure, CaseFigureStamp, Deadline, FigureTeam
from mas.services.figures.data import month_start

_c, _e, _d = Case.__table__, CaseEvent.__table__, Deadline.__table__
_f, _s, _t = CaseFigure.__table__, CaseFigureStamp.__table__, FigureTeam.__table__

VERSION = 2  # raise when what a fact means changes: every team's facts are made again
STAY, OFFER, DUE = "verblijf", "start_aanbod", "termijn"  # kinds of fact (not states)
WITHIN, NOT_WITHIN = "binnen", "buiten"
OPENED, TRANSITION = "zaak_geopend", "overgang"
SETTLED = timedelta(minutes=15)  # longer than any transaction that writes journal events
CHUNK = 2000
BEHIND = 2000  # journal events to read through before a team's mark is moved on


@lru_cache(maxsize=8192)
def plus_months(day: date, months: int) -> date:
    """Calendar months later (dateutil: 31 January + 1 month = 28 or 29 February), kept per day."""
    return day + relativedelta(months=months)


def pact_months(ctx: ServiceContext) -> int:
    rule = ctx.rule_for(ctx.workflow.pact_clock)
    return rule.amount if rule is not None and rule.unit == "calendar_months" else 3


def digest(ctx: ServiceContext) -> str:
    """The settings the facts depend on: other settings, other facts."""
    return (f"v{VERSION}:{ctx.workflow.pact_clock}:{pact_months(ctx)}:"
            f"{figures_config(ctx.settings).thuiszitter_after_days}")


# --- making facts --------------------------------------------------------------------------------

def _facts(ctx: ServiceContext, case, events, periods) -> list[dict]:
    """The facts of one case from its state events (in journal order) and its clock's periods."""
    out = []
    entered = None
    for e in events:
        if e.kind == TRANSITION and e.from_state is not None:
            days = (e.at - entered).total_seconds() / 86400 if entered is not None else None
            out.append({"figure": STAY, "day": local_date(e.at), "at": e.at, "key": e.from_state,
                        "detail": e.to_state, "value": days})
        entered = e.at
    months = pact_months(ctx)
    after_days = figures_config(ctx.settings).thuiszitter_after_days
    for d in periods:
        # As mas.services.figures.data.home_periods: the period ends with the offer's start, or
        # with the case when it closed at home.
        offer_on = d.stopped_on if d.status == "stopped" else None
        closed_on = local_date(d.closed_at) if offer_on is None and d.status != "open" and d.closed_at else None
        if offer_on is not None:
            out.append({"figure": OFFER, "day": offer_on, "at": None, "key": None, "detail": None,
                        "value": float((offer_on - d.started_on).days)})
        due = plus_months(d.started_on, months)  # the last day of the three months
        ended_on = offer_on or closed_on
        if ended_on is not None and ended_on < d.started_on + timedelta(days=after_days):
            continue  # back within four weeks: never a thuiszitter
        if offer_on is None and closed_on is not None and closed_on <= due:
            continue  # closed without an offer before the three months were up
        out.append({"figure": DUE, "day": due, "at": None, "detail": None, "value": None,
                    "key": WITHIN if offer_on is not None and offer_on <= due else NOT_WITHIN})
    return out


def refresh(conn: Connection, ctx: ServiceContext, case_ids) -> int:
    """Make the facts and stamps of these cases again from their rows. Returns how many cases."""
    case_ids = sorted(set(case_ids))
    pact = ctx.workflow.pact_clock
    for i in range(0, len(case_ids), CHUNK):
        chunk = case_ids[i:i + CHUNK]
        conn.execute(delete(_f).where(_f.c.case_id.in_(chunk)))
        conn.execute(delete(_s).where(_s.c.case_id.in_(chunk)))
        cases = {r.id: r for r in conn.execute(select(_c.c.id, _c.c.team_id, _c.c.closed_at).where(_c.c.id.in_(chunk)))}
        journal = {r.case_id: r for r in conn.execute(
            select(_e.c.case_id, func.count().label("n"), func.max(_e.c.id).label("last"))
            .where(_e.c.case_id.in_(chunk)).group_by(_e.c.case_id))}
        events = defaultdict(list)
        for r in conn.execute(select(_e.c.case_id, _e.c.at, _e.c.kind, _e.c.from_state, _e.c.to_state)
                              .where(_e.c.case_id.in_(chunk), _e.c.kind.in_((OPENED, TRANSITION)))
                              .order_by(_e.c.case_id, _e.c.id)):
            events[r.case_id].append(r)
        periods = defaultdict(list)
        for r in conn.execute(select(_d.c.case_id, _d.c.started_on, _d.c.stopped_on, _d.c.status, _d.c.closed_at)
                              .where(_d.c.case_id.in_(chunk), _d.c.kind == pact, _d.c.step_id.is_(None))):
            case = cases.get(r.case_id)
            # A generation replaced by a correction or a recompute is no period of its own; the
            # one closed with the case (the same `now`) is.
            if r.status in ("stopped", "open") or (case is not None and case.closed_at is not None
                                                   and r.closed_at == case.closed_at):
                periods[r.case_id].append(r)
        rows, stamps = [], []
        for case_id in chunk:
            case = cases.get(case_id)
            if case is None:
                continue
            for fact in _facts(ctx, case, events.get(case_id, ()), periods.get(case_id, ())):
                rows.append({"case_id": case_id, "team_id": case.team_id, **fact})
            j = journal.get(case_id)
            stamps.append({"case_id": case_id, "team_id": case.team_id, "events": j.n if j else 0,
                           "last_event_id": j.last if j else 0})
        if rows:
            conn.execute(insert(_f), rows)
        if stamps:
            conn.execute(insert(_s), stamps)
    return len(case_ids)


# --- is it current -------------------------------------------------------------------------------

def _stale_cases(conn: Connection, team_ids: tuple[int, ...], after_event_id: int) -> list[int]:
    """Cases of these teams (now, or when their facts were made) whose journal differs from
    their stamp, among those with events after `after_event_id`."""
    candidates = sorted({r.case_id for r in conn.execute(
        select(_e.c.case_id).select_from(_e.join(_c, _c.c.id == _e.c.case_id)
                                         .outerjoin(_s, _s.c.case_id == _e.c.case_id))
        .where(_e.c.id > after_event_id, or_(_c.c.team_id.in_(team_ids), _s.c.team_id.in_(team_ids))))})
    stale = []
    for i in range(0, len(candidates), CHUNK):
        chunk = candidates[i:i + CHUNK]
        stamps = {r.case_id: (r.team_id, r.events, r.last_event_id)
                  for r in conn.execute(select(_s).where(_s.c.case_id.in_(chunk)))}
        now = {r.case_id: (r.team_id, r.n, r.last) for r in conn.execute(
            select(_e.c.case_id, _c.c.team_id, func.count().label("n"), func.max(_e.c.id).label("last"))
            .select_from(_e.join(_c, _c.c.id == _e.c.case_id))
            .where(_e.c.case_id.in_(chunk)).group_by(_e.c.case_id, _c.c.team_id))}
        stale.extend(c for c in chunk if stamps.get(c) != now.get(c))
    return stale


def _settled_event_id(conn: Connection, after_event_id: int, now: datetime) -> int:
    """The journal id up to which no event can still appear. SQLite has one writer at a time:
    an event committed later has a higher id than any seen now. PostgreSQL hands out ids before
    commit: up to the first event younger than SETTLED (its transaction may still run)."""
    last = conn.execute(select(func.max(_e.c.id))).scalar() or 0
    if conn.dialect.name == "sqlite":
        return last
    young = conn.execute(select(func.min(_e.c.id)).where(_e.c.id > after_event_id, _e.c.at >= now - SETTLED)).scalar()
    return young - 1 if young is not None else last


def current(conn: Connection, ctx: ServiceContext, team_ids: tuple[int, ...]) -> bool:
    """Read-only: may these teams' figures be summed from their facts?"""
    rows = conn.execute(select(_t.c.team_id, _t.c.digest, _t.c.event_id).where(_t.c.team_id.in_(team_ids))).all()
    wanted = digest(ctx)
    if len(rows) != len(set(team_ids)) or any(r.digest != wanted for r in rows):
        return False
    return not _stale_cases(conn, team_ids, min(r.event_id for r in rows))


def ensure(conn: Connection, ctx: ServiceContext, team_ids: tuple[int, ...], now: datetime) -> int:
    """In a write transaction: make the facts these teams lack or that went stale, so that
    `current` holds. Idempotent. Returns the number of cases whose facts were made."""
    if conn.dialect.name == "postgresql":
        # One maker at a time (two would both delete, then both insert); SQLite's write
        # transaction (BEGIN IMMEDIATE) is one already.
        conn.execute(text("SELECT pg_advisory_xact_lock(16017)"))
    wanted = digest(ctx)
    made = 0
    for team_id in sorted(set(team_ids)):
        row = conn.execute(select(_t.c.digest, _t.c.event_id).where(_t.c.team_id == team_id)).first()
        if row is None or row.digest != wanted:
            settled = _settled_event_id(conn, max(0, (conn.execute(select(func.max(_e.c.id))).scalar() or 0) - 50_000),
                                        now)
            ids = [r[0] for r in conn.execute(select(_c.c.id).where(_c.c.team_id == team_id))]
            ids += [r[0] for r in conn.execute(select(_s.c.case_id).where(_s.c.team_id == team_id))]
            made += refresh(conn, ctx, ids)
            values = {"digest": wanted, "event_id": settled, "built_at": now}
            if row is None:
                conn.execute(insert(_t), {"team_id": team_id, **values})
            else:
                conn.execute(update(_t).where(_t.c.team_id == team_id).values(**values))
            continue
        settled = _settled_event_id(conn, row.event_id, now)
        stale = _stale_cases(conn, (team_id,), row.event_id)
        made += refresh(conn, ctx, stale)
        if settled != row.event_id:
            conn.execute(update(_t).where(_t.c.team_id == team_id).values(event_id=settled, built_at=now))
    return made


# --- reading -------------------------------------------------------------------------------------

def state_stays(conn: Connection, team_ids, start: date, end: date) -> list[tuple[str, date, float, int]]:
    """As data.state_stays, from the facts, per (Amsterdam) month instead of per day."""
    month = month_start(_f.c.day)
    rows = conn.execute(
        select(_f.c.key, month, func.sum(_f.c.value), func.count())
        .where(_f.c.team_id.in_(team_ids), _f.c.figure == STAY, _f.c.day >= start, _f.c.day < end,
               _f.c.at >= start_of_day(start), _f.c.at < start_of_day(end), _f.c.value.is_not(None))
        .group_by(_f.c.key, month))
    return [(state, on, float(total), n) for state, on, total, n in rows]


def nazorg_exits(conn: Connection, team_ids, nazorg_state: str, start: date, end: date):
    """As data.nazorg_exits, from the facts, per (Amsterdam) month."""
    month = month_start(_f.c.day)
    return [tuple(r) for r in conn.execute(
        select(_f.c.detail, month, func.count())
        .where(_f.c.team_id.in_(team_ids), _f.c.figure == STAY, _f.c.day >= start, _f.c.day < end,
               _f.c.key == nazorg_state, _f.c.at >= start_of_day(start), _f.c.at < start_of_day(end))
        .group_by(_f.c.detail, month))]


def offers(conn: Connection, team_ids, start: date, end: date) -> list[tuple[date, int, int]]:
    """(month the offer started, days from the first day at home, number) for offers in [start, end)."""
    month = month_start(_f.c.day)
    return [(on, int(days), n) for on, days, n in conn.execute(
        select(month, _f.c.value, func.count())
        .where(_f.c.team_id.in_(team_ids), _f.c.figure == OFFER, _f.c.day >= start, _f.c.day < end)
        .group_by(month, _f.c.value))]


def outcomes(conn: Connection, team_ids, start: date, end: date, today: date) -> list[tuple[date, str, int]]:
    """(month of the last day of the three months, binnen | buiten, number) for those last days in
    [start, end) before today."""
    month = month_start(_f.c.day)
    return [tuple(r) for r in conn.execute(
        select(month, _f.c.key, func.count())
        .where(_f.c.team_id.in_(team_ids), _f.c.figure == DUE, _f.c.day >= start, _f.c.day < min(end, today))
        .group_by(month, _f.c.key))]


def _behind(conn: Connection, team_ids) -> bool:
    """Many journal events (the other teams') since a team's facts were last checked: `current`
    reads them all each time until `ensure` moves the team's mark on."""
    last = conn.execute(select(func.max(_e.c.id))).scalar() or 0
    marks = conn.execute(select(func.min(_t.c.event_id)).where(_t.c.team_id.in_(team_ids))).scalar() or 0
    return last - marks > BEHIND


def keep(db, ctx: ServiceContext, team_ids: tuple[int, ...], now: datetime) -> int:
    """Before a team's figures are read: a quick read-only look, and only when something is
    missing or stale a write transaction to make it. Returns the number of cases made."""
    with db.read() as conn:
        if current(conn, ctx, team_ids) and not _behind(conn, team_ids):
            return 0
    with db.begin() as conn:
        return ensure(conn, ctx, team_ids, now)
