"""APScheduler wiring only: a few thin interval jobs that call the service layer.

Never one job per deadline: the deadlines are rows and the sweep reads the due ones. The
jobs (mas.services.scheduling) claim their work in the database, so several scheduler
processes on one PostgreSQL database never raise the same rung or send the same e-mail
twice. Never started by the web app factory (each web worker would run one); `mas
scheduler` runs it in its own process and `mas demo` inside the demo server.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from mas.dates import utcnow
from mas.services.coverage import ladder_gaps
from mas.services.ladder_changes import note_at_start
from mas.services.mail_status import mail_status
from mas.services.scheduling import run_checkpoint, run_digest, run_dispatch, run_sweep, worker_name

log = logging.getLogger("mas.scheduler")

JOB_DEFAULTS = {
    "coalesce": True,  # after a pause, run a missed job once, not once per missed interval
    "max_instances": 1,  # a slow sweep is never overtaken by the next one
    "misfire_grace_time": 30,  # a run more than 30 s late is skipped; the next one catches up
}


def prepare_process() -> None:
    """A long-lived scheduler: what is loaded at start-up (settings, calendar, statements)
    stays for good, so keep the garbage collector from walking it on every sweep."""
    gc.collect()
    gc.freeze()


def log_startup(db, ctx, clock: Callable[[], datetime] = utcnow) -> None:
    """Say at start-up what would hurt: a changed ladder, a rung that reaches nobody, failing mail."""
    now = clock()
    change = note_at_start(db, ctx, now)
    if change is not None:
        log.warning("the escalation ladders changed since they were last applied; run `mas deadlines recompute`:")
        for line in change.lines():
            log.warning("  %s", line)
    with db.read() as conn:
        gaps = ladder_gaps(conn, ctx)
        mail = mail_status(conn, ctx, now)
    for gap in gaps:
        (log.error if gap.reaches_nobody else log.warning)("ladder coverage: %s", gap.line())
    if not gaps:
        log.info("ladder coverage: every rung of every ladder reaches someone today")
    if mail.is_alarming:
        log.error("no e-mail has been delivered since %s (failing since %s; %d waiting): %s",
                  mail.last_success_at.isoformat() if mail.last_success_at else "the start",
                  mail.failing_since.isoformat(), mail.backlog, mail.last_error)


def _guarded(name: str, job: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            job()
        except Exception:
            log.exception("scheduled job %s failed", name)
    return run


def build_scheduler(db, ctx, transport, *, blocking: bool, sweep_every: float = 60,
                    dispatch_every: float = 10, digest_every: float = 300, checkpoint_every: float = 30,
                    clock: Callable[[], datetime] = utcnow):
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(job_defaults=JOB_DEFAULTS, timezone="UTC")
    worker = worker_name()
    interval = timedelta(seconds=sweep_every)
    scheduler.add_job(_guarded("sweep", lambda: run_sweep(db, ctx, clock(), sweep_interval=interval)), "interval",
                      seconds=sweep_every,
                      id="sweep", name="termijncontrole", next_run_time=clock())
    scheduler.add_job(_guarded("dispatch", lambda: run_dispatch(db, ctx, clock, transport, worker=worker)),
                      "interval", seconds=dispatch_every, id="dispatch", name="verzenden", next_run_time=clock())
    scheduler.add_job(_guarded("digest", lambda: run_digest(db, ctx, clock())), "interval", seconds=digest_every,
                      id="digest", name="dagoverzicht", next_run_time=clock())
    scheduler.add_job(_guarded("checkpoint", lambda: run_checkpoint(db)), "interval", seconds=checkpoint_every, id="checkpoint",
                      name="wal-checkpoint")
    return scheduler
