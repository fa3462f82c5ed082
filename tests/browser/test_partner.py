"""A partner sees only the steps of its own organisation and marks one done with a note."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import today
from tests.browser.test_case_flow import submit, transition_form

pytestmark = pytest.mark.browser


def test_partner_sees_only_its_own_step_and_marks_it_done(open_page, live_server):
    reference = live_server.open_case(given_name="Jesse", family_name="Kramer")
    live_server.assign_step(reference, live_server.org_b, "Medisch advies jeugdarts")  # the other organisation's

    regisseur = open_page("regisseur")
    regisseur.goto(f"/cases/{reference}")
    form = transition_form(regisseur, "Stap toewijzen aan een organisatie")
    form.get_by_label("Wat moet er gebeuren").fill("Huisbezoek en inventarisatie hulpvraag")
    form.get_by_label("Organisatie").select_option(label="Buurtteam Overvecht")
    form.get_by_label("Uiterste datum").fill((today() + timedelta(days=5)).isoformat())
    form.get_by_label("Toelichting").fill("Graag binnen een week langs; moeder is overdag thuis.")
    submit(form)
    expect(regisseur.get_by_role("status")).to_have_text("De stap is toegewezen.")

    partner = open_page("partner_a")
    partner.goto("/")
    expect(partner.get_by_role("heading", level=1)).to_have_text("Stappen voor uw organisatie")
    mine = partner.get_by_role("article", name="Huisbezoek en inventarisatie hulpvraag")
    expect(mine.filter(has_text=reference)).to_have_count(1)
    expect(mine.filter(has_text=reference)).to_contain_text("Jesse")
    expect(partner.get_by_text("Medisch advies jeugdarts")).to_have_count(0)
    expect(partner.get_by_text("Kramer")).to_have_count(0)  # only the first name
    # The case page itself is not the partner's: it is "not found", not even "forbidden".
    assert partner.request.get(f"/cases/{reference}").status == 404

    step = mine.filter(has_text=reference)
    step.locator("summary", has_text="Afronden").click()
    step.get_by_label("Wat is er gedaan").fill("Huisbezoek gedaan; aangemeld bij jeugdhulp.")
    step.get_by_role("button", name="Stap afronden").click()
    expect(partner.get_by_role("status")).to_have_text("De stap is afgerond. Dank u wel.")
    done = partner.get_by_role("article", name="Huisbezoek en inventarisatie hulpvraag").filter(has_text=reference)
    expect(done.locator("dd", has_text=re.compile("^afgerond"))).to_have_count(1)
    expect(done.get_by_role("button", name="Stap afronden")).to_have_count(0)

    other = open_page("partner_b")
    other.goto("/partner")
    expect(other.get_by_role("article", name="Medisch advies jeugdarts").filter(has_text=reference)).to_have_count(1)
    expect(other.get_by_text("Huisbezoek en inventarisatie hulpvraag")).to_have_count(0)

    regisseur.reload()
    row = regisseur.get_by_role("region", name="Stappen").get_by_role("row", name=re.compile("Huisbezoek"))
    expect(row).to_contain_text("afgerond")
    expect(row).to_contain_text("Huisbezoek gedaan; aangemeld bij jeugdhulp.")
    expect(regisseur.get_by_role("region", name="Journaal")).to_contain_text("Stap afgerond")
