"""The signed, expiring status page for recipients without an account (mas.web.public).

It shows what their e-mail said, as it stands now: what is late, since when, who holds it,
whom to call, how far the ladder has climbed, and whether it is still open. Nothing about
the youth: the case reference is the only thing that names the case.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from mas.context import ServiceContext
from mas.models import Case, Deadline, Organisation, Team, User
from mas.services.delivery import read_status_token

_d, _c, _t, _o = Deadline.__table__, Case.__table__, Team.__table__, Organisation.__table__
_regisseur = aliased(User.__table__, name="regisseur")
_coordinator = aliased(User.__table__, name="team_coordinator")

_STATUS = (
    select(_d.c.id, _d.c.kind, _d.c.started_on, _d.c.due_at, _d.c.rung, _d.c.status, _d.c.closed_at,
           _c.c.reference, _t.c.name.label("team_name"), _o.c.name.label("organisation_name"),
           _regisseur.c.name.label("regisseur_name"), _regisseur.c.email.label("regisseur_email"),
           _coordinator.c.name.label("coordinator_name"), _coordinator.c.email.label("coordinator_email"))
    .select_from(
        _d.join(_c, _c.c.id == _d.c.case_id).join(_t, _t.c.id == _c.c.team_id)
        .outerjoin(_o, _o.c.id == _d.c.organisation_id)
        .outerjoin(_regisseur, and_(_regisseur.c.id == _c.c.casusregisseur_id, _regisseur.c.is_active.is_(True)))
        .outerjoin(_coordinator, and_(_coordinator.c.id == _t.c.coordinator_id, _coordinator.c.is_active.is_(True)))
    )
)


def status_of(conn: Connection, ctx: ServiceContext, token: str, now: datetime) -> list[dict] | None:
    """The deadlines a valid token names, as the e-mail described them; None for a bad token."""
    ids = read_status_token(ctx, token, now)
    if ids is None:
        return None
    rows = conn.execute(_STATUS.where(_d.c.id.in_(ids)).order_by(_c.c.reference, _d.c.id)).all()
    if not rows:
        return None
    found = []
    for row in rows:
        ladder = ctx.ladder_for(row.kind)
        level = ladder.level(row.rung) if ladder else None
        if row.regisseur_email:
            contact = f"{row.regisseur_name} ({row.regisseur_email})"
        elif row.coordinator_email:
            contact = f"{row.coordinator_name} ({row.coordinator_email})"
        else:
            contact = None
        found.append({
            "reference": row.reference, "what": ctx.workflow.clock_label(row.kind), "since": row.started_on,
            "due_at": row.due_at, "holder": row.organisation_name or row.team_name, "team": row.team_name,
            "contact": contact, "level": level.label if level else None, "is_open": row.status == "open",
            "closed_at": row.closed_at,
        })
    return found
