"""Keyboard alone: the "Nieuw signaal" form and a transition form, filled and sent with Tab,
typing, Enter and Space only (no mouse, no fill())."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import focused, screenshot, tab_to, today
from tests.factories import valid_bsn

pytestmark = pytest.mark.browser


def test_new_signal_and_a_transition_with_the_keyboard_only(open_page, date_keys):
    page = open_page("regisseur")
    page.goto("/cases/new")
    kb = page.keyboard

    # The first Tab reaches the skip link; following it lands the focus in the content.
    kb.press("Tab")
    assert focused(page) == "Naar de inhoud"
    kb.press("Enter")
    order = tab_to(page, "given_name", limit=3)
    kb.type("Finn")
    order += tab_to(page, "family_name", limit=1)
    kb.type("de Boer")
    order += tab_to(page, "birth_on", limit=1)
    kb.type(date_keys(date(2012, 2, 29)))
    order += tab_to(page, "bsn", limit=4)  # a date input has one stop per segment in some browsers
    kb.type(valid_bsn())
    order += tab_to(page, "school_id", limit=4)
    kb.type("Het Baken")  # type-ahead in a closed <select>
    order += tab_to(page, "guardian_name", limit=5)
    kb.type("Ilse de Boer")
    order += tab_to(page, "guardian_relation", limit=1)
    kb.type("moeder")
    order += tab_to(page, "guardian_custody", limit=4)
    assert page.get_by_label("Heeft het gezag").is_checked()
    kb.press("Space")
    assert not page.get_by_label("Heeft het gezag").is_checked()
    kb.press("Space")
    assert page.get_by_label("Heeft het gezag").is_checked()
    order += tab_to(page, "kind", limit=1)
    kb.type("Langdurig")
    order += tab_to(page, "source", limit=1)
    kb.type("School")
    order += tab_to(page, "first_absent_on", limit=12)
    kb.type(date_keys(today() - timedelta(days=12)))
    order += tab_to(page, "description", limit=16)
    kb.type("Melding via de zorgcoördinator; al twee weken thuis.")
    order += tab_to(page, "Signaal opslaan", limit=4)
    screenshot(page, "15-toetsenbord-focus")  # the focus ring on the submit button must be plain to see

    # The fields came in the order they are read, top to bottom, column by column.
    for earlier, later in [("given_name", "family_name"), ("bsn", "school_id"), ("school_id", "guardian_name"),
                           ("guardian_custody", "kind"), ("kind", "source"), ("description", "Signaal opslaan")]:
        assert order.index(earlier) < order.index(later), order
    expect(page.get_by_label("Soort verzuim")).to_have_value("lrv")
    expect(page.get_by_label("Bron")).to_have_value("school")
    expect(page.get_by_label("Geboortedatum")).to_have_value("2012-02-29")

    kb.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("is geopend")
    expect(page.get_by_role("region", name="Jongere")).to_contain_text("Finn de Boer")
    expect(page.get_by_role("region", name="Jongere")).to_contain_text("Het Baken College")

    # A transition: Tab to its summary, Enter opens it, type, Space on the button sends it.
    tab_to(page, "Contact gelegd, gesprek plannen", limit=80)
    kb.press("Enter")
    tab_to(page, "t-plan_gesprek-gesprek_on", limit=1)
    kb.type(date_keys(today() + timedelta(days=2)))
    tab_to(page, "Contact gelegd, gesprek plannen", limit=4)
    with page.expect_navigation():
        kb.press("Space")
    expect(page.get_by_role("status")).to_have_text("De zaak is bijgewerkt.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Gesprek")
