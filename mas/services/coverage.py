"""Ladder coverage: which team, organisation and rung would reach nobody today.

`mas check`, the admin page "Bereikbaarheid" and the scheduler's start-up log read this. A
level is a gap when none of its recipients can be reached for a team or an organisation
(missing, or switched off); the report says where its mail would go instead (the fallback
chain) or that it would reach nobody at all. The casusregisseur is per case: open cases
whose casusregisseur is missing or switched off are counted per team.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection

from mas.context import ServiceContext
from mas.models import DEADLINE_OPEN, OPEN_CASE, Case, Deadline, Organisation, Team, User
from mas.services.recipients import Addressee, FallbackChain
from mas.workflows import Recipient

_t, _o, _u, _c, _d = Team.__table__, Organisation.__table__, User.__table__, Case.__table__, Deadline.__table__
_TEAM_ROLES = (Recipient.COORDINATOR, Recipient.BESTUURLIJK)


@dataclass(frozen=True)
class Gap:
    scope: str  # team | organisatie | zaken
    name: str  # the team, the organisation, or "team × organisation"
    ladder: str
    level: str  # the level's stable name
    level_label: str
    missing: tuple[str, ...]  # who cannot be reached (labels)
    outcome: str  # where the mail goes instead, in words
    reaches_nobody: bool  # not even a fallback

    def line(self) -> str:
        what = f"ladder {self.ladder}, trede {self.level!r} ({self.level_label})" if self.ladder else self.level_label
        return (f"{self.scope} {self.name}: {what}: niet bereikbaar: {', '.join(self.missing)}; "
                f"{'NIEMAND' if self.reaches_nobody else self.outcome}")


@dataclass(frozen=True)
class _Team:
    id: int
    name: str
    coordinator: Addressee | None
    bestuurlijk: str | None

    def provides(self, role: Recipient) -> bool:
        return bool(self.coordinator) if role == Recipient.COORDINATOR else bool(self.bestuurlijk)


def _teams(conn: Connection) -> list[_Team]:
    rows = conn.execute(
        select(_t.c.id, _t.c.name, _t.c.bestuurlijk_contact_email, _u.c.id.label("uid"), _u.c.email)
        .select_from(_t.outerjoin(_u, and_(_u.c.id == _t.c.coordinator_id, _u.c.is_active.is_(True))))
        .order_by(_t.c.name)
    ).all()
    return [_Team(r.id, r.name, Addressee(r.email, Recipient.COORDINATOR, user_id=r.uid) if r.email else None,
                  r.bestuurlijk_contact_email) for r in rows]


def _provides(org, role: Recipient) -> bool:
    if not org.is_active:
        return False
    return bool(org.contact_email if role == Recipient.ORGANISATION_CONTACT else org.escalation_email)


def _outcome(chain: FallbackChain, team: _Team | None, teams: list[_Team]) -> tuple[str, bool]:
    """Where a level that reaches nobody goes for this team (or, None: for the team of the case)."""
    if team is not None:
        found = chain.resolve(team.coordinator)
        if not found:
            return "niemand", True
        return f"gaat naar het vangnet: {found[0].role.label} ({', '.join(a.address for a in found)})", False
    without = [t for t in teams if t.coordinator is None]
    beyond = chain.resolve(None)
    if not without:
        return "gaat naar het vangnet: de coördinator van het team van de zaak", False
    if beyond:
        return (f"gaat naar het vangnet: de coördinator van het team van de zaak; bij "
                f"{', '.join(t.name for t in without)}: {beyond[0].role.label}"), False
    return f"gaat naar de coördinator van het team van de zaak; bij {', '.join(t.name for t in without)}: niemand", True


def ladder_gaps(conn: Connection, ctx: ServiceContext) -> list[Gap]:
    """Every team, organisation and rung that would reach nobody today (and what happens instead)."""
    chain = FallbackChain(conn, ctx)
    teams = _teams(conn)
    orgs = conn.execute(select(_o.c.id, _o.c.name, _o.c.is_active, _o.c.contact_email, _o.c.escalation_email)
                        .order_by(_o.c.name)).all()
    gaps: list[Gap] = []
    for ladder in ctx.ladders.by_name.values():
        for level in ladder.levels:
            roles = set(level.recipients)
            if Recipient.CASUSREGISSEUR in roles:
                continue  # per case: counted below
            team_roles = [r for r in level.recipients if r in _TEAM_ROLES]
            org_roles = [r for r in level.recipients if r.is_organisation]
            missing_teams = [t for t in teams if not any(t.provides(r) for r in team_roles)] if team_roles else [None]
            missing_orgs = ([o for o in orgs if o.is_active and not any(_provides(o, r) for r in org_roles)]
                            if org_roles else [None])
            for team in missing_teams:
                for org in missing_orgs:
                    name = " × ".join(x for x in ((team.name if team else None), (org.name if org else None)) if x)
                    outcome, nobody = _outcome(chain, team, teams)
                    gaps.append(Gap("team" if org is None else "organisatie" if team is None else "team en organisatie",
                                    name, ladder.name, level.name, level.label,
                                    tuple(r.label for r in level.recipients), outcome, nobody))
    gaps.sort(key=lambda gap: (gap.scope, gap.name))  # per team or organisation, its ladders in order
    gaps += _inactive_holders(conn, ctx, chain, teams)
    gaps += _cases_without_regisseur(conn, ctx, chain, teams)
    return gaps


def _inactive_holders(conn: Connection, ctx: ServiceContext, chain: FallbackChain, teams: list[_Team]) -> list[Gap]:
    """Switched-off organisations that still hold open steps: their contacts receive nothing."""
    rows = conn.execute(
        select(_o.c.name, func.count())
        .select_from(_d.join(_o, _o.c.id == _d.c.organisation_id))
        .where(_d.c.status == DEADLINE_OPEN, _o.c.is_active.is_(False))
        .group_by(_o.c.name).order_by(_o.c.name)
    ).all()
    outcome, nobody = _outcome(chain, None, teams)
    return [Gap("organisatie", f"{name} (uitgeschakeld)", "", "", f"{count} open termijn(en) bij deze organisatie",
                (Recipient.ORGANISATION_CONTACT.label, Recipient.ORGANISATION_ESCALATION.label),
                f"de andere ontvangers van elke trede; zonder hen {outcome}", nobody) for name, count in rows]


def _cases_without_regisseur(conn: Connection, ctx: ServiceContext, chain: FallbackChain,
                             teams: list[_Team]) -> list[Gap]:
    only_regisseur = [f"{ladder.name}/{level.name}" for ladder in ctx.ladders.by_name.values()
                      for level in ladder.levels if set(level.recipients) == {Recipient.CASUSREGISSEUR}]
    rows = conn.execute(
        select(_c.c.team_id, func.count())
        .select_from(_c.outerjoin(_u, _u.c.id == _c.c.casusregisseur_id))
        .where(OPEN_CASE, or_(_c.c.casusregisseur_id.is_(None), _u.c.is_active.is_(False)))
        .group_by(_c.c.team_id)
    ).all()
    by_id = {t.id: t for t in teams}
    gaps = []
    for team_id, count in rows:
        team = by_id.get(team_id)
        outcome, nobody = _outcome(chain, team, teams)
        gaps.append(Gap("zaken", team.name if team else str(team_id), "", "",
                        f"{count} open zaak/zaken zonder actieve casusregisseur (treden {', '.join(only_regisseur)})",
                        (Recipient.CASUSREGISSEUR.label,), outcome, nobody))
    return gaps
