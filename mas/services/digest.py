"""The daily digest: each casusregisseur's overdue and soon-due clocks, one e-mail a day.

Queued at the start of the sending window on working days; the key digest:<user>:<date>
makes a second scheduler, or a second run, queue nothing new.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exc, select

from mas.context import ServiceContext
from mas.dates import TZ, local_date
from mas.models import DEADLINE_OPEN, Case, Deadline, OutboxMessage, User
from mas.notifications import outbox

_d, _c, _u, _o = Deadline.__table__, Case.__table__, User.__table__, OutboxMessage.__table__
HORIZON = timedelta(days=7)


def queue_digests(db, ctx: ServiceContext, now: datetime) -> int:
    """Queue today's digests if the window has opened; returns how many were queued."""
    window = ctx.ladders.window
    today = local_date(now)
    if not ctx.calendar.is_working_day(today) or now.astimezone(TZ).time() < window.start:
        return 0
    with db.read() as conn:
        rows = conn.execute(
            select(_u.c.id, _u.c.email, _c.c.reference, _d.c.kind, _d.c.due_at)
            .select_from(_d.join(_c, _c.c.id == _d.c.case_id).join(_u, _u.c.id == _c.c.casusregisseur_id))
            .where(_d.c.status == DEADLINE_OPEN, _d.c.due_at <= now + HORIZON, _u.c.is_active.is_(True))
            .order_by(_u.c.id, _d.c.due_at)
        ).all()
    per_user: dict[tuple[int, str], list[dict]] = {}
    for row in rows:
        per_user.setdefault((row.id, row.email), []).append({
            "reference": row.reference, "what": ctx.workflow.clock_label(row.kind),
            "due_at": row.due_at.isoformat(), "is_overdue": row.due_at <= now,
        })
    queued = 0
    for (user_id, email), items in per_user.items():
        key = f"digest:{user_id}:{today.isoformat()}"
        message = outbox.row(ctx, key=key, template="digest", recipient=email, case_id=None, now=now, not_before=now,
                             context={"date": today.isoformat(), "items": items,
                                      "link": f"{ctx.settings.base_url}/cases"})
        try:
            with db.begin() as conn:
                if conn.execute(select(_o.c.id).where(_o.c.idempotency_key == key)).first() is None:
                    queued += outbox.queue(conn, [message])
        except exc.IntegrityError:  # another scheduler queued it a moment ago
            continue
    return queued
