"""Who is acting: a user in a role, or the system (scheduler, imports)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Connection

from mas.models import User
from mas.services.errors import NotFound
from mas.workflows.roles import SYSTEM as SYSTEM_ROLE


@dataclass(frozen=True)
class Actor:
    id: int | None
    role: str
    team_id: int | None = None
    organisation_id: int | None = None

    @property
    def is_system(self) -> bool:
        return self.role == SYSTEM_ROLE


SYSTEM = Actor(id=None, role=SYSTEM_ROLE)

_user = User.__table__
_SELECT_ACTOR = select(_user.c.id, _user.c.role, _user.c.team_id, _user.c.organisation_id, _user.c.is_active)


def load_actor(conn: Connection, user_id: int) -> Actor:
    row = conn.execute(_SELECT_ACTOR.where(_user.c.id == user_id)).one_or_none()
    if row is None or not row.is_active:
        raise NotFound("Onbekende of uitgeschakelde gebruiker.")
    return Actor(id=row.id, role=row.role, team_id=row.team_id, organisation_id=row.organisation_id)
