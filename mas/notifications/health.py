"""Mail health: one row shared by every dispatcher on the database.

When a dispatcher cannot reach the mail server it records it here, and every dispatcher
pauses (`paused_until`, backing off with `failures`) without charging any message an
attempt. A success clears it. `claim_alert` lets one process log a long failure once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.engine import Connection

from mas.models import MailHealth

_h = MailHealth.__table__
HEALTH_ROW = 1


def ensure_row(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    conn.execute(insert(_h).values(id=HEALTH_ROW, failures=0).on_conflict_do_nothing())


def health(conn: Connection):
    """The one mail_health row (None before any dispatcher recorded anything)."""
    return conn.execute(select(_h).where(_h.c.id == HEALTH_ROW)).one_or_none()


def record_unreachable(db, now: datetime, error: str, backoff: Callable[[int], timedelta]) -> datetime:
    with db.begin() as conn:
        ensure_row(conn)
        failures = conn.execute(
            update(_h).where(_h.c.id == HEALTH_ROW)
            .values(failures=_h.c.failures + 1, failing_since=func.coalesce(_h.c.failing_since, now), last_error=error)
            .returning(_h.c.failures)
        ).scalar_one()
        until = now + backoff(failures)
        conn.execute(update(_h).where(_h.c.id == HEALTH_ROW).values(paused_until=until))
    return until


def record_failure(db, now: datetime, error: str) -> None:
    """The server answered, but took nothing: mail is failing (not paused: it is reachable)."""
    with db.begin() as conn:
        ensure_row(conn)
        conn.execute(update(_h).where(_h.c.id == HEALTH_ROW)
                     .values(failing_since=func.coalesce(_h.c.failing_since, now), last_error=error))


def record_success(db, now: datetime) -> datetime | None:
    """Returns since when mail had been failing (None: it had not)."""
    with db.begin() as conn:
        ensure_row(conn)
        before = conn.execute(select(_h.c.failing_since).where(_h.c.id == HEALTH_ROW)).scalar_one()
        later = or_(_h.c.last_success_at.is_(None), _h.c.last_success_at < now)
        conn.execute(update(_h).where(_h.c.id == HEALTH_ROW).values(
            last_success_at=case((later, now), else_=_h.c.last_success_at),
            failing_since=None, failures=0, paused_until=None, alerted_at=None))
    return before


def claim_alert(db, now: datetime, threshold: timedelta):
    """Mail has been failing longer than `threshold`: returns the health row the first time
    (one dispatcher logs it once per episode), None otherwise."""
    with db.begin() as conn:
        row = conn.execute(
            update(_h).where(_h.c.id == HEALTH_ROW, _h.c.failing_since <= now - threshold, _h.c.alerted_at.is_(None))
            .values(alerted_at=now).returning(*_h.c)
        ).one_or_none()
    return row
