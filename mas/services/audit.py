"""The access log: every read of a case, every search and every export (NEN 7513 as model).

Rows are only ever inserted; nothing in the app updates or deletes them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from mas.models import AccessLog, Case, Step, User
from mas.services.actors import Actor

_a, _u, _c, _st = AccessLog.__table__, User.__table__, Case.__table__, Step.__table__
LOG_PAGE_SIZE = 100
_INSERT = _a.insert()


def log_access(conn: Connection, actor: Actor, action: str, now: datetime, *, case_id: int | None = None,
               basis: str = "none", detail: dict | None = None) -> None:
    conn.execute(_INSERT, {"at": now, "user_id": actor.id, "role": actor.role, "action": action,
                           "case_id": case_id, "basis": basis, "detail": detail})


def log_denied(conn: Connection, actor: Actor, now: datetime, *, path: str, method: str,
               reference: str | None = None, step_id: int | None = None) -> None:
    """A refused request for something the actor may not see: logged with every case it
    concerns (the case a reference names, the case a step belongs to), so that the case's
    coordinator sees the refusal in "Wie keek in deze zaak?"."""
    case_ids = []
    if reference:
        case_ids.append(conn.execute(select(_c.c.id).where(_c.c.reference == reference)).scalar_one_or_none())
    if step_id is not None:
        case_ids.append(conn.execute(select(_st.c.case_id).where(_st.c.id == step_id)).scalar_one_or_none())
    concerned = list(dict.fromkeys(c for c in case_ids if c is not None)) or [None]
    detail = {"path": path, "method": method}
    if step_id is not None:
        detail["step_id"] = step_id
    for case_id in concerned:
        log_access(conn, actor, "denied", now, case_id=case_id, detail=detail)


def who_looked(conn: Connection, case_id: int, page: int = 1, per_page: int = LOG_PAGE_SIZE) -> dict:
    """For the coordinator: who read this case (or was refused), when, in which role, on what
    basis; newest first, a page at a time, every row reachable."""
    total = conn.execute(select(func.count()).select_from(_a).where(_a.c.case_id == case_id)).scalar_one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = conn.execute(
        select(_a.c.at, _a.c.action, _a.c.role, _a.c.basis, _a.c.detail, _u.c.name, _u.c.email)
        .select_from(_a.outerjoin(_u, _u.c.id == _a.c.user_id))
        .where(_a.c.case_id == case_id).order_by(_a.c.at.desc(), _a.c.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return {"rows": rows, "total": total, "page": page, "pages": pages}
