"""The append-only case journal. Services write one event per change; nothing updates them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.engine import Connection

from mas.models import CaseEvent
from mas.services.actors import Actor

_INSERT_EVENT = CaseEvent.__table__.insert()


def jsonable(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def record(conn: Connection, case_id: int, actor: Actor, kind: str, now: datetime, *,
           from_state: str | None = None, to_state: str | None = None,
           reason: str | None = None, data: dict | None = None) -> None:
    conn.execute(_INSERT_EVENT, {
        "case_id": case_id, "at": now, "actor_id": actor.id, "actor_role": actor.role, "kind": kind,
        "from_state": from_state, "to_state": to_state, "reason": reason,
        # Dates and times become ISO strings in the JSON serializer (orjson), as jsonable() does.
        "data": data or None,
    })
