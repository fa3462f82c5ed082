"""Whom a message "to the team's coordinator" reaches, so that it never goes to nobody."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from mas.models import Team, User
from mas.services.recipients import Addressee
from mas.workflows import Recipient, Role

_t, _u = Team.__table__, User.__table__


def coordinator_recipients(conn: Connection, team_id: int, *, leave_out: int | None = None) -> list[Addressee]:
    """The team's coordinator if active; else every active coordinator of the team; else the
    team's bestuurlijk contact. `leave_out`: an account that must not be told about itself
    (the one just created or changed), so that a second person hears of it. Each with the
    account or team its address came from, so the dispatcher can check, when it sends, that
    the recipient is still there (mas.services.delivery)."""
    team = conn.execute(select(_t.c.coordinator_id, _t.c.bestuurlijk_contact_email).where(_t.c.id == team_id)).one()
    rows = conn.execute(select(_u.c.id, _u.c.email).where(
        _u.c.team_id == team_id, _u.c.role == Role.COORDINATOR, _u.c.is_active.is_(True)).order_by(_u.c.id)).all()
    rows = [r for r in rows if r.id != leave_out]
    chosen = [r for r in rows if r.id == team.coordinator_id] or rows
    found = [Addressee(r.email, Recipient.COORDINATOR, user_id=r.id) for r in chosen]
    if not found and team.bestuurlijk_contact_email:
        found = [Addressee(team.bestuurlijk_contact_email, Recipient.BESTUURLIJK)]
    return found
