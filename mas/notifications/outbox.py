"""Queue e-mail in the caller's transaction; the dispatcher sends it after commit.

Nothing is sent inside a transaction: if the transaction rolls back, the message was never
queued; if it commits, the message will leave, however often the process dies.

A message may carry items: the (deadline, generation, rung, recipient) keys it tells of, each
unique, so a bundle of several rungs still mails each of them at most once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy.engine import Connection

from mas.models import OutboxItem, OutboxMessage

if TYPE_CHECKING:  # the context is built above this layer and handed in
    from mas.context import ServiceContext

_o, _i = OutboxMessage.__table__, OutboxItem.__table__
_INSERT = _o.insert().values(status="pending", attempts=0)  # the same for every new message
_INSERT_RETURNING = _INSERT.returning(_o.c.id, _o.c.idempotency_key)
_INSERT_ITEM = _i.insert()
TEMPLATES = ("reminder", "rung", "bestuurder", "bundel", "doorgezet", "digest", "step_assigned", "niet_bezorgd",
             "enrolment", "account_changed", "case_received")
# Each kind in Dutch, for people who read the outbox (the admin page, `mas status`).
TEMPLATE_LABELS = {"reminder": "Herinnering", "rung": "Escalatie", "bestuurder": "Escalatie (bestuurlijk)",
                   "bundel": "Bundel", "doorgezet": "Doorgezet", "digest": "Dagoverzicht",
                   "step_assigned": "Stap toegewezen", "niet_bezorgd": "Niet bezorgd",
                   "enrolment": "Uitnodiging account", "account_changed": "Account gewijzigd",
                   "case_received": "Zaak overgedragen"}


@lru_cache(maxsize=8)
def _domain(base_url: str) -> str:
    return urlsplit(base_url).hostname or "mas.local"


def message_id(ctx: ServiceContext, key: str) -> str:
    """Stable per idempotency key: every attempt, and any duplicate, carries the same id."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{_domain(ctx.settings.base_url)}>"


def expires_at(ctx: ServiceContext, now: datetime) -> datetime:
    """When a message queued at `now` is given up if no server has accepted it."""
    cache = ctx.__dict__.setdefault("_expiry", {})
    found = cache.get(now)
    if found is None:
        if len(cache) > 64:
            cache.clear()
        found = cache[now] = ctx.ladders.window.working_days_after(now, ctx.settings.mail.max_age_working_days,
                                                                   ctx.calendar)
    return found


def row(ctx: ServiceContext, *, key: str, template: str, recipient: str, context: dict, case_id: int | None,
        now: datetime, not_before: datetime, role: str | None = None, user_id: int | None = None,
        organisation_id: int | None = None, team_id: int | None = None) -> dict:
    """One message. `role` and the user, organisation or team the address came from let the
    dispatcher check, when it sends, that the recipient can still be reached."""
    assert template in TEMPLATES, template
    return {
        "idempotency_key": key, "message_id": message_id(ctx, key), "template": template, "recipient": recipient,
        "context": context, "case_id": case_id, "not_before": not_before, "created_at": now,
        "expires_at": expires_at(ctx, now), "recipient_role": role, "recipient_user_id": user_id,
        "recipient_organisation_id": organisation_id, "team_id": team_id,
    }


def item(*, message_key: str, key: str, case_id: int, deadline_id: int, rung: str) -> dict:
    """A (deadline, generation, rung, recipient) key that the message `message_key` carries."""
    return {"message_key": message_key, "key": key, "case_id": case_id, "deadline_id": deadline_id, "rung": rung}


def queue(conn: Connection, rows: Iterable[dict], items: Iterable[dict] = ()) -> int:
    """Insert messages (and the items they carry); returns how many messages."""
    rows, items = list(rows), list(items)
    if not rows:
        return 0
    if not items:
        conn.execute(_INSERT, rows)
        return len(rows)
    ids = {r.idempotency_key: r.id for r in conn.execute(_INSERT_RETURNING, rows)}
    conn.execute(_INSERT_ITEM, [{"message_pk": ids[i["message_key"]], "key": i["key"], "case_id": i["case_id"],
                                 "deadline_id": i["deadline_id"], "rung": i["rung"]} for i in items])
    return len(rows)


def _unless_taken(conn: Connection, table, column: str):
    """INSERT … ON CONFLICT (column) DO NOTHING, in the connection's dialect."""
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=[column])


def queue_once(conn: Connection, message: dict, items: Iterable[dict] = ()) -> bool:
    """Insert a message unless its idempotency key is taken, with those of its items whose key
    is not taken either; a message none of whose items is new is not kept. The unique keys
    decide, so two writers at once (a lease that ran out) leave one message: no read first.
    Returns whether the message was queued."""
    message_pk = conn.execute(_unless_taken(conn, _o, "idempotency_key").values(status="pending", attempts=0)
                              .returning(_o.c.id), message).scalar_one_or_none()
    items = list(items)
    if message_pk is None or not items:
        return message_pk is not None
    rows = [{"message_pk": message_pk, "key": i["key"], "case_id": i["case_id"], "deadline_id": i["deadline_id"],
             "rung": i["rung"]} for i in items]
    added = conn.execute(_unless_taken(conn, _i, "key").returning(_i.c.id), rows).all()
    if not added:  # every rung it would carry already went to this address in another message
        conn.execute(_o.delete().where(_o.c.id == message_pk))
        return False
    return True


def case_link(ctx: ServiceContext, reference: str) -> str:
    return f"{ctx.settings.base_url}/cases/{reference}"


def partner_link(ctx: ServiceContext) -> str:
    return f"{ctx.settings.base_url}/partner"


def status_link(ctx: ServiceContext, token: str) -> str:
    """The signed page a recipient without an account may open (mas.web.public)."""
    return f"{ctx.settings.base_url}/termijn/{token}"


def team_link(ctx: ServiceContext) -> str:
    return f"{ctx.settings.base_url}/team"
