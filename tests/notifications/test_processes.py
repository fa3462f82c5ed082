"""A real scheduler process killed with SIGKILL mid-send, then another dispatcher run.

(a) killed after its claim, before the server accepted: the message arrives exactly once;
    meanwhile a fresh scheduler respects the dead one's lease.
(b) killed after the server accepted, before the row was marked sent: it arrives at most
    twice, both copies with the same Message-ID.

The processes run on the real clock, so they get a sending window that is always open.
"""

from __future__ import annotations

import os
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
    time.sleep(4)  # several of its dispatch runs
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
