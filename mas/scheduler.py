"""APScheduler wiring only: a few thin interval jobs that call the service layer.

Never one job per deadline: the deadlines are rows and the sweep reads the due ones. The
jobs claim their work in the database, so several scheduler processes on one PostgreSQL
database never raise the same rung or send the same e-mail twice. Never started by the web
app factory (each web worker would run one); `mas scheduler` runs it in its own process and
`mas demo` inside the demo server.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from mas.context import ServiceContext
from mas.dates import utcnow
from mas.db import Database
from mas.notifications.dispatcher import DEFAULT_BATCH, dispatch
from mas.services.digest import queue_digests
from mas.services.escalation import sweep

log = logging.getLogger("mas.scheduler")

JOB_DEFAULTS = {
    "coalesce": True,  # after a pause, run a missed job once, not once per missed interval
    "max_instances": 1,  # a slow sweep is never overtaken by the next one
    "misfire_grace_time": 30,  # a run more than 30 s late is skipped; the next one catches up
}


@dataclass
class TickReport:
    levels_raised: int = 0
    recorded_only: int = 0
    messages_queued: int = 0
    digests_queued: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0


def open_database(url: str) -> Database:
    """The scheduler's database: on SQLite it checkpoints the WAL in a job of its own."""
    return Database(url, background_checkpoint=True)


def prepare_process() -> None:
    """A long-lived scheduler: what is loaded at start-up (settings, calendar, statements)
    stays for good, so keep the garbage collector from walking it on every sweep."""
    gc.collect()
    gc.freeze()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_sweep(db: Database, ctx: ServiceContext, now: datetime, report: TickReport | None = None) -> TickReport:
    report = report or TickReport()
    result = sweep(db, ctx, now)
    report.levels_raised += result.levels_raised
    report.recorded_only += result.recorded_only
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


def tick(db: Database, ctx: ServiceContext, now: datetime, transport) -> TickReport:
    """Every job once, as if it were `now` (`mas tick --now …`)."""
    report = run_sweep(db, ctx, now)
    run_digest(db, ctx, now, report)
    run_dispatch(db, ctx, lambda: now, transport, report)
    db.checkpoint()
    return report


def _guarded(name: str, job: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            job()
        except Exception:
            log.exception("scheduled job %s failed", name)
    return run


def build_scheduler(db: Database, ctx: ServiceContext, transport, *, blocking: bool, sweep_every: float = 60,
                    dispatch_every: float = 10, digest_every: float = 300, checkpoint_every: float = 30,
                    clock: Callable[[], datetime] = utcnow):
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(job_defaults=JOB_DEFAULTS, timezone="UTC")
    worker = worker_name()
    scheduler.add_job(_guarded("sweep", lambda: run_sweep(db, ctx, clock())), "interval", seconds=sweep_every,
                      id="sweep", name="termijncontrole", next_run_time=clock())
    scheduler.add_job(_guarded("dispatch", lambda: run_dispatch(db, ctx, clock, transport, worker=worker)),
                      "interval", seconds=dispatch_every, id="dispatch", name="verzenden", next_run_time=clock())
    scheduler.add_job(_guarded("digest", lambda: run_digest(db, ctx, clock())), "interval", seconds=digest_every,
                      id="digest", name="dagoverzicht", next_run_time=clock())
    scheduler.add_job(_guarded("checkpoint", db.checkpoint), "interval", seconds=checkpoint_every, id="checkpoint",
                      name="wal-checkpoint")
    return scheduler
