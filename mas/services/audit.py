"""The access log: every read of a case, every search and every export (NEN 7513 as model).

Rows are only ever inserted; nothing in the app updates or deletes them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from mas.models import AccessLog, Case, User
from mas.services.actors import Actor

_a, _u, _c = AccessLog.__table__, User.__table__, Case.__table__
_INSERT = _a.insert()


def log_access(conn: Connection, actor: Actor, action: str, now: datetime, *, case_id: int | None = None,
               basis: str = "none", detail: dict | None = None) -> None:
    conn.execute(_INSERT, {"at": now, "user_id": actor.id, "role": actor.role, "action": action,
                           "case_id": case_id, "basis": basis, "detail": detail})


def log_denied(conn: Connection, actor: Actor, now: datetime, *, path: str, method: str,
               reference: str | None = None) -> None:
    """A refused request for something the actor may not see: logged, with the case if known."""
    case_id = None
    if reference:
        case_id = conn.execute(select(_c.c.id).where(_c.c.reference == reference)).scalar_one_or_none()
    log_access(conn, actor, "denied", now, case_id=case_id, detail={"path": path, "method": method})


def who_looked(conn: Connection, case_id: int, limit: int = 200) -> list:
    """For the coordinator: who read this case, when, in which role, on what basis."""
    return conn.execute(
        select(_a.c.at, _a.c.action, _a.c.role, _a.c.basis, _u.c.name, _u.c.email)
        .select_from(_a.outerjoin(_u, _u.c.id == _a.c.user_id))
        .where(_a.c.case_id == case_id).order_by(_a.c.at.desc()).limit(limit)
    ).all()
