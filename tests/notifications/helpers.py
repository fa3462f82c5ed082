"""Small helpers for outbox tests: queue a message directly, read rows back."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from mas.models import OutboxMessage
from mas.notifications import outbox
from tests.factories import open_case

_o = OutboxMessage.__table__


def rung_context(reference: str = "MAS-2026-000001", due_at: str = "2026-03-02T22:59:59+00:00") -> dict:
    return {"reference": reference, "what": "Signaal: contact leggen en gesprek plannen", "kind": "signaal",
            "due_at": due_at, "since": "2026-02-23", "level": "escalatie trede 1", "rung": 1,
            "is_reminder": False, "organisation": None, "link": f"http://127.0.0.1:5000/cases/{reference}"}


def queue_messages(db, ctx, now: datetime, count: int = 1, *, not_before: datetime | None = None,
                   recipient: str = "regisseur.a@example.org", prefix: str = "test") -> list[int]:
    """Queue `count` rung messages for distinct (fake) cases; returns their ids."""
    rows = [
        outbox.row(ctx, key=f"{prefix}:{n}:{recipient}", template="rung", recipient=recipient,
                   context=rung_context(f"MAS-2026-{n + 1:06d}"), case_id=None, now=now,
                   not_before=now if not_before is None else not_before)
        for n in range(count)
    ]
    with db.begin() as conn:
        outbox.queue(conn, rows)
        return conn.execute(select(_o.c.id).where(_o.c.idempotency_key.like(f"{prefix}:%")).order_by(_o.c.id)
                            ).scalars().all()


def outbox_rows(db, status: str | None = None) -> list:
    query = select(_o).order_by(_o.c.id)
    if status is not None:
        query = query.where(_o.c.status == status)
    with db.read() as conn:
        return conn.execute(query).all()


def outbox_row(db, pk: int):
    with db.read() as conn:
        return conn.execute(select(_o).where(_o.c.id == pk)).one()


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


SWEEP_AT = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)  # Tuesday a week later, 10:00 Amsterdam


def queue_every_kind(db, ctx, world, now: datetime, *, step_title: str = "Huisbezoek",
                     reason: str = "Reageert niet", **youth_overrides):
    """Through the services, one case queues every kind of e-mail.

    At `now` (the fixed Tuesday 3 March 2026): step_assigned (wijkteam), doorzetten (its manager), the digest
    (the casusregisseur). At SWEEP_AT the sweep adds a reminder (signaal clock) and rungs
    (LRV milestone; the doorgezette step). Returns the case's SignalResult.
    """
    from mas.services import digest, doorzetten, escalation, steps

    case = open_case(db, ctx, world, now, **youth_overrides)
    with db.begin() as conn:
        step_id = steps.assign_step(conn, ctx, world.regisseur_a, case.case_id, organisation_id=world.wijkteam,
                                    title=step_title, due_at=now + timedelta(days=7), now=now)
    with db.begin() as conn:
        doorzetten.doorzetten(conn, ctx, world.regisseur_a, case.case_id, reason=reason,
                              due_at=now + timedelta(days=3), now=now, step_id=step_id)
    digest.queue_digests(db, ctx, now)
    escalation.sweep(db, ctx, SWEEP_AT)
    return case
