"""Every main page: a screenshot to look at, and axe-core with its default rules (zero violations)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from mas.dates import utcnow
from tests.browser.conftest import check_axe, screenshot

pytestmark = pytest.mark.browser


def test_login_page(open_page):
    page = open_page()
    page.goto("/login")
    screenshot(page, "01-login")
    check_axe(page, "login")


def test_werkvoorraad(open_page, live_server):
    live_server.open_case(given_name="Noah", family_name="Bakker")
    page = open_page("regisseur")
    page.goto("/cases")
    page.get_by_role("heading", name="Werkvoorraad").wait_for()
    screenshot(page, "02-werkvoorraad")
    check_axe(page, "werkvoorraad")


def test_new_signal_page_with_and_without_errors(open_page):
    page = open_page("regisseur")
    page.goto("/cases/new")
    screenshot(page, "03-nieuw-signaal")
    check_axe(page, "nieuw signaal")
    page.get_by_label("Voornaam").fill("Yara")
    page.get_by_label("Achternaam").fill("El Amrani")
    page.get_by_label("Geboortedatum").fill("2012-06-01")
    page.get_by_label("BSN").fill("123456789")
    page.get_by_role("button", name="Signaal opslaan").click()
    page.get_by_role("alert").wait_for()
    screenshot(page, "04-nieuw-signaal-fouten")
    check_axe(page, "nieuw signaal met fouten")


def test_case_page_with_a_form_open(open_page, live_server):
    reference = live_server.open_case(given_name="Tess", family_name="Visser")
    live_server.assign_step(reference, live_server.org_a, "Huisbezoek en inventarisatie hulpvraag")
    page = open_page("regisseur")
    page.goto(f"/cases/{reference}")
    screenshot(page, "05-zaak")
    check_axe(page, "zaakpagina")
    page.get_by_text("Contact gelegd, gesprek plannen").first.click()
    page.get_by_text("Stap toewijzen aan een organisatie").click()
    screenshot(page, "06-zaak-formulier-open")
    check_axe(page, "zaakpagina met formulieren open")


def test_partner_page(open_page, live_server):
    reference = live_server.open_case(given_name="Milan", family_name="Smit")
    live_server.assign_step(reference, live_server.org_a, "Gesprek met ouders over hulpvraag")
    page = open_page("partner_a")
    page.goto("/partner")
    page.get_by_text("Afronden").first.click()
    screenshot(page, "07-partner")
    check_axe(page, "partnerpagina")


@pytest.mark.parametrize("path,name", [("/admin/users", "08-beheer-gebruikers"), ("/admin/teams", "09-beheer-teams"),
                                       ("/admin/organisations", "10-beheer-organisaties")])
def test_admin_pages(open_page, path, name):
    page = open_page("admin")
    page.goto(path)
    screenshot(page, name)
    check_axe(page, name)


def test_admin_outbox_with_an_undelivered_message(open_page, live_server):
    """A message the mail server refused for good is listed (no case content) and can be queued again."""
    from sqlalchemy import select, update

    from mas.models import OutboxMessage

    reference = live_server.open_case(given_name="Sara", family_name="Yilmaz")
    live_server.assign_step(reference, live_server.org_b, "Medisch advies")
    o = OutboxMessage.__table__
    with live_server.db.begin() as conn:
        message = conn.execute(select(o.c.id, o.c.recipient).where(o.c.template == "step_assigned")
                               .order_by(o.c.id.desc()).limit(1)).one()
        conn.execute(update(o).where(o.c.id == message.id).values(
            status="dead", attempts=8, last_error="550 5.1.1 mailbox unavailable"))
    page = open_page("admin")
    page.goto("/admin/outbox")
    row = page.get_by_role("row", name=message.recipient)
    expect(row).to_contain_text("Stap toegewezen")
    expect(row).to_contain_text("550 5.1.1 mailbox unavailable")
    expect(page.get_by_text(reference)).to_have_count(0)
    screenshot(page, "11-beheer-outbox")
    check_axe(page, "niet bezorgde e-mail")
    row.get_by_role("button", name=f"Opnieuw versturen aan {message.recipient}").click()
    expect(page.get_by_role("status")).to_have_text("Het bericht staat weer in de wachtrij.")
    expect(page.get_by_role("row", name=message.recipient)).to_have_count(0)


def test_workflow_page(open_page):
    page = open_page("coordinator")
    page.goto("/workflow")
    screenshot(page, "12-proces")
    check_axe(page, "proces")


def test_account_and_not_found_pages(open_page):
    page = open_page("coordinator")
    page.goto("/account")
    check_axe(page, "account")
    assert page.goto("/cases/MAS-1999-999999").status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Niet gevonden")
    check_axe(page, "niet gevonden")


def test_import_page_with_its_preview_and_bad_rows(open_page, tmp_path):
    from pathlib import Path

    examples = Path(__file__).resolve().parents[2] / "examples"
    page = open_page("regisseur")
    page.goto("/import/verzuim")
    check_axe(page, "import")
    page.get_by_label("CSV-bestand").set_input_files(str(examples / "verzuimmeldingen-met-fouten.csv"))
    page.get_by_role("button", name="Controleren").click()
    expect(page.get_by_role("table", name="Fouten per regel")).to_contain_text("De einddatum ligt vóór de begindatum.")
    screenshot(page, "13-import-voorbeeld")
    check_axe(page, "import met voorbeeld en fouten")


def test_vangnet_page(open_page, live_server, tmp_path):
    from datetime import date

    from mas.services import vangnet
    from mas.services.actors import SYSTEM
    from tests.factories import valid_bsn

    youths, enrollments = tmp_path / "j.csv", tmp_path / "i.csv"
    youths.write_text("bsn;voornaam;achternaam;geboortedatum\n"
                      + "".join(f"{valid_bsn()};Sem;Vangnet{i};14-05-2011\n" for i in range(3)))
    enrollments.write_text("bsn;inschrijfdatum\n")
    report = vangnet.run_vangnet(live_server.db, live_server.ctx, SYSTEM, youths, enrollments,
                                 cutoff=date(2026, 10, 1), team_id=live_server.team_id, now=utcnow())
    page = open_page("regisseur")
    page.goto("/import/vangnet")
    check_axe(page, "vangnet rondes")
    page.goto(f"/import/vangnet/{report.round_id}")
    screenshot(page, "14-vangnet")
    check_axe(page, "vangnet lijst")
