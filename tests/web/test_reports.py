"""The documents as files: the yearly report (HTML, PDF, XLSX) and the SWV overview (CSV, XLSX)."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from mas.models import Organisation, User
from tests.figures.dataset import NOW, build
from tests.web.conftest import PASSWORD, SECRET


@pytest.fixture
def data(db, ctx, world, clock):
    clock.now = NOW
    return build(db, ctx, world)


def test_the_yearly_report_as_html_pdf_and_xlsx(web_app, login, data):
    client = login("coordinator_a")
    assert "2025-2026" in client.get("/rapportage/jaarverslag").get_data(as_text=True)
    page = client.get("/rapportage/jaarverslag/2025-2026.html").get_data(as_text=True)
    assert "Jaarverslag leerplicht 2025-2026" in page and "Halt-verwijzingen" in page and "&lt; 5" in page
    assert "niet te tellen" in page  # vrijstellingen: said in words
    pdf = client.get("/rapportage/jaarverslag/2025-2026.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
    book = load_workbook(io.BytesIO(client.get("/rapportage/jaarverslag/2025-2026.xlsx").data))
    assert "Meldingen per soort verzuim" in book.sheetnames
    assert client.get("/rapportage/jaarverslag/2025-2026.doc").status_code == 404


def test_others_cannot_produce_the_yearly_report(web_app, login, data):
    for who in ("regisseur_a", "partner_wijkteam", "admin"):
        assert login(who).get("/rapportage/jaarverslag/2025-2026.html").status_code == 404


def test_the_swv_overview_as_csv(web_app, login, data, db, world, now):
    o, u = Organisation.__table__, User.__table__
    with db.begin() as conn:
        org = conn.execute(o.insert().returning(o.c.id), dict(name="Samenwerkingsverband Utrecht", kind="swv",
                                                               is_active=True, created_at=now)).scalar_one()
        conn.execute(u.insert(), dict(email="swv@example.org", name="swv", role="swv_rapporteur", organisation_id=org,
                                      is_active=True, created_at=now))
        conn.execute(update(u).where(u.c.email == "swv@example.org").values(
            password_hash=__import__("mas.services.auth", fromlist=["_hasher"])._hasher.hash(PASSWORD),
            totp_secret=SECRET))
    from tests.web import conftest

    conftest_emails = conftest.email_of
    conftest.email_of = lambda name: "swv@example.org" if name == "swv" else conftest_emails(name)
    try:
        client = login("swv")
    finally:
        conftest.email_of = conftest_emails
    page = client.get("/rapportage/swv").get_data(as_text=True)
    assert "1 april 2026" in page and "1 oktober 2026" not in page  # only peildata that have passed
    response = client.get("/rapportage/swv/2026-04-01.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["Categorie", "Totaal", "Leerplicht Utrecht"]
    assert rows[1][1:] == ["< 5", "< 5"] and rows[3][1:] == ["niet beschikbaar", "niet beschikbaar"]
    assert client.get("/rapportage/swv/2026-04-02.csv").status_code == 404  # not a peildatum
    assert client.get("/rapportage/swv/2026-10-01.csv").status_code == 404  # still to come
    assert login("coordinator_a").get("/rapportage/swv/2026-04-01.csv").status_code == 404
