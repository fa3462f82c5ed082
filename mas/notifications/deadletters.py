"""Undelivered mail, for administrators: the dead letters (paged, filtered), resending them,
and the backlog. Envelopes only (recipient, kind, error): bodies are rendered on sending."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from mas.models import OutboxMessage

_o = OutboxMessage.__table__
WAITING = ("pending", "sending")


def _dead_filter(template: str | None, recipient: str | None):
    where = [_o.c.status == "dead"]
    if template:
        where.append(_o.c.template == template)
    if recipient:
        where.append(func.lower(_o.c.recipient).contains(recipient.strip().lower(), autoescape=True))
    return where


def resend(conn: Connection, message_pk: int, now: datetime, expires_at: datetime | None = None) -> bool:
    """Give a dead message another go (attempts from zero); False if it was not dead."""
    return resend_many(conn, now, expires_at, ids=[message_pk]) == 1


def resend_many(conn: Connection, now: datetime, expires_at: datetime | None, *, ids: list[int] | None = None,
                template: str | None = None, recipient: str | None = None) -> int:
    """Resend dead messages: those with `ids`, or every one the filters match. Returns how many."""
    where = _dead_filter(template, recipient)
    if ids is not None:
        if not ids:
            return 0
        where.append(_o.c.id.in_(ids))
    return conn.execute(
        update(_o).where(*where)
        .values(status="pending", attempts=0, not_before=now, claimed_at=None, claimed_by=None, expires_at=expires_at)
    ).rowcount


def dead_messages(conn: Connection, limit: int = 50, offset: int = 0, *, template: str | None = None,
                  recipient: str | None = None) -> list:
    """The messages that gave up, newest first, with why (no message bodies: they are rendered on sending)."""
    return conn.execute(
        select(_o.c.id, _o.c.template, _o.c.recipient, _o.c.case_id, _o.c.message_id, _o.c.attempts,
               _o.c.last_error, _o.c.claimed_at, _o.c.created_at)
        .where(*_dead_filter(template, recipient))
        .order_by(_o.c.id.desc())
        .limit(limit).offset(offset)
    ).all()


def count_dead(conn: Connection, *, template: str | None = None, recipient: str | None = None) -> int:
    return conn.execute(select(func.count()).select_from(_o).where(*_dead_filter(template, recipient))).scalar_one()


def backlog(conn: Connection) -> tuple[int, datetime | None]:
    """How many messages wait (pending or being sent), and since when the oldest does."""
    row = conn.execute(select(func.count(), func.min(_o.c.created_at)).where(_o.c.status.in_(WAITING))).one()
    return row[0], row[1]
