"""A stale form: the case changed in another window. The page says so (409), shows what
changed, and keeps what was typed; sending again then works."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import check_axe, screenshot
from tests.browser.test_case_flow import expect_state, submit, transition_form

pytestmark = pytest.mark.browser

STALE = "De zaak is intussen door uzelf (in een ander venster of tabblad) gewijzigd."


def _two_windows(open_page, live_server, name):
    reference = live_server.open_case(given_name=name, family_name="Peters")
    first, second = open_page("regisseur"), open_page("regisseur")
    for page in (first, second):
        page.goto(f"/cases/{reference}")
    return first, second


def _fire_elsewhere(page):
    form = transition_form(page, "Contact gelegd, gesprek plannen")
    submit(form)
    expect_state(page, "Gesprek")


def _submit_stale(page):
    with page.expect_response(lambda r: r.request.method == "POST") as response:
        page.locator("details[open] form button[type=submit]").click()
    assert response.value.status == 409
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(STALE)
    expect(alert).to_contain_text("wat u typte staat hieronder nog in het formulier")
    expect(alert.get_by_role("listitem")).to_contain_text("Fase gewijzigd → Gesprek")
    expect_state(page, "Gesprek")  # the page now shows the case as it is


def test_stale_route_change_is_refused_and_keeps_the_text(open_page, live_server):
    first, second = _two_windows(open_page, live_server, "Nora")
    form = transition_form(second, "Route wijzigen")
    form.get_by_label("Nieuwe route").select_option("halt")
    reason = "Afspraak met Halt gemaakt na overleg met school en ouders."
    form.get_by_label("Reden").fill(reason)

    _fire_elsewhere(first)
    _submit_stale(second)

    form = second.locator("details[open]", has=second.get_by_label("Nieuwe route"))
    expect(form.get_by_label("Reden")).to_have_value(reason)
    expect(form.get_by_label("Nieuwe route")).to_have_value("halt")
    screenshot(second, "14-zaak-verouderd-formulier")
    check_axe(second, "zaakpagina na 409")

    submit(form)  # now against the version the page shows: accepted
    expect(second.get_by_role("status")).to_have_text("De route is gewijzigd.")
    expect(second.get_by_text("Route: Halt")).to_be_visible()


def test_stale_transition_is_refused_and_keeps_the_text(open_page, live_server):
    first, second = _two_windows(open_page, live_server, "Amir")
    form = transition_form(second, "Zaak afsluiten")
    form.get_by_label("Reden van afsluiten").select_option("verhuisd")
    reason = "Gezin is verhuisd naar Groningen; dossier overgedragen."
    form.get_by_label("Reden", exact=True).fill(reason)

    _fire_elsewhere(first)
    _submit_stale(second)

    form = second.locator("details[open]", has=second.get_by_label("Reden van afsluiten"))
    expect(form.get_by_label("Reden", exact=True)).to_have_value(reason)
    expect(form.get_by_label("Reden van afsluiten")).to_have_value("verhuisd")


def test_two_people_fire_the_same_step_the_second_keeps_the_report(open_page, live_server):
    """The issue's case: the casusregisseur and the coordinator both have the case open in
    'gesprek' and both send "Gesprek gevoerd, naar de zorgtafel". The second is told who got
    there first (409) and finds the report it typed in the form, although the case is now past
    that step."""
    reference = live_server.open_case(given_name="Yara", family_name="Peters")
    regisseur, coordinator = open_page("regisseur"), open_page("coordinator")
    regisseur.goto(f"/cases/{reference}")
    submit(transition_form(regisseur, "Contact gelegd, gesprek plannen"))
    expect_state(regisseur, "Gesprek")
    coordinator.goto(f"/cases/{reference}")

    mine = transition_form(regisseur, "Gesprek gevoerd, naar de zorgtafel")
    typed = "Gesprek met Yara en haar vader: ze wil terug naar school, maar niet naar haar oude klas."
    mine.get_by_label("Verslag van het gesprek").fill(typed)
    mine.get_by_label("Gekozen route").select_option("vrijwillig")

    theirs = transition_form(coordinator, "Gesprek gevoerd, naar de zorgtafel")
    theirs.get_by_label("Verslag van het gesprek").fill("Kort verslag van de coördinator.")
    theirs.get_by_label("Gekozen route").select_option("vrijwillig")
    submit(theirs)
    expect_state(coordinator, "Zorgtafel")

    with regisseur.expect_response(lambda r: r.request.method == "POST") as response:
        mine.locator("form button[type=submit]").click()
    assert response.value.status == 409
    alert = regisseur.get_by_role("alert").first
    expect(alert).to_contain_text("De zaak is intussen door Karin Coördinator gewijzigd.")
    expect(alert.get_by_role("listitem").first).to_contain_text("Fase gewijzigd → Zorgtafel")
    expect_state(regisseur, "Zorgtafel")
    kept = regisseur.locator("details[open]", has=regisseur.get_by_label("Verslag van het gesprek"))
    expect(kept.get_by_label("Verslag van het gesprek")).to_have_value(typed)
    expect(kept).to_contain_text("Deze stap past niet meer bij de fase zorgtafel")
    check_axe(regisseur, "zaakpagina na 409, stap voorbij")
