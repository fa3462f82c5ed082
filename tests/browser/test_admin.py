"""Beheer: a new account is made in the browser, and its owner logs in with the TOTP secret
that was shown once."""

from __future__ import annotations

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, check_axe, screenshot

pytestmark = pytest.mark.browser


def test_admin_creates_an_account_and_its_owner_logs_in_with_the_shown_secret(open_page):
    admin = open_page("admin")
    admin.goto("/admin/users")
    form = admin.locator("form", has=admin.get_by_role("button", name="Aanmaken"))
    form.get_by_label("Naam").fill("Daan Nieuw")
    form.get_by_label("E-mailadres").fill("daan.nieuw@browser.example")
    form.get_by_label("Rol").select_option("casusregisseur")
    form.get_by_label("Team").select_option(label="Leerplicht Utrecht")
    form.get_by_label("Startwachtwoord").fill("te-kort")
    form.get_by_role("button", name="Aanmaken").click()
    expect(admin.get_by_role("alert")).to_contain_text("Niet alles is juist ingevuld")
    password = admin.get_by_label("Startwachtwoord")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(admin.locator("#password-error")).to_contain_text("minstens 12 tekens")
    expect(password).to_have_value("")  # a password is never sent back
    expect(admin.get_by_label("Naam")).to_have_value("Daan Nieuw")
    expect(admin.get_by_label("Rol")).to_have_value("casusregisseur")
    check_axe(admin, "gebruikers met fouten")

    password.fill(PASSWORD)
    admin.get_by_role("button", name="Aanmaken").click()
    notice = admin.get_by_role("status")
    expect(notice).to_contain_text("Account aangemaakt voor daan.nieuw@browser.example")
    secret = notice.locator("code.secret").inner_text().strip()
    expect(admin.get_by_role("row", name="Daan Nieuw")).to_contain_text("Casusregisseur")
    screenshot(admin, "13-beheer-gebruiker-aangemaakt")
    check_axe(admin, "gebruiker aangemaakt")

    newcomer = open_page()
    newcomer.goto("/login")
    newcomer.get_by_label("E-mailadres").fill("daan.nieuw@browser.example")
    newcomer.get_by_label("Wachtwoord").fill(PASSWORD)
    newcomer.get_by_label("Code uit uw authenticator-app").fill(pyotp.TOTP(secret).now())
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
