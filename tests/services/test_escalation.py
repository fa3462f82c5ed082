"""The escalation ladder: reminders, rungs, catch-up after downtime, doorzetten, digest."""

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from mas.dates import TZ, end_of_day, start_of_day
from mas.models import CaseEvent, OutboxMessage
from mas.services import doorzetten as dz
from mas.services import steps, timekeeping
from mas.services.digest import queue_digests
from mas.services.errors import ValidationError
from mas.services.escalation import sweep
from tests.factories import open_case
from tests.services.helpers import case_row, deadlines_of, open_deadline


def local(*args):
    return datetime(*args, tzinfo=TZ).astimezone(timezone.utc)


def outbox(db):
    o = OutboxMessage.__table__
    with db.read() as conn:
        return conn.execute(select(o).order_by(o.c.id)).all()


def mail_items(db):
    """(message, rung) pairs: one message may bundle several rungs for its recipient."""
    return [(m, item) for m in outbox(db) for item in m.context.get("items", [m.context])]


def ladder_events(db, case_id):
    e = CaseEvent.__table__
    with db.read() as conn:
        return conn.execute(select(e).where(e.c.case_id == case_id, e.c.deadline_id.is_not(None)).order_by(e.c.id)).all()


def test_a_new_clock_arms_its_first_level(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    # signaal: due Tue 10 March; the reminder two school days before falls at the start of Fri 6 March.
    assert open_deadline(db, case_id, "signaal").next_at == start_of_day(date(2026, 3, 6))
    # Thuiszitterspact from Mon 2 Feb: first warning six weeks later, Mon 16 March 00:00.
    assert open_deadline(db, case_id, "thuiszitterspact").next_at == start_of_day(date(2026, 3, 16))


def test_reminder_then_rung_each_once(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    assert sweep(db, ctx, local(2026, 3, 5, 12)).levels_raised == 0
    result = sweep(db, ctx, local(2026, 3, 6, 8))
    assert (result.levels_raised, result.messages_queued) == (1, 1)
    [message] = outbox(db)
    assert (message.template, message.recipient) == ("reminder", "regisseur.a@example.org")
    assert message.context["reference"] == case_row(db, case_id).reference
    # The same moment again, or a little later: nothing new.
    assert sweep(db, ctx, local(2026, 3, 6, 8)).levels_raised == 0
    assert sweep(db, ctx, local(2026, 3, 9, 8)).levels_raised == 0
    # The LRV milestone (end of Mon 9 March) is reached and recorded, mailing no one; the
    # signaal clock is due at the end of Tue 10 March, when rung 1 reaches the casusregisseur once.
    reached = sweep(db, ctx, local(2026, 3, 10, 23, 59))
    assert ([d[1:] for d in reached.details], reached.milestones, reached.messages_queued) == (
        [("lrv", ["mijlpaal"])], 1, 0)
    assert [d[1] for d in sweep(db, ctx, local(2026, 3, 11, 0, 0)).details] == ["signaal"]
    assert sweep(db, ctx, local(2026, 3, 11, 0, 0)).levels_raised == 0
    signaal = open_deadline(db, case_id, "signaal")
    assert signaal.rung == "verstreken" and signaal.next_at == end_of_day(date(2026, 3, 17))  # +5 school days
    assert [(e.kind, e.data["deadline_kind"]) for e in ladder_events(db, case_id)] == [
        ("herinnering", "signaal"), ("mijlpaal", "lrv"), ("escalatie", "signaal")]
    assert open_deadline(db, case_id, "lrv").next_at is None  # a milestone is reached once


def test_after_downtime_every_rung_is_recorded_the_highest_and_the_assignee_are_mailed(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    result = sweep(db, ctx, local(2026, 3, 30, 9))
    levels = {(e.data["deadline_kind"], e.rung) for e in ladder_events(db, case_id)}
    # signaal: reminder + three rungs (the last at the end of Tue 24 March); the LRV milestone,
    # reached and recorded; Thuiszitterspact: the six-week warning (Mon 16 March).
    assert levels == {("signaal", "herinnering"), ("signaal", "verstreken"), ("signaal", "team"),
                      ("signaal", "bestuur"), ("lrv", "mijlpaal"), ("thuiszitterspact", "zes-weken")}
    assert result.recorded_only == 2  # the reminder and the coordinator's rung: passed, not mailed
    sent = {(m.template, m.recipient, item["kind"], item["level"]) for m, item in mail_items(db)}
    assert sent == {
        ("bestuurder", "wethouder@utrecht.example", "signaal", "escalatie trede 3"),  # the highest rung
        # the assignee hears it is their move, in one message with the pact's warning
        ("bundel", "regisseur.a@example.org", "signaal", "escalatie trede 1"),
        ("bundel", "regisseur.a@example.org", "thuiszitterspact", "escalatie trede 1"),
    }
    mailed = {e.rung for e in ladder_events(db, case_id) if e.data["deadline_kind"] == "signaal" and e.data["sent"]}
    assert mailed == {"verstreken", "bestuur"}
    assert sweep(db, ctx, local(2026, 3, 30, 9)).levels_raised == 0
    assert open_deadline(db, case_id, "signaal").next_at is None  # ladder done


def test_messages_wait_for_the_sending_window(db, ctx, world, now):
    open_case(db, ctx, world, now)
    sweep(db, ctx, local(2026, 3, 7, 10))  # a Saturday: the reminder is queued for Monday 07:00
    [message] = outbox(db)
    assert message.not_before == local(2026, 3, 9, 7, 0)


def test_step_ladder_reaches_the_organisation_then_its_manager(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    with db.begin() as conn:
        step_id = steps.assign_step(conn, ctx, world.regisseur_a, case_id, organisation_id=world.wijkteam,
                                    title="Huisbezoek", due_at=end_of_day(date(2026, 3, 12)), now=now)
    assigned = [m for m in outbox(db) if m.template == "step_assigned"]
    assert [m.recipient for m in assigned] == ["wijkteam@example.org"]
    sweep(db, ctx, local(2026, 3, 13, 9))  # due passed: rung 1
    step_mail = {m.recipient for m, i in mail_items(db) if i.get("kind") == "step" and not i["is_reminder"]}
    assert step_mail == {"wijkteam@example.org", "regisseur.a@example.org"}
    sweep(db, ctx, local(2026, 3, 20, 9))  # +5 school days: the organisation's manager and the coordinator
    step_mail = {m.recipient for m, i in mail_items(db) if i.get("kind") == "step" and i["rung"] == 2}
    assert step_mail == {"manager.wijkteam@example.org", "coordinator.a@example.org"}
    with db.begin() as conn:
        steps.complete_step(conn, world.partner_wijkteam, step_id, now=local(2026, 3, 20, 10), expected_version=1)
    before = outbox(db)[-1].id
    sweep(db, ctx, local(2026, 4, 30, 9))
    assert not [m for m, i in mail_items(db) if i.get("kind") == "step" and m.id > before]


def test_an_extension_rearms_the_ladder_from_rung_zero(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    sweep(db, ctx, local(2026, 3, 11, 9))
    old = open_deadline(db, case_id, "signaal")
    assert old.rung == "verstreken"
    with db.begin() as conn:
        timekeeping.extend_deadline(conn, ctx, world.regisseur_a, old.id, due_at=end_of_day(date(2026, 3, 20)),
                                    reason="Gesprek verzet op verzoek van ouders", now=local(2026, 3, 11, 10))
    new = open_deadline(db, case_id, "signaal")
    assert (new.generation, new.rung, new.next_at) == (2, None, start_of_day(date(2026, 3, 18)))
    sweep(db, ctx, local(2026, 3, 18, 8))
    assert open_deadline(db, case_id, "signaal").rung == "herinnering"
    keys = [m.idempotency_key for m in outbox(db)]
    assert len(keys) == len(set(keys))


def test_doorzetten_tells_the_escalation_contact_at_once(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    with db.begin() as conn:
        step_id = steps.assign_step(conn, ctx, world.regisseur_a, case_id, organisation_id=world.ggd,
                                    title="Onderzoek jeugdarts", due_at=now + timedelta(days=10), now=now)
    with pytest.raises(ValidationError) as err, db.begin() as conn:
        dz.doorzetten(conn, ctx, world.regisseur_a, case_id, step_id=step_id, reason="", due_at=now, now=now)
    assert set(err.value.errors) == {"reason", "due_at"}
    with db.begin() as conn:
        told = dz.doorzetten(conn, ctx, world.regisseur_a, case_id, step_id=step_id, reason="Wacht al drie weken",
                             due_at=end_of_day(date(2026, 3, 6)), now=now)
    assert told == 1
    [mail] = [m for m in outbox(db) if m.template == "doorgezet"]
    assert mail.recipient == "manager.ggd@example.org" and mail.not_before == now
    clocks = {(d.kind, d.status) for d in deadlines_of(db, case_id) if d.step_id == step_id}
    assert clocks == {("step", "closed"), ("doorzetten", "open")}
    sweep(db, ctx, local(2026, 3, 9, 9))
    rung_mail = {m.recipient for m, i in mail_items(db) if i.get("kind") == "doorzetten"}
    assert rung_mail == {"manager.ggd@example.org", "regisseur.a@example.org"}


def test_digest_once_a_working_day_after_the_window_opens(db, ctx, world, now):
    open_case(db, ctx, world, now)
    assert queue_digests(db, ctx, local(2026, 3, 9, 6, 30)) == 0  # before 07:00
    assert queue_digests(db, ctx, local(2026, 3, 9, 7, 5)) == 1
    assert queue_digests(db, ctx, local(2026, 3, 9, 12, 0)) == 0  # already queued today
    assert queue_digests(db, ctx, local(2026, 3, 14, 9, 0)) == 0  # Saturday
    [digest] = [m for m in outbox(db) if m.template == "digest"]
    assert digest.recipient == "regisseur.a@example.org"
    assert {i["reference"] for i in digest.context["items"]} == {"MAS-2026-000001"}


def test_the_database_itself_refuses_a_rung_or_a_message_twice(db, ctx, world, now):
    """The unique keys hold even against a writer that skips the sweep's own checks."""
    from sqlalchemy import exc

    case_id = open_case(db, ctx, world, now).case_id
    sweep(db, ctx, local(2026, 3, 6, 8))  # the signaal clock's reminder: one event, one message
    [event] = ladder_events(db, case_id)
    [message] = outbox(db)
    e, o = CaseEvent.__table__, OutboxMessage.__table__
    again = {"case_id": case_id, "at": now, "actor_role": "system", "kind": "herinnering",
             "deadline_id": event.deadline_id, "rung": event.rung}
    with pytest.raises(exc.IntegrityError), db.begin() as conn:
        conn.execute(e.insert(), again)
    with db.begin() as conn:  # the next rung of the same deadline, and events without a deadline, are fine
        conn.execute(e.insert(), {**again, "rung": "verstreken"})
        conn.execute(e.insert(), [{**again, "kind": "notitie", "deadline_id": None, "rung": None}] * 2)
    with pytest.raises(exc.IntegrityError), db.begin() as conn:
        conn.execute(o.insert(), {"idempotency_key": message.idempotency_key, "message_id": message.message_id,
                                  "template": "reminder", "recipient": message.recipient, "context": {},
                                  "not_before": now, "created_at": now})


@pytest.mark.parametrize("interval,outage", [(timedelta(seconds=60), True), (timedelta(weeks=4), False)])
def test_passed_during_an_outage_only_when_more_than_one_sweep_interval_late(db, ctx, world, now, interval, outage):
    """A level recorded beside a higher one was passed 'tijdens storing' only if it fell due more
    than one sweep interval before the sweep that raised it (a scheduler sweeping every minute
    was down for weeks; one sweeping every four weeks was not)."""
    case_id = open_case(db, ctx, world, now).case_id
    sweep(db, ctx, local(2026, 3, 30, 9), sweep_interval=interval)
    recorded_only = [e for e in ladder_events(db, case_id) if e.data.get("recorded_only")]
    assert {e.rung for e in recorded_only} == {"herinnering", "team"}
    assert all(e.data["during_outage"] is outage for e in recorded_only)


def test_a_batch_gives_way_when_a_row_moved_under_it(db, ctx, world, now, monkeypatch):
    """The climb moves a row only from the level the sweep read; a row that another writer
    moved after the sweep read it rolls the whole batch back (events, mail and all)."""
    from sqlalchemy import update

    from mas.models import Deadline
    from mas.services import escalation

    cases = [open_case(db, ctx, world, now).case_id for _ in range(7)]
    d = Deadline.__table__
    moved = open_deadline(db, cases[3], "signaal").id
    real = escalation.raised_levels

    def another_writer(conn, rows):
        conn.execute(update(d).where(d.c.id == moved).values(rung="herinnering"))
        return real(conn, rows)

    monkeypatch.setattr(escalation, "raised_levels", another_writer)
    with pytest.raises(RuntimeError, match="changed under the sweep"):
        sweep(db, ctx, local(2026, 3, 6, 8))
    assert outbox(db) == [] and all(ladder_events(db, c) == [] for c in cases)
    assert {open_deadline(db, c, "signaal").rung for c in cases} == {None}  # the writer's change rolled back too
    monkeypatch.setattr(escalation, "raised_levels", real)
    result = sweep(db, ctx, local(2026, 3, 6, 8))
    assert (result.deadlines, result.levels_raised, result.messages_queued) == (7, 7, 1)  # one bundle to her
    assert {open_deadline(db, c, "signaal").rung for c in cases} == {"herinnering"}
    assert {open_deadline(db, c, "signaal").next_at for c in cases} == {end_of_day(date(2026, 3, 10))}
