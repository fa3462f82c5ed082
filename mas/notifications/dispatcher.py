"""The outbox dispatcher: claim due messages in the database, send them, record the outcome.

One run handles one batch:

0. If a dispatcher found the mail server unreachable a moment ago, every dispatcher on the
   database waits (`mail_health.paused_until`, backing off 30 s, 1 min, … at most 10 min).
   Messages older than their `expires_at` ([mail] max_age_working_days) are given up, even
   while the server is away. Outside the sending window nothing is claimed at all.
1. Claim, in a transaction of its own that commits before anything is sent: pending rows
   whose `not_before` has come, and 'sending' rows whose claim is older than the lease (a
   dispatcher that died between claim and send). PostgreSQL locks them with FOR UPDATE
   SKIP LOCKED, so a second dispatcher takes other rows; SQLite's BEGIN IMMEDIATE
   serialises the claims. A conditional UPDATE (… WHERE status and moment still match …
   RETURNING) is what makes a row ours: a row another dispatcher moved is not returned.
2. `hooks.prepare` (the service layer) drops what is no longer true and re-addresses what
   reaches someone who has left, in one transaction.
3. Send each claimed message. After each one, one small transaction records its outcome and
   renews the claim on the rest of the batch (`claimed_at` from the clock), so a slow server
   never lets the lease run out under a batch that is still being worked through; a message
   whose claim another dispatcher took over meanwhile is left to it. A process killed
   between the server's acceptance and that transaction causes at most one duplicate,
   carrying the same Message-ID; one killed before acceptance causes none.
4. Outcomes. An attempt is counted only when the server answered for that message:
   - accepted: sent;
   - 4xx for this message: retried with exponential backoff (30 s, 1 min, 2 min … at most
     10 min), never outside the sending window;
   - 5xx, or a message that cannot be rendered: dead at once (`hooks.on_dead`);
   - the server cannot be reached or refuses the session: nothing is charged; the rest of
     the batch goes back as it was and the dispatcher pauses (step 0).
   A message dies only by a permanent answer or by age, never by counting the retries of an
   unreachable server; dead messages stay for an administrator to resend.

`now` is the run's moment (claims, outcomes, backoff); `clock` (default: `now` itself) stamps
lease renewals. A caller that loops over batches passes a fresh `now` to each, and stops
when a batch was not full (`claimed < batch`) or `halted`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import and_, bindparam, func, literal, or_, select, update
from sqlalchemy.engine import Connection

from mas.models import OutboxMessage
from mas.notifications import health as mail_health
from mas.notifications.errors import PermanentError, TemporaryError

if TYPE_CHECKING:  # the context is built above this layer and handed in
    from mas.context import ServiceContext

log = logging.getLogger(__name__)

_o = OutboxMessage.__table__
DEFAULT_BATCH = 50
DEFAULT_LEASE = timedelta(minutes=5)
BACKOFF_START = timedelta(seconds=30)
BACKOFF_CAP = timedelta(minutes=10)
MAX_ERROR_LENGTH = 500
WAITING = ("pending", "sending")


class Transport(Protocol):
    def send(self, message) -> None: ...


@dataclass(frozen=True)
class Claimed:
    """A claimed outbox row; `hooks.prepare` may hand back a changed copy (a new recipient)."""

    id: int
    idempotency_key: str
    message_id: str
    template: str
    recipient: str
    context: dict
    case_id: int | None
    attempts: int
    not_before: datetime
    created_at: datetime
    expires_at: datetime | None
    recipient_role: str | None
    recipient_user_id: int | None
    recipient_organisation_id: int | None
    team_id: int | None
    last_error: str | None = None

    @classmethod
    def of(cls, row) -> Claimed:
        mapping = row._mapping
        return cls(**{f.name: mapping[f.name] for f in fields(cls)})


class Hooks(Protocol):
    """What the service layer decides around sending (mas.services.delivery)."""

    def prepare(self, conn: Connection, rows: list[Claimed], now: datetime) -> list[Claimed]:
        """The rows to send now, possibly re-addressed; the others it has settled itself."""
        ...

    def on_dead(self, conn: Connection, rows: list[Claimed], now: datetime) -> None:
        """Messages that were given up, in the transaction that gave them up."""
        ...


@dataclass
class DispatchResult:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    dropped: int = 0  # settled by hooks.prepare: no longer true, or nobody left to tell
    expired: int = 0  # given up by age (also counted in dead)
    claimed: int = 0  # == batch: there may be more waiting; run again (with a fresh `now`)
    halted: bool = False  # the server took nothing (unreachable, session refused): stop for this tick
    paused_until: datetime | None = None  # the dispatchers wait until then (server unreachable)
    recovered_from: datetime | None = None  # mail had been failing since then and works again
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1`: 30 s · 2^(attempts-1), at most 10 minutes."""
    if attempts < 1:
        return BACKOFF_START
    return min(BACKOFF_START * 2 ** min(attempts - 1, 16), BACKOFF_CAP)


def _error_text(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 1] + "…"


# -- claiming -------------------------------------------------------------------------

def _is_due(now: datetime, lease: timedelta):
    return or_(
        and_(_o.c.status == "pending", _o.c.not_before <= now),
        and_(_o.c.status == "sending", _o.c.claimed_at <= now - lease),
    )


_ANY_PENDING = select(_o.c.id).where(_o.c.status == "pending", _o.c.not_before <= bindparam("now")).limit(1)
_ANY_STALE = select(_o.c.id).where(_o.c.status == "sending", _o.c.claimed_at <= bindparam("stale")).limit(1)


def has_due(conn: Connection, now: datetime, lease: timedelta = DEFAULT_LEASE) -> bool:
    return (conn.execute(_ANY_PENDING, {"now": now}).first() is not None
            or conn.execute(_ANY_STALE, {"stale": now - lease}).first() is not None)


def claim(db, now: datetime, *, worker: str, batch: int = DEFAULT_BATCH, lease: timedelta = DEFAULT_LEASE) -> list:
    """Make up to `batch` due messages ours ('sending'); commits before returning.

    Rows abandoned by a dead dispatcher (claim older than the lease) go first, then pending
    rows in the order they fell due. Each query reads an index range of
    ix_outbox_status_not_before, never the table of sent mail. Claiming charges no attempt.
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
            .values(status="sending", claimed_at=now, claimed_by=worker)
            .returning(*_o.c)
        ).all()
    order = {pk: n for n, pk in enumerate(ids)}
    return sorted(claimed, key=lambda row: order[row.id])


# -- expiry ---------------------------------------------------------------------------------

_TOO_OLD = select(_o.c.id).where(_o.c.status.in_(WAITING), _o.c.expires_at <= bindparam("now")).limit(1)


def expire(db, now: datetime, *, lease: timedelta = DEFAULT_LEASE, hooks: Hooks | None = None) -> int:
    """Give up waiting messages older than their expires_at (also while the server is away)."""
    with db.read() as conn:  # usually nothing: a read, no write lock taken
        if conn.execute(_TOO_OLD, {"now": now}).first() is None:
            return 0
    reason = literal("niet aangenomen voor de uiterste verzendtijd; laatste fout: ") + func.coalesce(
        _o.c.last_error, "geen")
    with db.begin() as conn:
        dead = conn.execute(
            update(_o)
            .where(or_(_o.c.status == "pending", and_(_o.c.status == "sending", _o.c.claimed_at <= now - lease)),
                   _o.c.expires_at <= now)
            .values(status="dead", last_error=func.substr(reason, 1, MAX_ERROR_LENGTH))
            .returning(*_o.c)
        ).all()
        if dead:
            for row in dead:
                log.warning("outbox message %s is dead: %s", row.id, row.last_error)
            if hooks is not None:
                hooks.on_dead(conn, [Claimed.of(row) for row in dead], now)
    return len(dead)


# -- recording outcomes -----------------------------------------------------------------

_MARK_SENT = (
    # Whoever got it accepted records it, even if the lease ran out meanwhile: it left.
    update(_o).where(_o.c.id == bindparam("w_id"), _o.c.status != "sent")
    .values(status="sent", sent_at=bindparam("sent_at"), attempts=_o.c.attempts + 1)
)
_RELEASE = (
    # Only while the claim is still ours: a dispatcher that took over decides from then on.
    update(_o)
    .where(_o.c.id == bindparam("w_id"), _o.c.status == "sending", _o.c.claimed_by == bindparam("w_worker"))
    .values(status=bindparam("status"), not_before=bindparam("not_before"), last_error=bindparam("last_error"),
            attempts=_o.c.attempts + bindparam("charged"))
    .returning(*_o.c)
)


def _renew(conn: Connection, ids: list[int], worker: str, at: datetime) -> set[int]:
    """Stamp the claims still ours with `at`; returns their ids (a row taken over is not)."""
    if not ids:
        return set()
    return set(conn.execute(
        update(_o).where(_o.c.id.in_(ids), _o.c.status == "sending", _o.c.claimed_by == worker)
        .values(claimed_at=at).returning(_o.c.id)
    ).scalars())


@dataclass
class _Outcome:
    row: Claimed
    status: str  # pending | dead
    not_before: datetime
    error: str
    charged: int  # 1: the server answered for this message; 0: it never got the chance


def _retry(ctx: ServiceContext, row: Claimed, now: datetime, error: str) -> _Outcome:
    attempts = row.attempts + 1
    not_before = ctx.ladders.window.next_opening(now + backoff(attempts), ctx.calendar)
    return _Outcome(row, "pending", not_before, error, 1)


def _settle(db, outcomes: list[_Outcome], result: DispatchResult, *, worker: str, hooks: Hooks | None, now: datetime,
            sent: Claimed | None = None, renew: list[int] = (), at: datetime | None = None) -> set[int]:
    """One transaction: a sent mark or released rows, and the renewed claim on the rest."""
    with db.begin() as conn:
        if sent is not None:
            conn.execute(_MARK_SENT, {"w_id": sent.id, "sent_at": now})
        released = []
        for o in outcomes:
            row = conn.execute(_RELEASE, {"w_id": o.row.id, "w_worker": worker, "status": o.status,
                                          "not_before": o.not_before, "last_error": o.error,
                                          "charged": o.charged}).one_or_none()
            if row is not None:
                released.append((o, row))
        dead = [Claimed.of(row) for o, row in released if o.status == "dead"]
        if dead and hooks is not None:
            hooks.on_dead(conn, dead, now)
        ours = _renew(conn, list(renew), worker, at or now)
    for o, _row in released:
        if o.status == "dead":
            result.dead += 1
            log.warning("outbox message %s is dead: %s", o.row.id, o.error)
        elif o.charged:
            result.retried += 1
            log.info("outbox message %s retries at %s: %s", o.row.id, o.not_before.isoformat(), o.error)
    return ours


# -- the run ----------------------------------------------------------------------------

def dispatch(db, ctx: ServiceContext, now: datetime, transport: Transport, *, worker: str,
             batch: int = DEFAULT_BATCH, lease: timedelta = DEFAULT_LEASE, hooks: Hooks | None = None,
             clock: Callable[[], datetime] | None = None) -> DispatchResult:
    """Claim one batch, send it through `transport`, record each outcome."""
    result = DispatchResult()
    with db.read() as conn:
        state = mail_health.health(conn)
    if state is not None and state.paused_until is not None and state.paused_until > now:
        result.halted, result.paused_until = True, state.paused_until
        result.expired = result.dead = expire(db, now, lease=lease, hooks=hooks)
        return result
    result.expired = result.dead = expire(db, now, lease=lease, hooks=hooks)
    with db.read() as conn:
        if not has_due(conn, now, lease):
            return result
    if not ctx.ladders.window.is_open(now, ctx.calendar):  # the window holds for every message, retries too
        return result
    rows = [Claimed.of(row) for row in claim(db, now, worker=worker, batch=batch, lease=lease)]
    result.claimed = len(rows)
    if not rows:
        return result
    if hooks is not None:
        try:
            with db.begin() as conn:
                kept = hooks.prepare(conn, rows, now)
        except Exception:
            # Give the batch back at once rather than leave it to the lease: nothing was sent.
            _settle(db, [_Outcome(r, "pending", r.not_before, r.last_error, 0) for r in rows], result,
                    worker=worker, hooks=None, now=now)
            raise
        result.dropped = len(rows) - len(kept)
        rows = kept
    try:
        _send_batch(db, ctx, now, clock or (lambda: now), transport, rows, result, worker, hooks)
    finally:
        # One connection per batch, whoever owns the transport: an SMTP connection kept
        # open between the scheduler's runs would be dropped by the server while idle.
        close = getattr(transport, "close", None)
        if close is not None:
            close()
    if result.sent:
        result.recovered_from = mail_health.record_success(db, now)
    elif result.retried and not result.halted:
        mail_health.record_failure(db, now, result.errors[-1])
    return result


def _send_batch(db, ctx: ServiceContext, now: datetime, clock: Callable[[], datetime], transport: Transport,
                rows: list[Claimed], result: DispatchResult, worker: str, hooks: Hooks | None) -> None:
    from mas.notifications.render import build_message  # Jinja2 only when something is sent

    ours = {row.id for row in rows}
    for n, row in enumerate(rows):
        rest = [r.id for r in rows[n + 1:] if r.id in ours]
        if row.id not in ours:
            continue  # another dispatcher took it over while this batch was slow: it is theirs
        try:
            message = build_message(_as_mapping(row), ctx.settings, now)
        except Exception as exc:
            log.exception("outbox message %s cannot be rendered", row.id)
            error = f"render: {type(exc).__name__}: {_error_text(exc)}"
            ours = _settle(db, [_Outcome(row, "dead", row.not_before, error, 0)], result, worker=worker, hooks=hooks,
                           now=now, renew=rest, at=clock())
            continue
        try:
            transport.send(message)
        except PermanentError as exc:
            error = _error_text(exc)
            result.errors.append(error)
            ours = _settle(db, [_Outcome(row, "dead", row.not_before, error, 1)], result, worker=worker, hooks=hooks,
                           now=now, renew=rest, at=clock())
            continue
        except Exception as exc:  # noqa: BLE001 - TemporaryError, or anything unforeseen
            error, server_level = _describe(exc)
            result.errors.append(error)
            if not server_level:  # the server answered 4xx for this message: one attempt
                ours = _settle(db, [_retry(ctx, row, now, error)], result, worker=worker, hooks=hooks, now=now,
                               renew=rest, at=clock())
                continue
            # Nothing would get through (unreachable, session refused, hung up): the rest of
            # the batch goes back as it was, uncharged, and every dispatcher pauses.
            waiting = [r for r in rows[n:] if r.id in ours]
            _settle(db, [_Outcome(r, "pending", r.not_before, error, 0) for r in waiting], result, worker=worker,
                    hooks=hooks, now=now)
            result.halted = True
            result.paused_until = mail_health.record_unreachable(db, now, error, backoff)
            log.warning("mail server unreachable (%s); dispatchers pause until %s", error,
                        result.paused_until.isoformat())
            return
        ours = _settle(db, [], result, worker=worker, hooks=hooks, now=now, sent=row, renew=rest, at=clock())
        result.sent += 1


def _as_mapping(row: Claimed) -> dict[str, Any]:
    return {f.name: getattr(row, f.name) for f in fields(row)}


def _describe(exc: Exception) -> tuple[str, bool]:
    """The error text to keep, and whether it is the server's (True) rather than this message's."""
    if isinstance(exc, TemporaryError):
        return _error_text(exc), exc.stop_batch
    log.error("unexpected error from the mail transport", exc_info=exc)
    return f"{type(exc).__name__}: {_error_text(exc)}", True  # a transport bug: retry, never lose, charge nothing


def replace_row(row: Claimed, **changes) -> Claimed:
    return replace(row, **changes)
