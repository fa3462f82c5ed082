"""The scheduler's jobs as service calls: the deadline sweep, the digest, the mail dispatcher.

`mas.scheduler` only wires these into APScheduler; `mas tick` runs each once (from cron, say).
Every job claims its work in the database, so a second scheduler (or a late run) does no
harm. Nothing here imports APScheduler or Jinja2: a tick that sends nothing loads neither.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from mas.context import ServiceContext
from mas.db import Database
from mas.models import Team
from mas.notifications.dispatcher import DEFAULT_BATCH, dispatch
from mas.notifications.health import claim_alert
from mas.services import pending_uploads
from mas.services.delivery import DeliveryHooks
from mas.services.digest import queue_digests
from mas.services.escalation import sweep
from mas.services.handover import plan_handovers

log = logging.getLogger("mas.scheduler")


@dataclass
class TickReport:
    levels_raised: int = 0
    recorded_only: int = 0
    milestones: int = 0
    messages_queued: int = 0
    digests_queued: int = 0
    fallbacks: int = 0
    unreachable: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    dropped: int = 0
    paused_until: datetime | None = None
    handovers: int = 0
    figures_made: int = 0  # cases whose dashboard facts were made ahead
    uploads_purged: int = 0  # import files nobody confirmed before they expired


class LazyTransport:
    """Builds the real transport (smtplib, ssl, email) only when a message is to be sent."""

    def __init__(self, factory: Callable[[], object]):
        self.factory = factory
        self._transport = None

    def send(self, message) -> None:
        if self._transport is None:
            self._transport = self.factory()
        self._transport.send(message)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_sweep(db: Database, ctx: ServiceContext, now: datetime, report: TickReport | None = None,
              sweep_interval: timedelta | None = None) -> TickReport:
    report = report or TickReport()
    result = sweep(db, ctx, now) if sweep_interval is None else sweep(db, ctx, now, sweep_interval=sweep_interval)
    report.levels_raised += result.levels_raised
    report.recorded_only += result.recorded_only
    report.milestones += result.milestones
    report.messages_queued += result.messages_queued
    report.fallbacks += result.fallbacks
    report.unreachable += result.unreachable
    if result.unreachable:
        log.error("%d escalation level(s) reached nobody, not even a fallback: run `mas check`", result.unreachable)
    return report


def run_digest(db: Database, ctx: ServiceContext, now: datetime, report: TickReport | None = None) -> TickReport:
    """The daily digest, and the handover clocks of youths whose obligation changes soon (both are
    about days, not minutes); and the import files nobody confirmed, once expired."""
    report = report or TickReport()
    report.uploads_purged += pending_uploads.purge(db, ctx, now)
    report.handovers += plan_handovers(db, ctx, now)
    report.digests_queued += queue_digests(db, ctx, now)
    report.figures_made += keep_figures(db, ctx, now)
    return report


def keep_figures(db: Database, ctx: ServiceContext, now: datetime) -> int:
    """The dashboard's facts per case, made ahead for every team (the dashboard still makes on
    read whatever is missing or stale), so that no coordinator's view pays for making them:
    after migration 0017 that was 3.5–4.5 s for a team of 20,000 cases. Idempotent."""
    from mas.services.figures import facts  # here, not above: a `mas tick` that finds nothing stays light

    with db.read() as conn:
        team_ids = conn.execute(select(Team.__table__.c.id).order_by(Team.__table__.c.id)).scalars().all()
    return sum(facts.keep(db, ctx, (team_id,), now) for team_id in team_ids)


def run_dispatch(db: Database, ctx: ServiceContext, clock: Callable[[], datetime], transport,
                 report: TickReport | None = None, worker: str | None = None, *, batch: int = DEFAULT_BATCH,
                 lease: timedelta | None = None) -> TickReport:
    """Batch after batch while full ones come back, each claimed at a fresh moment (so a long
    backlog never carries claims stamped long ago that another dispatcher would take over);
    each claim renewed from `clock` as the batch goes."""
    report = report or TickReport()
    hooks = DeliveryHooks(ctx)
    options = {"lease": lease} if lease is not None else {}
    while True:
        now = clock()
        result = dispatch(db, ctx, now, transport, worker=worker or worker_name(), batch=batch, hooks=hooks,
                          clock=clock, **options)
        report.sent += result.sent
        report.retried += result.retried
        report.dead += result.dead
        report.dropped += result.dropped
        report.paused_until = result.paused_until
        if result.recovered_from is not None:
            log.warning("mail is delivered again (it had been failing since %s)", result.recovered_from.isoformat())
        if result.halted or result.retried:
            _alert_if_long(db, ctx, now)
        if result.claimed < batch or result.halted:
            return report


def _alert_if_long(db: Database, ctx: ServiceContext, now: datetime) -> None:
    row = claim_alert(db, now, timedelta(minutes=ctx.settings.mail.alert_after_minutes))
    if row is not None:
        log.error("no e-mail has been delivered since %s (failing since %s): %s. Waiting mail is kept and sent "
                  "when the server works again; see `mas status`.",
                  row.last_success_at.isoformat() if row.last_success_at else "the start",
                  row.failing_since.isoformat(), row.last_error)


def run_checkpoint(db: Database) -> None:
    """SQLite: fold the WAL into the database between sweeps (PostgreSQL checkpoints itself)."""
    db.checkpoint()


def tick(db: Database, ctx: ServiceContext, now: datetime, transport) -> TickReport:
    """Every job once, as if it were `now` (`mas tick --now …`)."""
    report = run_sweep(db, ctx, now)
    run_digest(db, ctx, now, report)
    run_dispatch(db, ctx, lambda: now, transport, report)
    run_checkpoint(db)
    return report
