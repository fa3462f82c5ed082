"""The outbox dispatcher: claim due messages in the database, send them, record the outcome.

One run handles one batch:

1. Claim, in a transaction of its own that commits before anything is sent: pending rows
   whose `not_before` has come, and 'sending' rows whose claim is older than the lease (a
   dispatcher that died between claim and send). PostgreSQL locks them with FOR UPDATE
   SKIP LOCKED, so a second dispatcher takes other rows; SQLite's BEGIN IMMEDIATE
   serialises the claims. A conditional UPDATE (… WHERE status and moment still match …
   RETURNING) is what makes a row ours: a row another dispatcher moved is not returned.
2. Send each claimed message, and mark it sent in a small transaction right after the
   server accepted it. A process killed in between causes at most one duplicate, carrying
   the same Message-ID; a process killed before the server accepted causes none (the
   lease runs out and another run sends it).
3. A temporary failure puts the row back to 'pending' with exponential backoff (30 s,
   1 min, 2 min … at most 10 min, and never outside the sending window); a permanent
   failure, a message that cannot be rendered, or too many attempts make it 'dead', kept
   for an administrator to `resend`.

`now` is always passed in; nothing here reads the clock. Claims are stamped with it, so a
caller that loops over batches passes a fresh `now` to each, and stops when a batch was
not full (`claimed < batch`) or `halted` (the server took nothing: the next tick retries).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.engine import Connection

from mas.models import OutboxMessage
from mas.notifications.render import build_message
from mas.notifications.transport import PermanentError, TemporaryError

if TYPE_CHECKING:  # the context is built above this layer and handed in
    from mas.context import ServiceContext

log = logging.getLogger(__name__)

_o = OutboxMessage.__table__
DEFAULT_BATCH = 50
DEFAULT_LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 20
BACKOFF_START = timedelta(seconds=30)
BACKOFF_CAP = timedelta(minutes=10)
MAX_ERROR_LENGTH = 500


class Transport(Protocol):
    def send(self, message) -> None: ...


@dataclass
class DispatchResult:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    claimed: int = 0  # == batch: there may be more waiting; run again (with a fresh `now`)
    halted: bool = False  # the server took nothing (unreachable, session refused): stop for this tick


def backoff(attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1`: 30 s · 2^(attempts-1), at most 10 minutes."""
    if attempts < 1:
        return BACKOFF_START
    return min(BACKOFF_START * 2 ** min(attempts - 1, 16), BACKOFF_CAP)


# -- claiming -------------------------------------------------------------------------

def _is_due(now: datetime, lease: timedelta):
    return or_(
        and_(_o.c.status == "pending", _o.c.not_before <= now),
        and_(_o.c.status == "sending", _o.c.claimed_at <= now - lease),
    )


def claim(db, now: datetime, *, worker: str, batch: int = DEFAULT_BATCH, lease: timedelta = DEFAULT_LEASE) -> list:
    """Make up to `batch` due messages ours ('sending', attempts + 1); commits before returning.

    Rows abandoned by a dead dispatcher (claim older than the lease) go first, then pending
    rows in the order they fell due. Each query reads an index range of
    ix_outbox_status_not_before, never the table of sent mail.
    """
    with db.begin() as conn:
        stale = conn.execute(
            select(_o.c.id)
            .where(_o.c.status == "sending", _o.c.claimed_at <= now - lease)
            .order_by(_o.c.claimed_at, _o.c.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).scalars().all()
        pending = conn.execute(
            select(_o.c.id)
            .where(_o.c.status == "pending", _o.c.not_before <= now)
            .order_by(_o.c.not_before, _o.c.id)
            .limit(batch - len(stale))
            .with_for_update(skip_locked=True)
        ).scalars().all() if len(stale) < batch else []
        ids = list(stale) + list(pending)
        if not ids:
            return []
        claimed = conn.execute(
            update(_o)
            .where(_o.c.id.in_(ids), _is_due(now, lease))
            .values(status="sending", claimed_at=now, claimed_by=worker, attempts=_o.c.attempts + 1)
            .returning(*_o.c)
        ).all()
    order = {pk: n for n, pk in enumerate(ids)}
    return sorted(claimed, key=lambda row: order[row.id])


# -- recording outcomes -----------------------------------------------------------------

_MARK_SENT = (
    # Whoever got it accepted records it, even if the lease ran out meanwhile: it left.
    update(_o).where(_o.c.id == bindparam("w_id"), _o.c.status != "sent")
    .values(status="sent", sent_at=bindparam("sent_at"))
)
_RELEASE = (
    # Only while the claim is still ours: a dispatcher that took over decides from then on.
    update(_o)
    .where(_o.c.id == bindparam("w_id"), _o.c.status == "sending", _o.c.claimed_by == bindparam("w_worker"),
           _o.c.claimed_at == bindparam("w_claimed_at"))
    .values(status=bindparam("status"), not_before=bindparam("not_before"), last_error=bindparam("last_error"))
)


def _error_text(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 1] + "…"


def _outcome(ctx: ServiceContext, row, now: datetime, error: str, *, permanent: bool, max_attempts: int) -> dict:
    dead = permanent or row.attempts >= max_attempts
    if dead:
        not_before = row.not_before
    else:  # retries wait for the sending window too
        not_before = ctx.ladders.window.next_opening(now + backoff(row.attempts), ctx.calendar)
    return {"w_id": row.id, "w_worker": row.claimed_by, "w_claimed_at": row.claimed_at,
            "status": "dead" if dead else "pending", "not_before": not_before, "last_error": error}


def _release(db, updates: list[dict], result: DispatchResult) -> None:
    if not updates:
        return
    with db.begin() as conn:
        conn.execute(_RELEASE, updates)
    for u in updates:
        if u["status"] == "dead":
            result.dead += 1
            log.warning("outbox message %s is dead: %s", u["w_id"], u["last_error"])
        else:
            result.retried += 1
            log.info("outbox message %s retries at %s: %s", u["w_id"], u["not_before"].isoformat(), u["last_error"])


# -- the run ----------------------------------------------------------------------------

def dispatch(db, ctx: ServiceContext, now: datetime, transport: Transport, *, worker: str,
             batch: int = DEFAULT_BATCH, lease: timedelta = DEFAULT_LEASE,
             max_attempts: int = MAX_ATTEMPTS) -> DispatchResult:
    """Claim one batch, send it through `transport`, record each outcome."""
    rows = claim(db, now, worker=worker, batch=batch, lease=lease)
    result = DispatchResult(claimed=len(rows))
    try:
        _send_batch(db, ctx, now, transport, rows, result, max_attempts)
    finally:
        # One connection per batch, whoever owns the transport: an SMTP connection kept
        # open between the scheduler's runs would be dropped by the server while idle.
        close = getattr(transport, "close", None)
        if close is not None and rows:
            close()
    return result


def _describe(exc: Exception) -> tuple[str, bool]:
    """The error text to keep, and whether the rest of the batch should wait too."""
    if isinstance(exc, TemporaryError):
        return _error_text(exc), exc.stop_batch
    log.error("unexpected error from the mail transport", exc_info=exc)
    return f"{type(exc).__name__}: {_error_text(exc)}", True  # a transport bug: retry, never lose


def _send_batch(db, ctx: ServiceContext, now: datetime, transport: Transport, rows: list, result: DispatchResult,
                max_attempts: int) -> None:
    for n, row in enumerate(rows):
        try:
            message = build_message(row, ctx.settings, now)
        except Exception as exc:
            log.exception("outbox message %s cannot be rendered", row.id)
            _release(db, [_outcome(ctx, row, now, f"render: {type(exc).__name__}: {_error_text(exc)}",
                                   permanent=True, max_attempts=max_attempts)], result)
            continue
        try:
            transport.send(message)
        except PermanentError as exc:
            _release(db, [_outcome(ctx, row, now, _error_text(exc), permanent=True, max_attempts=max_attempts)], result)
            continue
        except Exception as exc:  # noqa: BLE001 - TemporaryError, or anything unforeseen
            error, stop_batch = _describe(exc)
            # When no message would get through (server unreachable, session refused), the
            # rest of the batch would only sit through the same timeout one by one: they
            # all wait and retry together.
            waiting = rows[n:] if stop_batch else [row]
            _release(db, [_outcome(ctx, r, now, error, permanent=False, max_attempts=max_attempts) for r in waiting],
                     result)
            if stop_batch:
                result.halted = True
                return
            continue
        with db.begin() as conn:
            conn.execute(_MARK_SENT, {"w_id": row.id, "sent_at": now})
        result.sent += 1


# -- for administrators -----------------------------------------------------------------

def resend(conn: Connection, message_pk: int, now: datetime) -> bool:
    """Give a dead message another go (attempts from zero); False if it was not dead."""
    return conn.execute(
        update(_o).where(_o.c.id == message_pk, _o.c.status == "dead")
        .values(status="pending", attempts=0, not_before=now, claimed_at=None, claimed_by=None)
    ).rowcount == 1


def dead_messages(conn: Connection, limit: int = 200) -> list:
    """The messages that gave up, newest first, with why (no message bodies: they are rendered on sending)."""
    return conn.execute(
        select(_o.c.id, _o.c.template, _o.c.recipient, _o.c.case_id, _o.c.message_id, _o.c.attempts,
               _o.c.last_error, _o.c.claimed_at, _o.c.created_at)
        .where(_o.c.status == "dead")
        .order_by(_o.c.id.desc())
        .limit(limit)
    ).all()
