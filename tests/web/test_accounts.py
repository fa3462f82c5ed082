"""Admins manage accounts without seeing a password or a two-factor secret; a person enrols
through a single-use, expiring link sent to their own address; every account with a team
role that is created or changed is logged and told to that team's coordinator; users of a
switched-off organisation see nothing (issue 10)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pyotp
import pytest
from sqlalchemy import select

from mas.dates import end_of_day
from mas.models import AccountEvent, Enrolment, OutboxMessage, User
from mas.notifications.dispatcher import dispatch
from mas.notifications.transport import SmtpTransport
from mas.services import steps
from tests.factories import open_case
from tests.web.conftest import PASSWORD, SECRET

_u, _en, _ae, _o = User.__table__, Enrolment.__table__, AccountEvent.__table__, OutboxMessage.__table__
NEW_PASSWORD = "een lang nieuw wachtwoord"


def _outbox(db, template):
    with db.read() as conn:
        return conn.execute(select(_o).where(_o.c.template == template).order_by(_o.c.id)).all()


def _account(db, email):
    with db.read() as conn:
        return conn.execute(select(_u).where(_u.c.email == email)).one()


def _deliver(db, ctx, clock, smtp_settings, mailbox, recipient):
    """Send what is queued through the loopback SMTP server; the enrolment link the person got."""
    with SmtpTransport(smtp_settings) as transport:
        dispatch(db, ctx, clock.now, transport, worker="test")
    [mail] = [m for m in mailbox.messages() if m.rcpt_tos == (recipient,) and "/enrol/" in m.text]
    return re.search(r"https?://\S+(/enrol/[A-Za-z0-9_-]+)", mail.text).group(1)


def _invite(admin, world, email="nieuw@utrecht.example", role="casusregisseur", team=None):
    return admin.post("/admin/users", data={"name": "Nina Nieuw", "email": email, "role": role,
                                            "team_id": str(team or world.team_a)})


def test_an_admin_invites_and_sees_no_password_or_secret(web_app, login, db, world, ctx, clock, smtp_settings,
                                                         mailbox):
    admin = login("admin")
    response = _invite(admin, world)
    assert response.status_code == 302
    account = _account(db, "nieuw@utrecht.example")
    assert account.password_hash is None and account.totp_secret is None  # nothing to log in with yet
    with db.read() as conn:
        [enrolment] = conn.execute(select(_en).where(_en.c.user_id == account.id)).all()
    # What the admin could ever see: the pages after the invitation.
    pages = admin.get("/admin/users").get_data(as_text=True) + admin.get(f"/admin/users/{account.id}").get_data(as_text=True)
    assert enrolment.totp_secret not in pages and "Startwachtwoord" not in pages and "password" not in pages
    # The link is in the e-mail to the person, and nowhere in the database.
    [queued] = _outbox(db, "enrolment")
    assert queued.recipient == "nieuw@utrecht.example" and "/enrol/" not in repr(queued.context)
    link = _deliver(db, ctx, clock, smtp_settings, mailbox, "nieuw@utrecht.example")
    token = link.rsplit("/", 1)[1]
    with db.read() as conn:
        stored = [str(v) for row in conn.execute(select(_en)).all() for v in row] + [repr(r.context) for r in _outbox(db, "enrolment")]
    assert not any(token in value for value in stored)
    # The person's own page shows the key; anonymous, no login needed.
    person = web_app.test_client()
    page = person.get(link)
    assert page.status_code == 200 and enrolment.totp_secret in page.get_data(as_text=True)


def test_enrolment_sets_password_and_key_once(web_app, login, db, world, ctx, clock, smtp_settings, mailbox):
    _invite(login("admin"), world)
    link = _deliver(db, ctx, clock, smtp_settings, mailbox, "nieuw@utrecht.example")
    person = web_app.test_client()
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', person.get(link).get_data(as_text=True)).group(1)
    code = pyotp.TOTP(secret).at(clock.now)
    wrong = person.post(link, data={"password": NEW_PASSWORD, "password_again": NEW_PASSWORD, "code": "000000"})
    assert wrong.status_code == 422 and "code klopt niet" in wrong.get_data(as_text=True)
    assert secret in wrong.get_data(as_text=True)  # the same key, still only on this page
    short = person.post(link, data={"password": "kort", "password_again": "kort", "code": code})
    assert short.status_code == 422 and "12 tekens" in short.get_data(as_text=True)
    done = person.post(link, data={"password": NEW_PASSWORD, "password_again": NEW_PASSWORD, "code": code})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    # Single use: the link is spent.
    assert person.get(link).status_code == 404
    assert person.post(link, data={"password": NEW_PASSWORD, "password_again": NEW_PASSWORD,
                                   "code": code}).status_code == 404
    # The code used to enrol does not log in a second time; the next one does.
    clock.now += timedelta(seconds=30)
    login_response = person.post("/login", data={"email": "nieuw@utrecht.example", "password": NEW_PASSWORD,
                                                 "code": pyotp.TOTP(secret).at(clock.now)})
    assert login_response.status_code == 302
    with db.read() as conn:
        kinds = conn.execute(select(_ae.c.kind).where(_ae.c.user_id == _account(db, "nieuw@utrecht.example").id)
                             .order_by(_ae.c.id)).scalars().all()
    assert kinds == ["aangemaakt", "ingeschreven"]


def test_an_enrolment_link_expires_and_a_newer_one_replaces_it(web_app, login, db, world, ctx, clock, smtp_settings,
                                                               mailbox):
    admin = login("admin")
    _invite(admin, world)
    first = _deliver(db, ctx, clock, smtp_settings, mailbox, "nieuw@utrecht.example")
    account = _account(db, "nieuw@utrecht.example")
    assert admin.post(f"/admin/users/{account.id}/reenrol").status_code == 302
    mailbox.delivered.clear()
    second = _deliver(db, ctx, clock, smtp_settings, mailbox, "nieuw@utrecht.example")
    person = web_app.test_client()
    assert first != second and person.get(first).status_code == 404 and person.get(second).status_code == 200
    clock.now += timedelta(days=3, seconds=1)
    assert person.get(second).status_code == 404


def test_reenrolment_stops_the_old_password_and_sessions_at_once(web_app, login, db, world, ctx, clock):
    regisseur = login("regisseur_a")
    admin = login("admin")
    assert admin.post(f"/admin/users/{world.regisseur_a.id}/reenrol").status_code == 302
    assert regisseur.get("/cases").status_code == 302  # the session ended: back to the login page
    clock.now += timedelta(seconds=30)
    again = web_app.test_client().post("/login", data={"email": "regisseur.a@example.org", "password": PASSWORD,
                                                       "code": pyotp.TOTP(SECRET).at(clock.now)})
    assert again.status_code == 401
    assert [r.recipient for r in _outbox(db, "enrolment")] == ["regisseur.a@example.org"]
    # Team A's coordinator hears of it; the admin sees no secret, nor can re-enrol themselves.
    assert [r.recipient for r in _outbox(db, "account_changed")] == ["coordinator.a@example.org"]
    assert admin.post(f"/admin/users/{world.admin.id}/reenrol").status_code == 302
    assert "uzelf niet opnieuw" in admin.get("/admin/users").get_data(as_text=True)


def test_a_new_account_in_a_team_is_logged_and_told_to_that_teams_coordinator(web_app, login, db, world):
    admin = login("admin")
    assert _invite(admin, world, email="nieuwe.coordinator@groningen.example", role="coordinator",
                   team=world.team_b).status_code == 302
    [told] = _outbox(db, "account_changed")
    assert told.recipient == "coordinator.b@example.org"
    assert told.context["change"] == "aangemaakt" and "nieuwe.coordinator" not in repr(told.context)
    team_page = login("coordinator_b").get("/team").get_data(as_text=True)
    assert "nieuwe.coordinator@groningen.example" in team_page and "aangemaakt" in team_page and "beheer" in team_page
    assert "nieuwe.coordinator" not in login("coordinator_a").get("/team").get_data(as_text=True)
    assert login("regisseur_b").get("/team").status_code == 404
    # A partner account concerns no team: logged, nobody's coordinator told.
    assert admin.post("/admin/users", data={"name": "P", "email": "p@ggd.example", "role": "partner",
                                            "organisation_id": str(world.ggd)}).status_code == 302
    assert len(_outbox(db, "account_changed")) == 1


def test_changing_an_account_into_a_team_role_is_logged_and_told(web_app, login, db, world):
    admin = login("admin")
    response = admin.post(f"/admin/users/{world.partner_ggd.id}", data={
        "name": "jeugdarts", "role": "coordinator", "team_id": str(world.team_a)})
    assert response.status_code == 302
    account = _account(db, "jeugdarts@ggd.example.org")
    assert (account.role, account.team_id, account.organisation_id) == ("coordinator", world.team_a, None)
    assert [r.recipient for r in _outbox(db, "account_changed")] == ["coordinator.a@example.org"]
    with db.read() as conn:
        row = conn.execute(select(_ae).where(_ae.c.user_id == account.id)).one()
    assert (row.kind, row.team_id, row.actor_id, row.data["before"]["role"]) == ("gewijzigd", world.team_a,
                                                                                  world.admin.id, "partner")
    # Switching an account off or on is a change too.
    assert admin.post(f"/admin/users/{world.regisseur_b.id}/active", data={"active": "0"}).status_code == 302
    assert [r.recipient for r in _outbox(db, "account_changed")][-1] == "coordinator.b@example.org"
    # A bad change keeps what was typed and changes nothing.
    bad = admin.post(f"/admin/users/{world.regisseur_a.id}", data={"name": "X", "role": "coordinator"})
    assert bad.status_code == 422 and "hoort bij een team" in bad.get_data(as_text=True)


def test_users_of_a_switched_off_organisation_see_nothing(web_app, login, db, ctx, world, now):
    case = open_case(db, ctx, world, now, given_name="Annabel")
    with db.begin() as conn:
        step = steps.assign_step(conn, ctx, world.regisseur_a, case.case_id, organisation_id=world.wijkteam,
                                 title="Huisbezoek", due_at=end_of_day(date(2026, 3, 20)), now=now)
    partner = login("partner_wijkteam")
    assert "Huisbezoek" in partner.get("/partner").get_data(as_text=True)
    admin = login("admin")
    assert admin.post(f"/admin/organisations/{world.wijkteam}", data={
        "name": "Wijkteam Overvecht", "kind": "wijkteam", "contact_email": "wijkteam@example.org"}).status_code == 302
    page = partner.get("/partner").get_data(as_text=True)
    for hidden in ("Huisbezoek", case.reference, "Annabel"):
        assert hidden not in page, hidden
    assert partner.post(f"/partner/steps/{step}/done", data={"version": "1"}).status_code == 404
    assert partner.post(f"/partner/steps/{step}/extension",
                        data={"due_on": "2026-04-30", "reason": "x"}).status_code == 404


@pytest.mark.parametrize("role, team", [("casusregisseur", "Leerplicht Utrecht"), ("admin", None)])
def test_the_console_creates_the_first_admin_and_logs_team_accounts(db, world, settings, monkeypatch, role, team):
    from click.testing import CliRunner

    from mas.cli import main

    monkeypatch.setenv("MAS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MAS_INSTANCE_DIR", str(settings.instance_dir))
    args = ["user", "create", "console@example.org", "--role", role] + (["--team", team] if team else [])
    result = CliRunner().invoke(main, args, input="een lang wachtwoord\n")
    assert result.exit_code == 0, result.output
    account = _account(db, "console@example.org")
    with db.read() as conn:
        [row] = conn.execute(select(_ae).where(_ae.c.user_id == account.id)).all()
    assert (row.kind, row.actor_id, row.data["console"]) == ("aangemaakt", None, True)
    told = [r.recipient for r in _outbox(db, "account_changed")]
    assert told == (["coordinator.a@example.org"] if team else [])
