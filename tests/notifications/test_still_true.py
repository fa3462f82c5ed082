"""Send what is still true, when it may be sent, once: a rung whose step was done meanwhile is
dropped (and journalled); after downtime the assignee and the highest rung hear of it, one
bundle per recipient; the sending window holds for retries and digests; a slow server never
lets a second dispatcher send the same messages; calendar rungs keep their Dutch wall-clock
time across a change to summer time. Against the real loopback SMTP server."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select

from mas.clocks.ladder import Ladders, Level
from mas.dates import TZ, end_of_day, utcnow
from mas.db import Database
from mas.models import CaseEvent
from mas.notifications.dispatcher import dispatch
from mas.notifications.transport import SmtpTransport
from mas.services import scheduling, steps
from mas.services.digest import queue_digests
from tests.factories import open_case
from tests.notifications.helpers import open_window_settings, outbox_rows, queue_messages

STEP = "Stap voor een partnerorganisatie"
SIGNAAL = "Signaal: contact leggen en gesprek plannen"


def local(*args) -> datetime:
    return datetime(*args, tzinfo=TZ).astimezone(timezone.utc)


def tick(db, ctx, now, smtp_settings):
    with SmtpTransport(smtp_settings) as transport:
        return scheduling.tick(db, ctx, now, transport)


def test_a_rung_that_is_no_longer_true_when_the_window_opens_is_dropped_and_journalled(
        db, ctx, world, now, smtp_settings, mailbox):
    case = open_case(db, ctx, world, now)
    with db.begin() as conn:
        step_id = steps.assign_step(conn, ctx, world.regisseur_a, case.case_id, organisation_id=world.wijkteam,
                                    title="Huisbezoek", due_at=local(2026, 3, 13, 20, 0), now=now)
    tick(db, ctx, now, smtp_settings)  # the step's assignment goes out at once
    mailbox.delivered.clear()
    tick(db, ctx, local(2026, 3, 13, 20, 30), smtp_settings)  # Friday evening: the rung waits for Monday
    assert mailbox.messages() == []
    with db.begin() as conn:  # Saturday: the partner finishes the step
        steps.complete_step(conn, world.partner_wijkteam, step_id, now=local(2026, 3, 14, 11), expected_version=1)
    tick(db, ctx, local(2026, 3, 16, 7, 30), smtp_settings)
    arrived = mailbox.messages()
    assert not [d for d in arrived if STEP in d.text]  # nobody hears "termijn verstreken" for a finished step
    assert "wijkteam@example.org" not in {d.rcpt_tos[0] for d in arrived}
    # The casusregisseur's bundle still tells what is still true: the signaal clock.
    [regisseur] = [d for d in arrived if d.rcpt_tos == ("regisseur.a@example.org",) and SIGNAAL in d.text
                   and not d.message["Subject"].startswith("Termijnen op")]  # not the digest
    assert case.reference in regisseur.text
    e = CaseEvent.__table__
    with db.read() as conn:
        dropped = conn.execute(select(e.c.data).where(e.c.case_id == case.case_id, e.c.kind == "bericht_vervallen")
                               ).scalars().all()
    assert {(d["to"], d["rung"]) for d in dropped} == {("wijkteam@example.org", "verstreken"),
                                                       ("regisseur.a@example.org", "verstreken")}


def test_after_downtime_the_assignee_and_the_highest_rung_hear_of_it_in_one_message_each(
        db, ctx, world, now, smtp_settings, mailbox):
    references = []
    for _ in range(5):
        case = open_case(db, ctx, world, now)
        references.append(case.reference)
        with db.begin() as conn:
            steps.assign_step(conn, ctx, world.regisseur_a, case.case_id, organisation_id=world.wijkteam,
                              title="Huisbezoek", due_at=end_of_day(date(2026, 3, 6)), now=now)
    tick(db, ctx, now, smtp_settings)  # the steps' assignments go out at once
    mailbox.delivered.clear()
    tick(db, ctx, local(2026, 3, 30, 9), smtp_settings)  # three weeks without a scheduler
    arrived = [d for d in mailbox.messages() if not d.message["Subject"].startswith("Termijnen op")]  # no digest
    by_recipient = Counter(d.rcpt_tos[0] for d in arrived)
    # One message each: the wethouder (every step's and every signaal clock's highest rung),
    # the wijkteam that holds the steps (their first rung: it is their move), the casusregisseur.
    assert by_recipient == {"wethouder@utrecht.example": 1, "wijkteam@example.org": 1, "regisseur.a@example.org": 1}
    for delivered in arrived:
        assert all(reference in delivered.text for reference in references), delivered.rcpt_tos
    [wijkteam] = [d for d in arrived if d.rcpt_tos == ("wijkteam@example.org",)]
    assert wijkteam.text.count(STEP) == 5
    from mas.models import OutboxItem

    i = OutboxItem.__table__
    with db.read() as conn:  # each (deadline, generation, rung, recipient) once
        keys = conn.execute(select(func.count(), func.count(i.c.key.distinct()))).one()
    # wethouder: each signaal clock's and step's highest rung; wijkteam: each step's first; casusregisseur:
    # each signaal clock's and step's first rung and the pact's six-week warning.
    assert keys[0] == keys[1] == 5 * 2 + 5 + 5 * 3
    assert len(arrived) == 3


def test_a_retry_planned_inside_fridays_window_waits_for_monday(db, ctx, smtp_settings, mailbox):
    friday = local(2026, 3, 13, 18, 50)
    [pk] = queue_messages(db, ctx, friday)
    mailbox.defer_next = 1
    with SmtpTransport(smtp_settings) as transport:
        assert dispatch(db, ctx, friday, transport, worker="w").retried == 1
    [row] = outbox_rows(db)
    assert row.not_before == friday + timedelta(seconds=30)  # still inside Friday's window
    with SmtpTransport(smtp_settings) as transport:  # the scheduler was away until Saturday morning
        assert dispatch(db, ctx, local(2026, 3, 14, 10, 0), transport, worker="w").sent == 0
        assert mailbox.messages() == []
        assert dispatch(db, ctx, local(2026, 3, 16, 7, 0), transport, worker="w").sent == 1
    assert len(mailbox.messages()) == 1


def test_a_digest_whose_first_chance_comes_after_the_window_is_not_sent_at_night(db, ctx, world, now, smtp_settings,
                                                                                 mailbox):
    open_case(db, ctx, world, now)
    evening = local(2026, 3, 3, 21, 0)  # the first tick of the day comes at 21:00
    assert queue_digests(db, ctx, evening) == 0
    tick(db, ctx, evening, smtp_settings)
    assert mailbox.messages() == []
    tick(db, ctx, local(2026, 3, 4, 7, 5), smtp_settings)
    assert [d.rcpt_tos for d in mailbox.messages()] == [("regisseur.a@example.org",)]
    assert "woensdag 4 maart" in mailbox.messages()[0].message["Subject"]


def test_two_dispatchers_and_a_slow_server_never_send_a_message_twice(tmp_path, database_url, db, smtp_settings,
                                                                      mailbox):
    from mas.context import make_context

    ctx = make_context(open_window_settings(tmp_path, database_url))  # real clock: any hour of the day
    queue_messages(db, ctx, utcnow() - timedelta(minutes=1), 24)
    mailbox.delay = 0.25  # 10 messages take 2.5 s; the lease is 1 s
    errors = []

    def dispatcher(name, wait):
        database = Database(database_url)
        try:
            threading.Event().wait(wait)
            with SmtpTransport(smtp_settings) as transport:
                for _ in range(40):
                    dispatch(database, ctx, utcnow(), transport, worker=name, batch=10,
                             lease=timedelta(seconds=1), clock=utcnow)
                    threading.Event().wait(0.1)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            database.dispose()

    threads = [threading.Thread(target=dispatcher, args=("dispatcher-1", 0)),
               threading.Thread(target=dispatcher, args=("dispatcher-2", 1.2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(outbox_rows(db, "sent")) == 24
    assert set(mailbox.count_by_message_id().values()) == {1} and len(mailbox.messages()) == 24


def test_days_after_due_keep_the_dutch_wall_clock_across_summer_time():
    level = Level("drie-maanden", 1, False, "due", "days", 1, ())
    saturday = end_of_day(date(2026, 3, 28))  # 23:59:59 CET; Sunday the clocks go forward
    moment = Ladders({}, None).moment(level, saturday, date(2026, 1, 1), "midden", None)
    assert moment == end_of_day(date(2026, 3, 29)) and moment.astimezone(TZ).hour == 23
    october = end_of_day(date(2026, 10, 24))  # and back, on Sunday 25 October
    week = Level("week", 1, False, "due", "days", 7, ())
    assert Ladders({}, None).moment(week, october, date(2026, 1, 1), "midden", None) == end_of_day(date(2026, 10, 31))
