"""The dispatcher against a real (loopback) SMTP server, with time passed in as `now`:
no personal data, the sending window, retries with backoff, an outage, dead letters and
resending, leases, two dispatchers at once, the folder for the demo."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import update

from mas.context import make_context
from mas.dates import TZ
from mas.db import Database
from mas.models import OutboxMessage
from mas.notifications import outbox
from mas.notifications.deadletters import dead_messages, resend
from mas.notifications.dispatcher import backoff, dispatch
from mas.notifications.render import render
from mas.notifications.transport import FolderTransport, SmtpTransport, transport_for
from mas.services import escalation
from mas.services.inputs import GuardianInput
from tests.factories import open_case, signal, valid_bsn
from tests.notifications.helpers import (
    SWEEP_AT,
    minutes,
    outbox_row,
    outbox_rows,
    queue_every_kind,
    queue_messages,
    rung_context,
)

_o = OutboxMessage.__table__


def run(db, ctx, now, smtp_settings, *, worker="dispatcher-1", **kwargs):
    with SmtpTransport(smtp_settings) as transport:
        return dispatch(db, ctx, now, transport, worker=worker, **kwargs)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=TZ).astimezone(timezone.utc)


def test_what_arrives_names_no_one(db, world, now, settings, smtp_settings, mailbox):
    # Everything is queued over a week and sent at the end: mail may wait that long here.
    settings = replace(settings, mail=replace(settings.mail, max_age_working_days=10))
    ctx = make_context(settings)
    guardian = GuardianInput("Hendrika Oosterbroek", "moeder", "0687654321", "h.oosterbroek@example.net")
    bsn = valid_bsn(73_100_000)
    queue_every_kind(
        db, ctx, world, now, given_name="Xandriël", family_name="Oosterbroek-Vlaskamp", birth_on=date(2011, 7, 19),
        bsn=bsn, guardians=(guardian,),
        step_title="Huisbezoek bij Xandriël", reason="Moeder Hendrika Oosterbroek neemt niet op",
    )
    rows = outbox_rows(db, "pending")
    result = run(db, ctx, SWEEP_AT, smtp_settings)
    assert (result.sent, result.retried, result.dead) == (len(rows), 0, 0)
    assert {row.status for row in outbox_rows(db)} == {"sent", "dead"}  # the one given up by queue_every_kind

    delivered = {d.message_id: d for d in mailbox.messages()}
    assert len(delivered) == len(rows) == len(mailbox.messages())
    assert {(row.template, row.recipient) for row in rows} == {
        ("doorgezet", "manager.wijkteam@example.org"),
        ("digest", "regisseur.a@example.org"),
        ("reminder", "regisseur.a@example.org"),  # the signaal clock, two school days before
        ("bundel", "regisseur.a2@example.org"),  # two cases' reminders in one message
        ("rung", "regisseur.a@example.org"),  # the doorgezette step
        ("bestuurder", "manager.wijkteam@example.org"),  # the doorgezette step, for the manager without account
        ("niet_bezorgd", "coordinator.a@example.org"),  # the step_assigned message that could not be delivered
        ("enrolment", "nieuw.a@example.org"),  # an invitation: the link to the person's own address
        ("account_changed", "coordinator.a@example.org"),  # the team's coordinator hears of the new account
        ("case_received", "coordinator.b@example.org"),  # the case handed to team B
    }
    personal = [
        "Xandri", "Oosterbroek", "Vlaskamp", bsn, f"{bsn[:4]}.{bsn[4:6]}.{bsn[6:]}", "2011-07-19", "19-07-2011",
        "19 juli 2011", "19/07/2011", "Hendrika", "0687654321", "h.oosterbroek", "Huisbezoek", "neemt niet op",
        signal().description, signal().reporter_name,
    ]
    for row in rows:
        arrived = delivered[row.message_id]  # the stored Message-ID, unchanged
        assert arrived.rcpt_tos == (row.recipient,) and arrived.message["To"] == row.recipient
        assert arrived.mail_from == smtp_settings.mail_from
        # (.strip(): Python folds a subject that fits a line of its own onto the next line)
        assert arrived.message["Subject"].strip() == render(row.template, row.context, settings, now=SWEEP_AT).subject
        assert f"{settings.base_url}/" in arrived.text and f'href="{settings.base_url}/' in arrived.html
        for text in (arrived.raw.decode("utf-8", "replace"), arrived.text, arrived.html, arrived.message["Subject"]):
            for value in personal:
                assert value.lower() not in text.lower(), (row.template, value)


def test_nothing_leaves_outside_the_sending_window(db, ctx, world, now, smtp_settings, mailbox):
    open_case(db, ctx, world, now)
    friday_evening = local(2026, 3, 13, 21, 0)
    # signaal rung 1; the LRV milestone (end of Monday 9 March) is recorded and mails no one
    assert escalation.sweep(db, ctx, friday_evening).messages_queued == 1
    monday_morning = local(2026, 3, 16, 7, 0)
    assert {row.not_before for row in outbox_rows(db)} == {monday_morning}
    for moment in (local(2026, 3, 13, 22, 0), local(2026, 3, 14, 10, 0), monday_morning - timedelta(seconds=1)):
        assert run(db, ctx, moment, smtp_settings).claimed == 0
    assert mailbox.messages() == []
    assert run(db, ctx, monday_morning, smtp_settings).sent == 1
    assert len(mailbox.messages()) == 1


def test_a_451_is_retried_with_backoff_and_delivered_once(db, ctx, now, smtp_settings, mailbox):
    [pk] = queue_messages(db, ctx, now)
    mailbox.defer_next = 2
    assert run(db, ctx, now, smtp_settings).retried == 1
    row = outbox_row(db, pk)
    assert (row.status, row.attempts, row.not_before) == ("pending", 1, now + timedelta(seconds=30))
    assert "451" in row.last_error
    assert run(db, ctx, now + timedelta(seconds=29), smtp_settings).claimed == 0
    assert run(db, ctx, now + timedelta(seconds=30), smtp_settings).retried == 1
    assert outbox_row(db, pk).not_before == now + timedelta(seconds=90)  # then 60 s
    assert run(db, ctx, now + timedelta(seconds=89), smtp_settings).claimed == 0
    assert run(db, ctx, now + timedelta(seconds=90), smtp_settings).sent == 1
    row = outbox_row(db, pk)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 3, now + timedelta(seconds=90))
    assert len(mailbox.messages()) == 1 and mailbox.messages()[0].message_id == row.message_id
    assert run(db, ctx, now + minutes(60), smtp_settings).claimed == 0


def test_backoff_doubles_up_to_ten_minutes():
    assert [backoff(n).total_seconds() for n in range(1, 9)] == [30, 60, 120, 240, 480, 600, 600, 600]


def test_a_retry_waits_for_the_sending_window_too(db, ctx, smtp_settings, mailbox):
    almost_closing = local(2026, 3, 3, 18, 59, 50)
    [pk] = queue_messages(db, ctx, almost_closing)
    mailbox.defer_next = 1
    assert run(db, ctx, almost_closing, smtp_settings).retried == 1
    assert outbox_row(db, pk).not_before == local(2026, 3, 4, 7, 0)


def test_an_hour_without_mail_server_is_caught_up_within_minutes(db, ctx, now, smtp_server, smtp_settings, mailbox):
    ids = queue_messages(db, ctx, now, 25)
    smtp_server.stop()
    outage_over = now + minutes(60)
    moment = now
    while moment < outage_over:  # the scheduler keeps trying, every minute
        result = run(db, ctx, moment, smtp_settings, batch=10)
        assert result.sent == result.dead == 0 and result.halted
        moment += minutes(1)
    rows = outbox_rows(db)
    assert {row.status for row in rows} == {"pending"}
    assert all("unreachable" in row.last_error for row in rows[:10])  # the batch that tried
    assert {row.attempts for row in rows} == {0}  # the server never answered for any of them

    smtp_server.start()
    while len(outbox_rows(db, "sent")) < len(ids):
        moment += timedelta(seconds=30)
        assert moment <= outage_over + minutes(11), "not caught up within the 10-minute backoff cap"
        while run(db, ctx, moment, smtp_settings, batch=10).claimed == 10:
            pass
    assert len(mailbox.messages()) == 25
    assert set(mailbox.count_by_message_id().values()) == {1}  # none twice


def test_a_permanent_refusal_is_dead_until_an_administrator_resends(db, ctx, now, smtp_settings, mailbox):
    mailbox.refuse["vertrokken@example.org"] = "550 5.1.1 Deze ontvanger bestaat niet"
    [gone] = queue_messages(db, ctx, now, recipient="vertrokken@example.org", prefix="gone")
    [fine] = queue_messages(db, ctx, now, prefix="fine")
    result = run(db, ctx, now, smtp_settings)
    assert (result.sent, result.retried, result.dead) == (1, 0, 1)
    with db.read() as conn:
        [dead] = dead_messages(conn)
    assert (dead.id, dead.recipient, dead.attempts) == (gone, "vertrokken@example.org", 1)
    assert "550" in dead.last_error
    assert run(db, ctx, now + minutes(30), smtp_settings).claimed == 0  # dead stays dead

    del mailbox.refuse["vertrokken@example.org"]  # the address was corrected at the other end
    later = now + minutes(45)
    with db.begin() as conn:
        assert resend(conn, gone, later) is True
        assert resend(conn, fine, later) is False  # only dead messages
    assert (outbox_row(db, gone).status, outbox_row(db, gone).attempts) == ("pending", 0)
    assert run(db, ctx, later, smtp_settings).sent == 1
    assert outbox_row(db, gone).status == "sent"
    assert sorted(d.rcpt_tos[0] for d in mailbox.messages()) == ["regisseur.a@example.org", "vertrokken@example.org"]
    with db.read() as conn:
        assert dead_messages(conn) == []


def test_temporary_refusals_never_use_up_a_message_only_its_age_does(db, ctx, now, smtp_settings, mailbox):
    [pk] = queue_messages(db, ctx, now)
    expires = outbox_row(db, pk).expires_at
    assert expires == local(2026, 3, 6, 10, 0)  # Tuesday 10:00 + three working days
    mailbox.defer_next = 10_000
    moment = now
    while moment < expires - minutes(10):  # 451 after 451, for three working days
        run(db, ctx, moment, smtp_settings)
        moment = max(moment + minutes(10), outbox_row(db, pk).not_before)
    row = outbox_row(db, pk)
    assert row.status == "pending" and row.attempts > 20 and "451" in row.last_error
    run(db, ctx, expires, smtp_settings)
    row = outbox_row(db, pk)
    assert row.status == "dead" and "451" in row.last_error and row.attempts > 20


def test_a_message_that_cannot_be_rendered_is_dead_and_the_rest_goes(db, ctx, now, smtp_settings, mailbox):
    broken = outbox.row(ctx, key="broken", template="rung", recipient="regisseur.a@example.org",
                        context={"link": "x"}, case_id=None, now=now, not_before=now)
    with db.begin() as conn:
        outbox.queue(conn, [broken])
    queue_messages(db, ctx, now)
    result = run(db, ctx, now, smtp_settings)
    assert (result.sent, result.dead) == (1, 1)
    [dead] = outbox_rows(db, "dead")
    assert dead.idempotency_key == "broken" and dead.last_error.startswith("render: UndefinedError")


def test_a_claim_whose_lease_ran_out_is_taken_over(db, ctx, now, smtp_settings, mailbox):
    abandoned, busy = queue_messages(db, ctx, now, 2)
    with db.begin() as conn:  # one dispatcher died 6 minutes ago; another claimed a minute ago
        conn.execute(update(_o).where(_o.c.id == abandoned).values(
            status="sending", claimed_at=now - minutes(6), claimed_by="died", attempts=1))
        conn.execute(update(_o).where(_o.c.id == busy).values(
            status="sending", claimed_at=now - minutes(1), claimed_by="busy", attempts=1))
    result = run(db, ctx, now, smtp_settings, worker="dispatcher-2")
    assert (result.claimed, result.sent) == (1, 1)
    taken = outbox_row(db, abandoned)
    assert (taken.status, taken.claimed_by, taken.attempts, taken.sent_at) == ("sent", "dispatcher-2", 2, now)
    still = outbox_row(db, busy)
    assert (still.status, still.claimed_by) == ("sending", "busy")
    assert [d.message_id for d in mailbox.messages()] == [taken.message_id]


def test_two_dispatchers_at_once_send_each_message_once(db, ctx, now, settings, smtp_settings, mailbox):
    queue_messages(db, ctx, now, 40)
    errors = []

    def worker(name):
        database = Database(settings.database_url)
        try:
            while run(database, ctx, now, smtp_settings, worker=name, batch=3).claimed:
                pass
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            database.dispose()

    threads = [threading.Thread(target=worker, args=(f"dispatcher-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(mailbox.messages()) == 40
    assert set(mailbox.count_by_message_id().values()) == {1}
    rows = outbox_rows(db)
    assert {row.status for row in rows} == {"sent"} and {row.attempts for row in rows} == {1}


def test_without_a_smtp_host_the_mail_goes_to_the_instance_folder(db, ctx, now, settings):
    assert settings.smtp.host is None  # the test settings: nothing can go out
    queue_messages(db, ctx, now, 2)
    transport = transport_for(settings)
    assert isinstance(transport, FolderTransport)
    with transport:
        assert dispatch(db, ctx, now, transport, worker="demo").sent == 2
    files = sorted((settings.instance_dir / "mail").glob("*.eml"))
    assert len(files) == 2
    rows = outbox_rows(db)
    assert {row.status for row in rows} == {"sent"}
    contents = b"".join(path.read_bytes() for path in files)
    for row in rows:
        assert f"Message-ID: {row.message_id}".encode() in contents


def test_the_stored_context_is_what_a_rung_message_shows(db, ctx, now, smtp_settings, mailbox):
    [pk] = queue_messages(db, ctx, now)
    run(db, ctx, now, smtp_settings)
    [arrived] = mailbox.messages()
    assert rung_context()["what"] in arrived.text
    assert arrived.message["Message-ID"] == outbox_row(db, pk).message_id
