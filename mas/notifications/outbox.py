"""Queue e-mail in the caller's transaction; the dispatcher sends it after commit.

Nothing is sent inside a transaction: if the transaction rolls back, the message was never
queued; if it commits, the message will leave, however often the process dies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy.engine import Connection

from mas.models import OutboxMessage

if TYPE_CHECKING:  # the context is built above this layer and handed in
    from mas.context import ServiceContext

_o = OutboxMessage.__table__
_INSERT = _o.insert().values(status="pending", attempts=0)  # the same for every new message
TEMPLATES = "reminder", "rung", "doorgezet", "digest", "step_assigned"


@lru_cache(maxsize=8)
def _domain(base_url: str) -> str:
    return urlsplit(base_url).hostname or "mas.local"


def message_id(ctx: ServiceContext, key: str) -> str:
    """Stable per idempotency key: every attempt, and any duplicate, carries the same id."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{_domain(ctx.settings.base_url)}>"


def row(ctx: ServiceContext, *, key: str, template: str, recipient: str, context: dict, case_id: int | None,
        now: datetime, not_before: datetime) -> dict:
    assert template in TEMPLATES, template
    return {
        "idempotency_key": key, "message_id": message_id(ctx, key), "template": template, "recipient": recipient,
        "context": context, "case_id": case_id, "not_before": not_before, "created_at": now,
    }


def queue(conn: Connection, rows: Iterable[dict]) -> int:
    rows = list(rows)
    if rows:
        conn.execute(_INSERT, rows)
    return len(rows)


def case_link(ctx: ServiceContext, reference: str) -> str:
    return f"{ctx.settings.base_url}/cases/{reference}"


def partner_link(ctx: ServiceContext) -> str:
    return f"{ctx.settings.base_url}/partner"
