"""Beheer: an admin invites a person in the browser and never sees a password or a secret;
the person sets both on the page their enrolment link opens, and logs in."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from mas.dates import utcnow
from mas.models import OutboxMessage
from mas.notifications.links import enrolment_link
from tests.browser.conftest import check_axe, screenshot

pytestmark = pytest.mark.browser
NEW_PASSWORD = "een-eigen-wachtwoord-van-daan"


def _enrolment_path(live_server, email: str) -> str:
    """The link of the e-mail the person received (rebuilt from the outbox as the dispatcher does)."""
    o = OutboxMessage.__table__
    with live_server.db.read() as conn:
        [row] = conn.execute(select(o).where(o.c.template == "enrolment", o.c.recipient == email)).all()
    return enrolment_link(live_server.ctx.settings, row.context["enrolment_nonce"]).removeprefix(
        live_server.ctx.settings.base_url)


def test_admin_invites_and_the_person_enrols_and_logs_in(open_page, live_server):
    admin = open_page("admin")
    admin.goto("/admin/users")
    form = admin.locator("form", has=admin.get_by_role("button", name="Uitnodigen"))
    form.get_by_label("Naam").fill("Daan Nieuw")
    form.get_by_label("E-mailadres").fill("daan.nieuw@browser.example")
    form.get_by_label("Rol").select_option("casusregisseur")
    form.get_by_role("button", name="Uitnodigen").click()  # no team: refused, what was typed kept
    expect(admin.get_by_role("alert")).to_contain_text("Niet alles is juist ingevuld")
    team = admin.get_by_label("Team")
    expect(team).to_have_attribute("aria-invalid", "true")
    expect(admin.locator("#team_id-error")).to_contain_text("hoort bij een team")
    expect(admin.get_by_label("Naam")).to_have_value("Daan Nieuw")
    expect(admin.get_by_label("Rol")).to_have_value("casusregisseur")
    expect(admin.get_by_label("Startwachtwoord")).to_have_count(0)  # an admin never chooses a password
    check_axe(admin, "gebruikers met fouten")

    team.select_option(label="Leerplicht Utrecht")
    admin.get_by_role("button", name="Uitnodigen").click()
    expect(admin.get_by_role("status")).to_contain_text("krijgt een e-mail met een link")
    expect(admin.get_by_role("row", name="Daan Nieuw")).to_contain_text("uitgenodigd")
    expect(admin.locator("code.secret")).to_have_count(0)
    screenshot(admin, "13-beheer-gebruiker-uitgenodigd")
    check_axe(admin, "gebruiker uitgenodigd")

    newcomer = open_page()
    newcomer.goto(_enrolment_path(live_server, "daan.nieuw@browser.example"))
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("Uw account in mas instellen")
    secret = newcomer.locator("code.secret").inner_text().strip()
    check_axe(newcomer, "account instellen")
    screenshot(newcomer, "13b-account-instellen")
    newcomer.get_by_label("Nieuw wachtwoord").fill(NEW_PASSWORD)
    newcomer.get_by_label("Nogmaals het wachtwoord").fill(NEW_PASSWORD)
    newcomer.get_by_label("Code uit uw authenticator-app").fill(pyotp.TOTP(secret).now())
    newcomer.get_by_role("button", name="Account instellen").click()
    expect(newcomer.get_by_role("status")).to_contain_text("Uw account is klaar")
    newcomer.get_by_label("E-mailadres").fill("daan.nieuw@browser.example")
    newcomer.get_by_label("Wachtwoord").fill(NEW_PASSWORD)
    # The code used to enrol is spent; the next one (accepted 30 s early) logs in.
    newcomer.get_by_label("Code uit uw authenticator-app").fill(pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30)))
    newcomer.get_by_role("button", name="Inloggen").click()
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("Werkvoorraad")
    expect(newcomer.get_by_role("banner")).to_contain_text("Daan Nieuw")


@pytest.mark.browser
def test_admin_edits_an_organisation_and_a_team(open_page):
    admin = open_page("admin")
    admin.goto("/admin/organisations")
    admin.locator("table a").first.click()
    expect(admin.get_by_role("heading", level=1)).to_be_visible()
    check_axe(admin, "organisatie bewerken")
    screenshot(admin, "16-beheer-organisatie-bewerken")
    admin.get_by_label("E-mail escalatiecontact").fill("leiding@browser.example")
    admin.get_by_role("button", name="Opslaan").click()
    expect(admin.locator("main")).to_contain_text("leiding@browser.example")
    admin.goto("/admin/teams")
    admin.locator("table a").first.click()
    check_axe(admin, "team bewerken")
