"""An escalation never goes to nobody: recipients are resolved when a rung is raised and again
when its message is sent, only active accounts and organisations receive anything, and a rung
that reaches nobody goes to the fallback (the team's coordinator, the functional mailbox, the
administrators), with the journal naming who was mailed. Against the real loopback SMTP server."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

from sqlalchemy import select, update

from mas.context import make_context
from mas.dates import TZ, end_of_day
from mas.models import CaseEvent, Organisation, OutboxMessage, User
from mas.notifications.transport import SmtpTransport
from mas.services import scheduling, steps
from tests.factories import open_case

MAILBOX = "leerplicht@gemeente.example"
_u, _o, _e, _m = User.__table__, Organisation.__table__, CaseEvent.__table__, OutboxMessage.__table__


def local(*args) -> datetime:
    return datetime(*args, tzinfo=TZ).astimezone(timezone.utc)


def with_mailbox(settings, address: str | None = MAILBOX):
    return make_context(replace(settings, mail=replace(settings.mail, functional_mailbox=address)))


def tick(db, ctx, now, smtp_settings):
    with SmtpTransport(smtp_settings) as transport:
        return scheduling.tick(db, ctx, now, transport)


def escalations(db, case_id) -> dict[str, dict]:
    with db.read() as conn:
        rows = conn.execute(select(_e).where(_e.c.case_id == case_id, _e.c.kind.in_(["escalatie", "herinnering"]))
                            .order_by(_e.c.id)).all()
    return {(row.data["deadline_kind"], row.rung): row.data for row in rows}


def journal(db, case_id, kind) -> list:
    with db.read() as conn:
        return conn.execute(select(_e).where(_e.c.case_id == case_id, _e.c.kind == kind).order_by(_e.c.id)).all()


def to(mailbox, address) -> list:
    return [d for d in mailbox.messages() if d.rcpt_tos == (address,)]


def test_a_team_without_coordinator_or_bestuurlijk_contact_escalates_to_the_functional_mailbox(
        db, settings, world, now, bare_team, smtp_settings, mailbox):
    ctx = with_mailbox(settings)
    case = open_case(db, ctx, world, now, actor=bare_team)
    for moment in (local(2026, 3, 6, 8), local(2026, 3, 11, 9), local(2026, 3, 18, 9), local(2026, 3, 25, 9)):
        tick(db, ctx, moment, smtp_settings)
    ladder = escalations(db, case.case_id)
    # Rung 2 (the coordinator) and rung 3 (the bestuurlijk contact) reach nobody of their own:
    # the fallback is mailed, and the journal says so.
    for rung, missing in (("team", ["coordinator"]), ("bestuur", ["bestuurlijk"])):
        data = ladder[("signaal", rung)]
        assert data["sent"] is True and data["missing"] == missing
        assert data["recipients"] == [{"role": "functional_mailbox", "to": MAILBOX, "fallback": True}]
    arrived = to(mailbox, MAILBOX)
    assert len(arrived) == 2 and all(case.reference in d.text for d in arrived)
    assert all("omdat niemand anders" in d.text for d in arrived)


def test_without_a_mailbox_the_administrators_are_the_fallback_and_without_them_the_journal_says_nobody(
        db, settings, world, now, bare_team, smtp_settings, mailbox):
    ctx = with_mailbox(settings, None)
    case = open_case(db, ctx, world, now, actor=bare_team)
    tick(db, ctx, local(2026, 3, 11, 9), smtp_settings)
    tick(db, ctx, local(2026, 3, 18, 9), smtp_settings)
    assert escalations(db, case.case_id)[("signaal", "team")]["recipients"] == [
        {"role": "admins", "to": "beheer@example.org", "fallback": True}]
    assert len(to(mailbox, "beheer@example.org")) == 1
    with db.begin() as conn:  # the last administrator leaves
        conn.execute(update(_u).where(_u.c.id == world.admin.id).values(is_active=False))
    tick(db, ctx, local(2026, 3, 25, 9), smtp_settings)
    data = escalations(db, case.case_id)[("signaal", "bestuur")]
    assert (data["sent"], data["unreachable"], data["recipients"]) == (False, True, [])
    assert len(to(mailbox, "beheer@example.org")) == 1  # nothing more for a switched-off account


def test_switched_off_accounts_and_organisations_receive_nothing(db, settings, world, now, smtp_settings, mailbox):
    ctx = with_mailbox(settings)
    case = open_case(db, ctx, world, now)
    with db.begin() as conn:
        steps.assign_step(conn, ctx, world.regisseur_a, case.case_id, organisation_id=world.wijkteam,
                          title="Huisbezoek", due_at=end_of_day(date(2026, 3, 12)), now=now)
        conn.execute(update(_u).where(_u.c.id == world.regisseur_a.id).values(is_active=False))
        conn.execute(update(_o).where(_o.c.id == world.wijkteam).values(is_active=False))
    tick(db, ctx, local(2026, 3, 13, 9), smtp_settings)
    delivered = {d.rcpt_tos[0] for d in mailbox.messages()}
    assert "regisseur.a@example.org" not in delivered and "wijkteam@example.org" not in delivered
    # The signaal clock's first rung and the step's first rung reached nobody of their own:
    # the team's coordinator is the fallback.
    ladder = escalations(db, case.case_id)
    assert ladder[("signaal", "verstreken")]["recipients"] == [
        {"role": "coordinator", "to": "coordinator.a@example.org", "fallback": True}]
    assert ladder[("step", "verstreken")]["missing"] == ["organisation_contact", "casusregisseur"]
    assert delivered == {"coordinator.a@example.org"}
    # (besides: the step's assignment, queued for the wijkteam ten days ago, was given up: "niet bezorgd")
    [rungs] = [d for d in mailbox.messages() if "vragen uw aandacht" in d.message["Subject"]]
    assert "omdat niemand anders" in rungs.text and case.reference in rungs.text


def test_someone_switched_off_after_the_rung_was_raised_is_replaced_by_the_fallback_when_it_is_sent(
        db, ctx, world, now, smtp_settings, mailbox):
    case = open_case(db, ctx, world, now)
    saturday = local(2026, 3, 7, 10)  # the reminder is raised, and waits for Monday's window
    tick(db, ctx, saturday, smtp_settings)
    [queued] = [m for m in _outbox(db) if m.template == "reminder"]
    assert queued.recipient == "regisseur.a@example.org" and mailbox.messages() == []
    with db.begin() as conn:  # the casusregisseur leaves over the weekend
        conn.execute(update(_u).where(_u.c.id == world.regisseur_a.id).values(is_active=False))
    tick(db, ctx, local(2026, 3, 9, 7, 30), smtp_settings)
    assert {d.rcpt_tos[0] for d in mailbox.messages()} == {"coordinator.a@example.org"}
    [arrived] = mailbox.messages()
    assert case.reference in arrived.text and arrived.message_id == queued.message_id
    [replaced] = journal(db, case.case_id, "ontvanger_vervangen")
    assert (replaced.data["from"], replaced.data["to"]) == ("regisseur.a@example.org", ["coordinator.a@example.org"])


def _outbox(db):
    with db.read() as conn:
        return conn.execute(select(_m).order_by(_m.c.id)).all()



def test_main_s_account_and_hand_over_mail_follows_the_same_rules(db, settings, world, now, smtp_settings, mailbox):
    """Mail of the kinds issue 10 added: an enrolment link leaves only while its account is
    active (and never goes to anyone else); a switched-off coordinator's account and hand-over
    notices go to the fallback, and the case's journal says so."""
    from mas.services import accounts, cases, transfers

    ctx = with_mailbox(settings)
    case = open_case(db, ctx, world, now)
    with db.begin() as conn:
        accounts.invite_user(conn, ctx, world.admin, email="nieuw.a@example.org", name="Nieuwe Regisseur",
                             role="casusregisseur", team_id=world.team_a, now=now)
    with db.begin() as conn:
        version = cases.get_case(conn, case.case_id).version
        transfers.transfer_case(conn, ctx, world.regisseur_a, case.case_id, world.team_b, reason="Verhuisd",
                                now=now, expected_version=version)
    queued = {m.template: m for m in _outbox(db) if m.template in ("enrolment", "account_changed", "case_received")}
    assert (queued["account_changed"].recipient, queued["case_received"].recipient) == (
        "coordinator.a@example.org", "coordinator.b@example.org")
    with db.begin() as conn:  # before the dispatcher runs: the invitation is withdrawn, both coordinators leave
        conn.execute(update(_u).where(_u.c.email.in_(["nieuw.a@example.org", "coordinator.a@example.org",
                                                      "coordinator.b@example.org"])).values(is_active=False))
    with SmtpTransport(smtp_settings) as transport:
        scheduling.run_dispatch(db, ctx, lambda: now, transport)
    delivered = {d.message_id: d.rcpt_tos for d in mailbox.messages()}
    assert queued["enrolment"].message_id not in delivered
    assert delivered[queued["account_changed"].message_id] == (MAILBOX,)
    assert delivered[queued["case_received"].message_id] == (MAILBOX,)
    assert not {"nieuw.a@example.org", "coordinator.a@example.org", "coordinator.b@example.org"} & {
        to for rcpt in delivered.values() for to in rcpt}
    after = {m.id: m for m in _outbox(db)}
    assert after[queued["enrolment"].id].status == "dropped"
    [replaced] = journal(db, case.case_id, "ontvanger_vervangen")
    assert (replaced.data["from"], replaced.data["to"]) == ("coordinator.b@example.org", [MAILBOX])
