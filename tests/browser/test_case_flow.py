"""A casusregisseur opens a case from the "Nieuw signaal" form and walks it through every
state to afgesloten with the transition forms on the case page, assigning a step on the way."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import check_axe, today
from tests.factories import valid_bsn

pytestmark = pytest.mark.browser


def transition_form(page, label: str):
    """The <details> of one action on the case page, opened by its summary."""
    details = page.locator("details", has=page.locator("summary", has_text=re.compile(f"^{re.escape(label)}$")))
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return details


def submit(details):
    with details.page.expect_navigation():
        details.locator("form button[type=submit]").first.click()


def expect_state(page, label: str):
    expect(page.get_by_role("heading", level=1).locator(".badge")).to_have_text(label)


def test_new_signal_with_an_error_then_every_state_to_afgesloten(open_page, live_server):
    page = open_page("regisseur")
    page.goto("/cases")
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Nieuw signaal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nieuw signaal")

    day = today()
    page.get_by_label("Voornaam").fill("Lotte")
    page.get_by_label("Achternaam").fill("Hendriks")
    page.get_by_label("Geboortedatum").fill("2011-09-30")
    page.get_by_label("BSN").fill("123456789")  # fails the elfproef
    page.get_by_label("School").select_option(label="Het Baken College (12AB)")
    page.get_by_label("Soort verzuim").select_option("lrv")
    page.get_by_label("Bron").select_option("school")
    page.get_by_label("Eerste dag zonder onderwijs").fill((day - timedelta(days=20)).isoformat())
    page.get_by_label("Toelichting").fill("Sinds september niet meer op school; ouders maken zich zorgen.")
    with page.expect_response(lambda r: r.request.method == "POST") as response:
        page.get_by_role("button", name="Signaal opslaan").click()
    assert response.value.status == 422

    # The error sits beside the field, is tied to it for screen readers, and all that was typed is kept.
    bsn = page.get_by_label("BSN")
    expect(page.get_by_role("alert")).to_contain_text("Niet alles is juist ingevuld")
    expect(page.locator("#bsn-error")).to_have_text("Dit BSN klopt niet: de elfproef faalt. Controleer de cijfers.")
    expect(bsn).to_have_attribute("aria-invalid", "true")
    expect(bsn).to_have_attribute("aria-describedby", re.compile(r"\bbsn-error\b"))
    expect(bsn).to_have_value("123456789")
    expect(page.get_by_label("Voornaam")).to_have_value("Lotte")
    expect(page.get_by_label("Geboortedatum")).to_have_value("2011-09-30")
    expect(page.get_by_label("Soort verzuim")).to_have_value("lrv")
    expect(page.get_by_label("School")).to_have_value(str(live_server.school))
    expect(page.get_by_label("Toelichting")).to_have_value("Sinds september niet meer op school; ouders maken zich zorgen.")
    expect(page.get_by_label("Voornaam")).not_to_have_attribute("aria-invalid", "true")

    bsn.fill(valid_bsn())
    page.get_by_role("button", name="Signaal opslaan").click()
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"Zaak MAS-\d{4}-\d+ is geopend\."))
    expect_state(page, "Signaal")
    expect(page.get_by_role("region", name="Jongere")).to_contain_text("Lotte Hendriks")

    # signaal → gesprek
    form = transition_form(page, "Contact gelegd, gesprek plannen")
    form.get_by_label("Datum gesprek").fill((day + timedelta(days=3)).isoformat())
    submit(form)
    expect(page.get_by_role("status")).to_have_text("De zaak is bijgewerkt.")
    expect_state(page, "Gesprek")

    # gesprek → zorgtafel: the browser itself refuses the form while the report is missing
    form = transition_form(page, "Gesprek gevoerd, naar de zorgtafel")
    form.get_by_label("Gekozen route").select_option("vrijwillig")
    form.locator("form button[type=submit]").click()
    report = form.get_by_label("Verslag van het gesprek")
    assert report.evaluate("el => el.validity.valueMissing")
    expect_state(page, "Gesprek")
    report.fill("Gesprek met Lotte en moeder: angstklachten, wil wel leren.")
    submit(form)
    expect_state(page, "Zorgtafel")
    expect(page.get_by_role("region", name="Jongere")).to_contain_text("angstklachten")

    # a step for an organisation, from the Regie forms
    form = transition_form(page, "Stap toewijzen aan een organisatie")
    form.get_by_label("Wat moet er gebeuren").fill("Intake jeugdhulp plannen")
    form.get_by_label("Organisatie").select_option(label="Buurtteam Overvecht")
    form.get_by_label("Uiterste datum").fill((day + timedelta(days=10)).isoformat())
    submit(form)
    expect(page.get_by_role("status")).to_have_text("De stap is toegewezen.")
    steps = page.get_by_role("region", name="Stappen")
    expect(steps.get_by_role("row", name=re.compile("Intake jeugdhulp plannen"))).to_contain_text("Buurtteam Overvecht")

    # zorgtafel → aanbod
    form = transition_form(page, "Maatwerkplan vastgesteld")
    form.get_by_label("Het aanbod (onderwijs en/of zorg)").fill("Deeltijdrooster met begeleiding, opbouw in zes weken.")
    form.get_by_label("Verantwoordelijke organisatie").select_option(label="Buurtteam Overvecht")
    form.get_by_label("Geplande start").fill((day + timedelta(days=7)).isoformat())
    form.get_by_label("Oriëntatieperiode (weken)").fill("4")
    submit(form)
    expect_state(page, "Aanbod")

    # aanbod → terugleiding: the server refuses a start date in the future, beside the field, keeping it
    form = transition_form(page, "Aanbod is gestart")
    form.get_by_label("Datum daadwerkelijke start").fill((day + timedelta(days=1)).isoformat())
    with page.expect_response(lambda r: r.request.method == "POST") as response:
        form.locator("form button[type=submit]").click()
    assert response.value.status == 422
    form = page.locator("details[open]", has=page.get_by_label("Datum daadwerkelijke start"))
    started = form.get_by_label("Datum daadwerkelijke start")
    expect(form.locator(".error")).to_have_text("Deze datum mag niet in de toekomst liggen.")
    expect(started).to_have_attribute("aria-invalid", "true")
    expect(started).to_have_value((day + timedelta(days=1)).isoformat())
    check_axe(page, "zaakpagina met een fout in een formulier")
    expect_state(page, "Aanbod")
    started.fill(day.isoformat())
    submit(form)
    expect_state(page, "Terugleiding")

    # terugleiding → afgesloten
    form = transition_form(page, "Nazorg afgerond, afsluiten")
    form.get_by_label("Reden van afsluiten").select_option(label="Terug naar school")
    submit(form)
    expect_state(page, "Afgesloten")
    expect(page.get_by_text("Geen vervolgstappen: de zaak is afgesloten.")).to_be_visible()
    expect(page.get_by_role("button", name="Zaak afsluiten")).to_have_count(0)

    journal = page.get_by_role("region", name="Journaal")
    for move in ("Signaal → Gesprek", "Gesprek → Zorgtafel", "Zorgtafel → Aanbod", "Aanbod → Terugleiding",
                 "Terugleiding → Afgesloten"):
        expect(journal).to_contain_text(move)
    expect(journal).to_contain_text("Stap toegewezen")
    expect(journal).to_contain_text("Zaak geopend")
    check_axe(page, "afgesloten zaak")
