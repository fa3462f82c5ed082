"""A long SMTP outage loses nothing: an unreachable server charges no message an attempt and
pauses every dispatcher; a message dies only on a permanent answer or by age, and then the case
journal says "niet bezorgd" and the fallback is told once mail works again; `mas status` and the
scheduler's log say how mail is doing. Against the real loopback SMTP server, stopped and started."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner
from sqlalchemy import select

from mas.cli import main
from mas.dates import TZ
from mas.models import CaseEvent
from mas.notifications.transport import SmtpTransport
from mas.services import escalation, scheduling
from tests.factories import open_case
from tests.notifications.helpers import minutes, outbox_rows, queue_messages


def local(*args) -> datetime:
    return datetime(*args, tzinfo=TZ).astimezone(timezone.utc)


def dispatch_at(db, ctx, moment, smtp_settings):
    with SmtpTransport(smtp_settings) as transport:
        return scheduling.run_dispatch(db, ctx, lambda: moment, transport, worker="scheduler-1")


def test_three_hours_without_a_mail_server_lose_nothing(db, ctx, smtp_server, smtp_settings, mailbox):
    noon = local(2026, 3, 3, 12, 0)  # a Tuesday
    ids = queue_messages(db, ctx, noon - minutes(1), 33)
    smtp_server.stop()
    moment = noon
    while moment < noon + timedelta(hours=3):  # the scheduler every five minutes, the server away
        assert dispatch_at(db, ctx, moment, smtp_settings).dead == 0
        moment += minutes(5)
    rows = outbox_rows(db)
    assert {(row.status, row.attempts) for row in rows} == {("pending", 0)}  # nothing dead, nothing charged
    from mas.models import MailHealth

    with db.read() as conn:
        health = conn.execute(select(MailHealth.__table__)).one()
    assert health.failing_since == noon and health.paused_until > moment - minutes(5) and health.failures > 3
    assert "unreachable" in health.last_error

    smtp_server.start()
    while len(outbox_rows(db, "sent")) < len(ids):
        assert moment <= noon + timedelta(hours=3, minutes=15), "not caught up within the 10-minute pause cap"
        dispatch_at(db, ctx, moment, smtp_settings)
        moment += minutes(5)
    assert len(mailbox.messages()) == 33 and set(mailbox.count_by_message_id().values()) == {1}
    with db.read() as conn:
        health = conn.execute(select(MailHealth.__table__)).one()
    assert health.failing_since is None and health.paused_until is None and health.last_success_at is not None


def test_a_message_too_old_dies_the_journal_says_so_and_the_fallback_hears_when_mail_works(
        db, ctx, world, now, smtp_server, smtp_settings, mailbox):
    case = open_case(db, ctx, world, now)
    friday = local(2026, 3, 6, 8, 0)
    escalation.sweep(db, ctx, friday)  # the signaal reminder for the casusregisseur
    [reminder] = outbox_rows(db)
    assert reminder.expires_at == local(2026, 3, 11, 8, 0)  # three working days: Mon, Tue, Wed
    smtp_server.stop()
    moment = friday
    while moment <= local(2026, 3, 11, 9, 0):  # the server stays away for days
        dispatch_at(db, ctx, moment, smtp_settings)
        moment += minutes(30)
    rows = {row.template: row for row in outbox_rows(db)}
    assert rows["reminder"].status == "dead" and "uiterste verzendtijd" in rows["reminder"].last_error
    assert rows["niet_bezorgd"].status == "pending" and rows["niet_bezorgd"].recipient == "coordinator.a@example.org"
    e = CaseEvent.__table__
    with db.read() as conn:
        [event] = conn.execute(select(e).where(e.c.case_id == case.case_id, e.c.kind == "bericht_niet_bezorgd")).all()
    assert (event.data["to"], event.data["template"]) == ("regisseur.a@example.org", "reminder")

    smtp_server.start()
    dispatch_at(db, ctx, local(2026, 3, 11, 10, 0), smtp_settings)
    [notice] = mailbox.messages()
    assert notice.rcpt_tos == ("coordinator.a@example.org",)
    assert case.reference in notice.message["Subject"] and "regisseur.a@example.org" in notice.text
    dispatch_at(db, ctx, local(2026, 3, 11, 11, 0), smtp_settings)
    assert len(mailbox.messages()) == 1  # told once


def test_status_shows_the_last_send_the_backlog_the_oldest_waiting_and_the_dead(db, ctx, settings, smtp_server,
                                                                                smtp_settings, mailbox):
    env = {"MAS_ENV": "test", "MAS_DATABASE_URL": settings.database_url, "MAS_INSTANCE_DIR": str(settings.instance_dir)}
    morning = local(2026, 3, 3, 9, 0)
    queue_messages(db, ctx, morning, 2, prefix="first")
    queue_messages(db, ctx, morning, 1, prefix="gone", recipient="weg@example.org")
    mailbox.refuse["weg@example.org"] = "550 5.1.1 onbekend"
    dispatch_at(db, ctx, morning, smtp_settings)
    smtp_server.stop()
    queue_messages(db, ctx, morning + minutes(5), 3, prefix="later")
    dispatch_at(db, ctx, morning + minutes(10), smtp_settings)
    result = CliRunner().invoke(main, ["status"], env=env)
    lines = result.output.splitlines()
    assert "laatste geslaagde verzending: dinsdag 3 maart 2026, 09:00" in lines
    assert "wachtrij: 3 bericht(en), oudste sinds dinsdag 3 maart 2026, 09:05" in lines
    assert "niet bezorgd: 1" in lines
    assert any(line.startswith("verzenden mislukt sinds: dinsdag 3 maart 2026, 09:10") for line in lines)
    # The real clock is long past the failure: mail has been failing longer than the threshold.
    assert result.exit_code == 1 and "LET OP" in result.output


def test_the_scheduler_logs_a_long_failure_once_and_the_recovery(db, ctx, smtp_server, smtp_settings, mailbox, caplog):
    start = local(2026, 3, 3, 9, 0)
    queue_messages(db, ctx, start, 1)
    smtp_server.stop()
    with caplog.at_level(logging.WARNING, logger="mas.scheduler"):
        for n in range(0, 61, 5):  # an hour; the threshold is 30 minutes
            dispatch_at(db, ctx, start + minutes(n), smtp_settings)
        alarms = [r for r in caplog.records if r.levelno == logging.ERROR and "no e-mail has been delivered" in r.message]
        assert len(alarms) == 1 and "failing since 2026-03-03T08:00:00+00:00" in alarms[0].message
        smtp_server.start()
        dispatch_at(db, ctx, start + minutes(75), smtp_settings)
    assert any("mail is delivered again" in r.message for r in caplog.records)
    assert len(mailbox.messages()) == 1
