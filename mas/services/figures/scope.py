"""Whose figures: a coordinator's team, a casusregisseur's own cases, a samenwerkingsverband's
teams. The scope is a condition INSIDE each query; no other team's row is ever read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta
from sqlalchemy import and_, select

from mas.models import Case, Organisation, Team
from mas.services.actors import Actor
from mas.services.errors import Forbidden, NotFound
from mas.values import BadValue, parse_int
from mas.workflows import Role

_c, _t, _o = Case.__table__, Team.__table__, Organisation.__table__


@dataclass(frozen=True)
class Scope:
    team_ids: tuple[int, ...]
    casusregisseur_id: int | None = None  # only this casusregisseur's own cases

    def cases(self, table=_c):
        """The WHERE condition on a case table (or its alias)."""
        condition = table.c.team_id.in_(self.team_ids) if len(self.team_ids) > 1 else table.c.team_id == self.team_ids[0]
        if self.casusregisseur_id is not None:
            condition = and_(condition, table.c.casusregisseur_id == self.casusregisseur_id)
        return condition

    @property
    def is_personal(self) -> bool:
        return self.casusregisseur_id is not None


def scope_for(actor: Actor) -> Scope:
    """Deny by default: a coordinator sees the team, a casusregisseur their own cases."""
    if actor.role == Role.COORDINATOR and actor.team_id is not None:
        return Scope((actor.team_id,))
    if actor.role == Role.CASUSREGISSEUR and actor.team_id is not None and actor.id is not None:
        return Scope((actor.team_id,), casusregisseur_id=actor.id)
    raise Forbidden("Alleen coördinatoren en casusregisseurs zien cijfers.")


def swv_scope(conn, actor: Actor, areas: dict[str, tuple[str, ...]]) -> tuple[str, tuple[str, ...], Scope]:
    """A samenwerkingsverband's rapporteur: the teams serving a municipality of its area.
    Returns (organisation name, municipalities, scope)."""
    if actor.role != Role.SWV_RAPPORTEUR or actor.organisation_id is None:
        raise Forbidden("Alleen de rapporteur van een samenwerkingsverband maakt dit overzicht.")
    name = conn.execute(select(_o.c.name).where(_o.c.id == actor.organisation_id, _o.c.is_active.is_(True))
                        ).scalar_one_or_none()
    if name is None or name not in areas:
        raise NotFound("Voor uw samenwerkingsverband is geen gebied ingesteld (config/figures.toml).")
    municipalities = areas[name]
    wanted = {m.strip().lower() for m in municipalities}
    team_ids = tuple(row.id for row in conn.execute(select(_t.c.id, _t.c.municipalities).order_by(_t.c.id))
                     if wanted & {str(m).strip().lower() for m in (row.municipalities or [])})
    return name, municipalities, Scope(team_ids or (-1,))


@dataclass(frozen=True)
class Period:
    """Whole months, first and last included."""

    first: date  # the first day of the first month
    last: date  # the first day of the last month

    @property
    def start(self) -> date:
        return self.first

    @property
    def end(self) -> date:
        """The first day after the period."""
        return self.last + relativedelta(months=1)

    def months(self) -> list[date]:
        out, month = [], self.first
        while month <= self.last:
            out.append(month)
            month += relativedelta(months=1)
        return out


def period_from(first: str | None, last: str | None, today: date, months: int) -> Period:
    """A period from "jjjj-mm" strings (a form), else the last `months` months up to today's."""
    this_month = today.replace(day=1)

    def parse(value: str | None):
        if not value:
            return None
        parts = str(value).split("-")
        try:  # the school calendar knows 1970 on; a month beyond a few years from now is no figure
            year = parse_int(parts[0], low=1970, high=today.year + 5)
            month = parse_int(parts[1], low=1, high=12) if len(parts) > 1 else 1
        except BadValue:
            return None
        return date(year, month, 1)

    end = parse(last) or this_month
    start = parse(first) or (end - relativedelta(months=months - 1))
    if start > end:
        start, end = end, start
    if (end.year - start.year) * 12 + end.month - start.month >= 60:  # at most five years on one page
        start = end - relativedelta(months=59)
    return Period(start, end)
