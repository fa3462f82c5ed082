"""A real scheduler process killed with SIGKILL mid-send, then another dispatcher run.

(a) killed after its claim, before the server accepted: the message arrives exactly once;
    meanwhile a fresh scheduler respects the dead one's lease.
(b) killed after the server accepted, before the row was marked sent: it arrives at most
    twice, both copies with the same Message-ID.

The processes run on the real clock, so they get a sending window that is always open.

And the positive control: the same scheduler, not killed, delivers the same kind of message
within the dispatch runs (a) watches its second scheduler do. So when a test here sees no
delivery, that is the kill or the lease at work, not a set-up in which nothing would ever
arrive. Runs are counted from the process's log (APScheduler logs each finished job), not
guessed from the wall clock, so a slow machine cannot make (a) pass by watching too little.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from mas.dates import utcnow
from mas.notifications.dispatcher import DEFAULT_LEASE, dispatch
from mas.notifications.transport import SmtpTransport
from tests.notifications.helpers import open_window_settings, outbox_row, queue_messages

pytestmark = pytest.mark.slow

LONG_AGO = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)  # due long before the process's real clock
SCHEDULER = ["-m", "mas.cli", "scheduler", "--sweep-every", "1", "--dispatch-every", "1", "--digest-every", "3600"]
# How many dispatch runs of a fresh scheduler are watched: (a) sees no delivery in them, the
# positive control must see one in them.
WATCH_RUNS = 3


class SchedulerProcess:
    """`mas scheduler` in a child process, pointed at the test database and the loopback server."""

    def __init__(self, settings, smtp_settings, workdir, name: str):
        env = {key: value for key, value in os.environ.items() if not key.startswith("MAS_")}
        env.update(MAS_ENV="test", MAS_DATABASE_URL=settings.database_url, MAS_INSTANCE_DIR=str(settings.instance_dir),
                   MAS_CONFIG_DIR=str(settings.config_dir),
                   MAS_SMTP_HOST=smtp_settings.host, MAS_SMTP_PORT=str(smtp_settings.port),
                   MAS_MAIL_FROM=smtp_settings.mail_from)
        self.log_path = workdir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen([sys.executable, *SCHEDULER], env=env, cwd=workdir, stdout=self._log,
                                        stderr=subprocess.STDOUT)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if not self._log.closed:
            self._log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def dispatch_runs(self) -> int:
        """Dispatch runs the process has finished, as its log says; a run that failed is a test failure."""
        output = self.output()
        assert "scheduled job dispatch failed" not in output, output
        return len(re.findall(r'^.*Job "verzenden \(.*\)" executed successfully$', output, re.MULTILINE))

    def wait_for_dispatch_runs(self, count: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.dispatch_runs() < count:
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the scheduler finished {self.dispatch_runs()} dispatch runs, not {count}:\n{self.output()}")
            time.sleep(0.05)


@pytest.fixture
def settings(tmp_path, database_url):
    return open_window_settings(tmp_path, database_url)


@pytest.fixture
def processes(tmp_path):
    started = []

    def start(settings, smtp_settings, name="scheduler"):
        process = SchedulerProcess(settings, smtp_settings, tmp_path, name)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def _wait_held(mailbox, process, timeout=60.0) -> None:
    if not mailbox.held.wait(timeout):
        process.stop()
        pytest.fail(f"the scheduler never reached the mail server:\n{process.output()}")


def _wait_status(db, pk: int, status: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    row = outbox_row(db, pk)
    while row.status != status and time.monotonic() < deadline:
        time.sleep(0.05)
        row = outbox_row(db, pk)
    return row


def _rescue(db, ctx, smtp_settings, row):
    """A later dispatcher run, once the killed process's lease has run out."""
    later = row.claimed_at + DEFAULT_LEASE + timedelta(seconds=1)
    with SmtpTransport(smtp_settings) as transport:
        return dispatch(db, ctx, later, transport, worker="rescuer")


def test_killed_before_the_server_accepted_the_message_arrives_once(db, ctx, settings, smtp_settings, mailbox,
                                                                    processes):
    [pk] = queue_messages(db, ctx, utcnow(), not_before=LONG_AGO)
    mailbox.hold = "before_accept"
    first = processes(settings, smtp_settings, "first")
    _wait_held(mailbox, first)
    claimed = outbox_row(db, pk)
    assert (claimed.status, claimed.attempts) == ("sending", 0)  # the claim was committed before sending
    first.kill()
    mailbox.release.set()  # the held DATA is answered to a dead connection and not kept

    # A new scheduler at once: the dead process's lease has not run out, so it waits.
    mailbox.hold = None
    second = processes(settings, smtp_settings, "second")
    second.wait_for_dispatch_runs(WATCH_RUNS)
    assert second.process.poll() is None, second.output()  # it ran all along
    second.stop()
    assert mailbox.messages() == [], second.output()
    assert outbox_row(db, pk).status == "sending"

    result = _rescue(db, ctx, smtp_settings, claimed)
    assert result.sent == 1
    row = outbox_row(db, pk)
    assert (row.status, row.attempts, row.claimed_by) == ("sent", 1, "rescuer")  # the one answer it got
    assert [d.message_id for d in mailbox.messages()] == [row.message_id]


def test_killed_after_the_server_accepted_at_most_one_duplicate_with_the_same_id(db, ctx, settings, smtp_settings,
                                                                                mailbox, processes):
    [pk] = queue_messages(db, ctx, utcnow(), not_before=LONG_AGO)
    mailbox.hold = "after_accept"
    process = processes(settings, smtp_settings)
    _wait_held(mailbox, process)
    claimed = outbox_row(db, pk)
    assert claimed.status == "sending"
    process.kill()
    mailbox.release.set()
    assert len(mailbox.messages()) == 1  # the server has it; the row does not know

    mailbox.hold = None
    assert _rescue(db, ctx, smtp_settings, claimed).sent == 1
    row = outbox_row(db, pk)
    assert row.status == "sent"
    delivered = mailbox.messages()
    assert 1 <= len(delivered) <= 2
    assert {d.message_id for d in delivered} == {row.message_id}
    assert _rescue(db, ctx, smtp_settings, row).claimed == 0  # and never a third time


def test_a_live_scheduler_delivers_the_message_once_within_the_watched_runs(db, ctx, settings, smtp_settings,
                                                                             mailbox, processes):
    """The positive control: no kill, no lease in the way; the process sends, and only once."""
    # Queued now (a message queued long ago would die of age, [mail] max_age_working_days), due long ago.
    [pk] = queue_messages(db, ctx, utcnow(), not_before=LONG_AGO)
    process = processes(settings, smtp_settings)
    delivered = mailbox.wait_for(1, timeout=60)
    finished_before = process.dispatch_runs()  # the run that delivered it is still busy (or has just finished)
    assert len(delivered) == 1, f"no delivery:\n{process.output()}"
    assert finished_before < WATCH_RUNS, process.output()
    row = _wait_status(db, pk, "sent")  # marked right after the server accepted it
    assert (row.status, row.attempts, row.claimed_by.rsplit(":", 1)[1]) == ("sent", 1, str(process.process.pid))
    assert [(d.message_id, d.rcpt_tos) for d in delivered] == [(row.message_id, ("regisseur.a@example.org",))]
    process.wait_for_dispatch_runs(finished_before + 1 + WATCH_RUNS)  # more runs: nothing is sent again
    assert process.process.poll() is None, process.output()  # it ran all along
    assert len(mailbox.messages()) == 1 and outbox_row(db, pk).status == "sent"
