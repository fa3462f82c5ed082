"""The queries behind the figures. Every one takes a Scope and puts it in its WHERE clause:
one team's figures never read another team's rows (and never pay for them)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Date, Float, and_, case, func, literal_column, or_, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from mas.dates import TZ, local_date, start_of_day
from mas.models import Case, CaseEvent, Deadline, Organisation, SchoolFigure, Signal, Step
from mas.services.figures.scope import Scope

_c, _d, _e, _s, _st, _o, _sf = (Case.__table__, Deadline.__table__, CaseEvent.__table__, Signal.__table__,
                                Step.__table__, Organisation.__table__, SchoolFigure.__table__)
_later = _d.alias("later")
_OPEN = literal_column("'open'")
_STOPPED = literal_column("'stopped'")
# Journal events that put a case in a state: its opening, and every transition.
OPENED, TRANSITION = "zaak_geopend", "overgang"


# Summer time in the Netherlands (EU rule, since 1996): from the last Sunday of March to the last
# Sunday of October, both at 01:00 UTC. SQLite has no time zone table, so the rule is written out
# (tests/figures/test_local_days.py checks it against zoneinfo); PostgreSQL uses its own.
def _sqlite_local(moment: str) -> str:
    """A stored SQLite moment (naive UTC text) in Amsterdam time, as SQL."""
    year = f"substr({moment}, 1, 4)"
    summer = (f"({moment} >= date({year} || '-03-25', 'weekday 0') || ' 01:00:00'"
              f" AND {moment} < date({year} || '-10-25', 'weekday 0') || ' 01:00:00')")
    return f"datetime({moment}, CASE WHEN {summer} THEN '+2 hours' ELSE '+1 hours' END)"


class local_day(FunctionElement):  # noqa: N801 - an SQL function, named like one
    """The Amsterdam calendar day of a stored moment, in SQL (the figures count per day in the
    database), so that days and months match the ranges, which start at Amsterdam midnight."""

    type = Date()
    inherit_cache = True


@compiles(local_day, "sqlite")
def _local_day_sqlite(element, compiler, **kw):
    return f"date({_sqlite_local(compiler.process(element.clauses, **kw))})"


@compiles(local_day, "postgresql")
def _local_day_postgresql(element, compiler, **kw):
    return f"CAST(timezone('{TZ.key}', {compiler.process(element.clauses, **kw)}) AS DATE)"


class month_start(FunctionElement):  # noqa: N801
    """The first day of the month of a stored day."""

    type = Date()
    inherit_cache = True


@compiles(month_start, "sqlite")
def _month_start_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)}, 'start of month')"


@compiles(month_start, "postgresql")
def _month_start_postgresql(element, compiler, **kw):
    return f"CAST(date_trunc('month', {compiler.process(element.clauses, **kw)}) AS DATE)"


def local_month(moment):
    """The first day of the Amsterdam month of a stored moment: counted per month in the
    database, a handful of rows per month instead of one per day."""
    return month_start(local_day(moment))


class days_between(FunctionElement):  # noqa: N801
    """Days (with fractions) from the second moment to the first, in SQL."""

    type = Float()
    inherit_cache = True


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"(julianday({later}) - julianday({earlier}))"


@compiles(days_between, "postgresql")
def _days_between_postgresql(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0)"


@dataclass(frozen=True)
class HomePeriod:
    """One period at home without an offer: one Thuiszitterspact period of a case.

    It starts on the clock's day 0 (the first day without education, as corrected; after a
    relapse, the first day at home again) and ends when the offer started (`offer_on`), when
    the case closed at home (`closed_on`), or not yet."""

    case_id: int
    started_on: date
    offer_on: date | None
    closed_on: date | None
    case_state: str
    case_closed: bool

    @property
    def ended_on(self) -> date | None:
        return self.offer_on or self.closed_on

    def at_home_on(self, day: date) -> bool:
        return self.started_on <= day and (self.ended_on is None or self.ended_on > day)


def home_periods(conn: Connection, scope: Scope, pact_kind: str, since: date, until: date) -> list[HomePeriod]:
    """The periods at home that overlap [since, until).

    A period is a generation that stopped (the offer started), the running one, or the one
    closed with the case; a generation replaced by a correction of the first day or a
    recompute is not a period of its own: its successor carries it on.
    """
    # The generation that ended the period with the case was closed in the same statement as the
    # case (one `now`): its closed_at is the case's. A generation replaced by a correction or a
    # recompute was closed earlier, while the case ran on.
    ends_period = or_(_d.c.status.in_((_STOPPED, _OPEN)),
                      and_(_c.c.closed_at.is_not(None), _d.c.closed_at == _c.c.closed_at))
    rows = conn.execute(
        select(_d.c.case_id, _d.c.started_on, _d.c.stopped_on, _d.c.status, _d.c.closed_at, _c.c.state,
               _c.c.closed_at.label("case_closed_at"))
        .select_from(_d.join(_c, _c.c.id == _d.c.case_id))
        .where(scope.cases(), _d.c.kind == pact_kind, _d.c.step_id.is_(None), ends_period,
               _d.c.started_on < until, or_(_d.c.stopped_on.is_(None), _d.c.stopped_on >= since),
               or_(_c.c.closed_at.is_(None), _c.c.closed_at >= start_of_day(since)))
    ).all()
    out = []
    for r in rows:
        offer_on = r.stopped_on if r.status == "stopped" else None
        closed_on = local_date(r.closed_at) if offer_on is None and r.status != "open" and r.closed_at else None
        if closed_on is not None and closed_on < since:
            continue
        out.append(HomePeriod(r.case_id, r.started_on, offer_on, closed_on, r.state, r.case_closed_at is not None))
    return out


# SQLite has no statistics (mas never runs ANALYZE there) and would read every case of the team
# through ix_case_team_opened to find the open ones; the partial index of open cases is the
# one to read (it is what the werkvoorraad reads too). PostgreSQL chooses by its statistics.
_OPEN_CASES_HINT = "INDEXED BY ix_case_open_team_regisseur"


def _open(query):
    return query.with_hint(_c, _OPEN_CASES_HINT, "sqlite")


_PLAN_FROM_CASES = (text("SET LOCAL enable_hashjoin = off"), text("SET LOCAL enable_seqscan = off"))
_PLAN_RESET = (text("RESET enable_hashjoin"), text("RESET enable_seqscan"))


@contextmanager
def team_driven(conn: Connection):
    """PostgreSQL: plan the figures' statements from the team's cases outwards (index lookups
    per case), never a scan of every team's deadlines or journal hashed against them. With its
    statistics PostgreSQL prefers that scan once a team holds a fifth of the installation, and
    then one team's figures pay for the other teams' rows. SET LOCAL: the read transaction of
    the figures only; undone when it leaves."""
    if conn.dialect.name != "postgresql":
        yield
        return
    for statement in _PLAN_FROM_CASES:
        conn.execute(statement)
    try:
        yield
    finally:
        for statement in _PLAN_RESET:
            conn.execute(statement)


def open_cases_per_state(conn: Connection, scope: Scope) -> dict[str, int]:
    rows = conn.execute(_open(select(_c.c.state, func.count()).where(scope.cases(), _c.c.closed_at.is_(None))
                              .group_by(_c.c.state))).all()
    return {state: n for state, n in rows}


def at_home_now(conn: Connection, scope: Scope, pact_kind: str) -> list[tuple[int, str, str, date]]:
    """(case id, reference, state, first day at home) of every open case whose clock runs."""
    return [tuple(r) for r in conn.execute(_open(
        select(_c.c.id, _c.c.reference, _c.c.state, _d.c.started_on)
        .select_from(_c.join(_d, _d.c.case_id == _c.c.id))
        .where(scope.cases(), _c.c.closed_at.is_(None), _d.c.kind == pact_kind, _d.c.step_id.is_(None),
               _d.c.status == _OPEN))
    ).all()]


def overdue_steps_per_organisation(conn: Connection, scope: Scope, now: datetime) -> list[tuple[str, int]]:
    return [tuple(r) for r in conn.execute(_open(
        select(_o.c.name, func.count())
        .select_from(_c.join(_st, _st.c.case_id == _c.c.id).join(_o, _o.c.id == _st.c.organisation_id))
        .where(scope.cases(), _c.c.closed_at.is_(None), _st.c.status == literal_column("'open'"), _st.c.due_at < now)
        .group_by(_o.c.name).order_by(func.count().desc(), _o.c.name))
    ).all()]


def escalations_per_rung(conn: Connection, scope: Scope) -> list[tuple[str, str, int]]:
    """Running clocks of open cases, per clock kind and the highest rung reached."""
    return [tuple(r) for r in conn.execute(_open(
        select(_d.c.kind, _d.c.rung, func.count())
        .select_from(_c.join(_d, _d.c.case_id == _c.c.id))
        .where(scope.cases(), _c.c.closed_at.is_(None), _d.c.status == _OPEN, _d.c.rung.is_not(None))
        .group_by(_d.c.kind, _d.c.rung))
    ).all()]


def signals_received(conn: Connection, scope: Scope, start: date, end: date) -> list[tuple[str, str, date, int]]:
    """(kind, source, month received, number) of the signals the scope's team(s) entered, counted in SQL."""
    day = local_month(_s.c.received_at)
    query = (select(_s.c.kind, _s.c.source, day, func.count())
             .where(_s.c.team_id.in_(scope.team_ids), _s.c.received_at >= start_of_day(start),
                    _s.c.received_at < start_of_day(end))
             .group_by(_s.c.kind, _s.c.source, day))
    if scope.is_personal:
        query = query.select_from(_s.join(_c, _c.c.id == _s.c.case_id)).where(scope.cases())
    return [tuple(r) for r in conn.execute(query)]


def signals_for_municipalities(conn: Connection, scope: Scope, start: date, end: date):
    """(kind, municipality of the youth's record, day) of the signals on the scope's cases."""
    from mas.models import YouthRecord

    _r = YouthRecord.__table__
    rows = conn.execute(
        select(_s.c.kind, _r.c.municipality, _s.c.received_at)
        .select_from(_s.join(_c, _c.c.id == _s.c.case_id).join(_r, _r.c.id == _c.c.record_id))
        .where(_s.c.team_id.in_(scope.team_ids), scope.cases(), _s.c.received_at >= start_of_day(start),
               _s.c.received_at < start_of_day(end), _s.c.status == literal_column("'joined'")))
    return [(r.kind, r.municipality, local_date(r.received_at)) for r in rows]


def closed_cases(conn: Connection, scope: Scope, start: date, end: date):
    """Per closing reason and (Amsterdam) month, of the cases closed in [start, end): cases closed, of
    them with contact with an ervaringsdeskundige, and the sums and numbers of the satisfaction
    answers."""
    day = local_month(_c.c.closed_at)
    peer = func.sum(case((_c.c.peer_contact == literal_column("'ja'"), 1), else_=0))
    return [tuple(r) for r in conn.execute(
        select(_c.c.closing_reason, day, func.count(), peer, func.sum(_c.c.satisfaction_youth),
               func.count(_c.c.satisfaction_youth), func.sum(_c.c.satisfaction_professionals),
               func.count(_c.c.satisfaction_professionals))
        .where(scope.cases(), _c.c.closed_at >= start_of_day(start), _c.c.closed_at < start_of_day(end))
        .group_by(_c.c.closing_reason, day))]


def state_stays(conn: Connection, scope: Scope, start: date, end: date) -> list[tuple[str, date, float, int]]:
    """(state, day left, days spent in all, stays) of the stays in a state that ended in [start, end)."""
    lag = func.lag(_e.c.at).over(partition_by=_e.c.case_id, order_by=_e.c.id)
    inner = (
        select(_e.c.kind, _e.c.from_state, _e.c.at, lag.label("entered_at"))
        .select_from(_e.join(_c, _c.c.id == _e.c.case_id))
        .where(scope.cases(), _e.c.kind.in_((OPENED, TRANSITION)), _c.c.opened_at < start_of_day(end),
               or_(_c.c.closed_at.is_(None), _c.c.closed_at >= start_of_day(start)))
    ).subquery()
    day = local_day(inner.c.at)
    rows = conn.execute(
        select(inner.c.from_state, day, func.sum(days_between(inner.c.at, inner.c.entered_at)), func.count())
        .where(inner.c.kind == TRANSITION, inner.c.at >= start_of_day(start), inner.c.at < start_of_day(end),
               inner.c.entered_at.is_not(None), inner.c.from_state.is_not(None))
        .group_by(inner.c.from_state, day))
    return [(state, on, float(total), n) for state, on, total, n in rows]


def nazorg_exits(conn: Connection, scope: Scope, nazorg_state: str, start: date, end: date):
    """(state it went to, day, number) of the cases leaving the nazorg state in [start, end)."""
    day = local_day(_e.c.at)
    return [tuple(r) for r in conn.execute(
        select(_e.c.to_state, day, func.count()).select_from(_e.join(_c, _c.c.id == _e.c.case_id))
        .where(scope.cases(), _e.c.kind == TRANSITION, _e.c.from_state == nazorg_state,
               _c.c.opened_at < start_of_day(end), _e.c.at >= start_of_day(start), _e.c.at < start_of_day(end))
        .group_by(_e.c.to_state, day))]


def reopened_cases(conn: Connection, scope: Scope, start: date, end: date) -> list[tuple[date, int]]:
    """(day, number) of the cases a new signal opened after an earlier, closed one."""
    day = local_day(_c.c.opened_at)
    return [tuple(r) for r in conn.execute(
        select(day, func.count()).where(scope.cases(), _c.c.previous_case_id.is_not(None),
                                        _c.c.opened_at >= start_of_day(start), _c.c.opened_at < start_of_day(end))
        .group_by(day))]


def routes_chosen(conn: Connection, scope: Scope, start: date, end: date):
    """(route, route day, pv day, municipality) of the scope's cases with a route or PV in [start, end)."""
    from mas.models import YouthRecord

    _r = YouthRecord.__table__
    return [tuple(r) for r in conn.execute(
        select(_c.c.route, _c.c.route_on, _c.c.pv_on, _r.c.municipality)
        .select_from(_c.join(_r, _r.c.id == _c.c.record_id))
        .where(scope.cases(), or_(and_(_c.c.route_on >= start, _c.c.route_on < end),
                                  and_(_c.c.pv_on >= start, _c.c.pv_on < end))))]


def case_facts(conn: Connection, case_ids: list[int]) -> dict[int, tuple[str | None, str | None]]:
    """(kind of the first signal, municipality of the record) per case, read in batches."""
    from mas.models import YouthRecord

    _r = YouthRecord.__table__
    first = (select(_s.c.case_id, func.min(_s.c.id).label("sid")).where(_s.c.status == literal_column("'joined'"))
             .group_by(_s.c.case_id)).subquery()
    out: dict[int, tuple[str | None, str | None]] = {}
    for i in range(0, len(case_ids), 5000):
        chunk = case_ids[i:i + 5000]
        rows = conn.execute(
            select(_c.c.id, _s.c.kind, _r.c.municipality)
            .select_from(_c.join(_r, _r.c.id == _c.c.record_id).outerjoin(first, first.c.case_id == _c.c.id)
                         .outerjoin(_s, _s.c.id == first.c.sid))
            .where(_c.c.id.in_(chunk)))
        out.update({r.id: (r.kind, r.municipality) for r in rows})
    return out


def states_on(conn: Connection, case_ids: list[int], day: date) -> dict[int, str]:
    """The state each case was in at the end of `day` (from its journal)."""
    out: dict[int, str] = {}
    until = start_of_day(day + (date.resolution))
    for i in range(0, len(case_ids), 5000):
        chunk = case_ids[i:i + 5000]
        rows = conn.execute(select(_e.c.case_id, _e.c.to_state).where(
            _e.c.case_id.in_(chunk), _e.c.kind.in_((OPENED, TRANSITION)), _e.c.at < until).order_by(_e.c.case_id, _e.c.id))
        for case_id, state in rows:
            out[case_id] = state
    return out


def school_figures(conn: Connection, team_ids: tuple[int, ...], school_year: str):
    return conn.execute(
        select(_sf.c.brin, _sf.c.school_name, _sf.c.municipality, _sf.c.education_kind,
               func.sum(_sf.c.participants).label("participants"), func.sum(_sf.c.leavers).label("leavers"))
        .where(_sf.c.team_id.in_(team_ids), _sf.c.school_year == school_year)
        .group_by(_sf.c.brin, _sf.c.school_name, _sf.c.municipality, _sf.c.education_kind)
        .order_by(_sf.c.brin, _sf.c.education_kind)
    ).all()


def closed_with_reason(conn: Connection, scope: Scope, start: date, end: date, reason: str) -> list[str | None]:
    """The record's municipality of each case closed in [start, end) with this closing reason."""
    from mas.models import YouthRecord

    _r = YouthRecord.__table__
    return [r.municipality for r in conn.execute(
        select(_r.c.municipality).select_from(_c.join(_r, _r.c.id == _c.c.record_id))
        .where(scope.cases(), _c.c.closing_reason == reason, _c.c.closed_at >= start_of_day(start),
               _c.c.closed_at < start_of_day(end)))]


def teams_of(conn: Connection, case_ids: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for i in range(0, len(case_ids), 5000):
        out.update({r.id: r.team_id for r in conn.execute(
            select(_c.c.id, _c.c.team_id).where(_c.c.id.in_(case_ids[i:i + 5000])))})
    return out
