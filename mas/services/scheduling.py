"""The scheduler's jobs as service calls: the deadline sweep, the digest, the mail dispatcher.

`mas.scheduler` only wires these into APScheduler; `mas tick` runs each once. Every job
claims its work in the database, so a second scheduler (or a late run) does no harm.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from mas.context import ServiceContext
from mas.db import Database
from mas.notifications.dispatcher import DEFAULT_BATCH, dispatch
from mas.services.digest import queue_digests
from mas.services.escalation import sweep


@dataclass
class TickReport:
    levels_raised: int = 0
    recorded_only: int = 0
    milestones: int = 0
    messages_queued: int = 0
    digests_queued: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_sweep(db: Database, ctx: ServiceContext, now: datetime, report: TickReport | None = None) -> TickReport:
    report = report or TickReport()
    result = sweep(db, ctx, now)
    report.levels_raised += result.levels_raised
    report.recorded_only += result.recorded_only
    report.milestones += result.milestones
    report.messages_queued += result.messages_queued
    return report


def run_digest(db: Database, ctx: ServiceContext, now: datetime, report: TickReport | None = None) -> TickReport:
    report = report or TickReport()
    report.digests_queued += queue_digests(db, ctx, now)
    return report


def run_dispatch(db: Database, ctx: ServiceContext, clock: Callable[[], datetime], transport,
                 report: TickReport | None = None, worker: str | None = None) -> TickReport:
    """Batch after batch while full ones come back, each claimed at a fresh moment (so a long
    backlog never carries claims stamped long ago that another dispatcher would take over)."""
    report = report or TickReport()
    while True:
        result = dispatch(db, ctx, clock(), transport, worker=worker or worker_name())
        report.sent += result.sent
        report.retried += result.retried
        report.dead += result.dead
        if result.claimed < DEFAULT_BATCH or result.halted:
            return report


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
