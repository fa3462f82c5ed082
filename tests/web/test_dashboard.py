"""The dashboard page, its exports (scoped, suppressed, logged) and the school file upload."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from mas.models import AccessLog
from tests.figures.dataset import NOW, build


@pytest.fixture
def data(db, ctx, world, clock):
    clock.now = NOW
    return build(db, ctx, world)


def _exports(db):
    a = AccessLog.__table__
    with db.read() as conn:
        return conn.execute(select(a.c.user_id, a.c.action, a.c.detail).where(a.c.action == "export")).all()


def test_the_coordinator_sees_the_teams_figures_with_charts_and_tables(web_app, login, data):
    page = login("coordinator_a").get("/dashboard?van=2026-01&tot=2026-06").get_data(as_text=True)
    assert "Cijfers van uw team" in page
    assert "Open zaken per fase" in page and "Thuis zonder onderwijs, naar duur" in page
    assert page.count('<img class="chart" src="data:image/svg+xml;base64,') >= 8
    assert "https://" not in page.split("<main", 1)[1]  # no outside assets
    assert data.references["E"] in page and data.references["G"] not in page


def test_the_casusregisseur_sees_own_cases_and_others_see_nothing(web_app, login, data):
    page = login("regisseur_a2").get("/dashboard").get_data(as_text=True)
    assert "Cijfers van uw eigen zaken" in page
    assert data.references["H"] in page and data.references["E"] not in page
    for who in ("partner_wijkteam", "admin"):
        assert login(who).get("/dashboard").status_code == 404


def test_a_csv_export_is_scoped_suppressed_and_logged(web_app, login, data, db, world):
    response = login("coordinator_a").get("/dashboard/export/thuiszitters_duur.csv")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["Duur", "Met aanbod", "Zonder aanbod", "Totaal"]
    assert rows[1:] == [["≤ 4 weken", "0", "< 5", "< 5"], ["4 weken – 3 maanden", "0", "< 5", "< 5"],
                        ["> 3 maanden", "< 5", "< 5", "< 5"]]
    [log] = _exports(db)
    assert log.user_id == world.coordinator_a.id and log.detail["what"] == "thuiszitters_duur"
    assert log.detail["team_ids"] == [world.team_a]


def test_the_xlsx_workbook_holds_every_table(web_app, login, data, db):
    response = login("coordinator_b").get("/dashboard/export.xlsx?van=2026-01&tot=2026-06")
    book = load_workbook(io.BytesIO(response.data))
    assert len(book.sheetnames) >= 14
    sheet = book[book.sheetnames[0]]
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert "Open zaken per fase" in values and "< 5" in values
    assert [e.detail["format"] for e in _exports(db)] == ["xlsx"]


def test_an_unknown_table_is_not_found(web_app, login, data):
    assert login("coordinator_a").get("/dashboard/export/nope.csv").status_code == 404


def test_the_school_file_upload_reports_bad_lines(web_app, login, data):
    client = login("coordinator_a")
    bad = b"brin;school;gemeente;onderwijssoort;deelnemers;vsv\n12AB;X;Utrecht;hbo;10;1\n"
    response = client.post("/dashboard/scholen", data={"school_year": "2025-2026", "file": (io.BytesIO(bad), "f.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "regel 2" in response.get_data(as_text=True)
    good = b"brin;school;gemeente;onderwijssoort;deelnemers;vsv\n12AB;Het Baken;Utrecht;vo;100;7\n"
    response = client.post("/dashboard/scholen", data={"school_year": "2025-2026", "file": (io.BytesIO(good), "f.csv")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "1 regels voor schooljaar 2025-2026" in response.get_data(as_text=True)
    assert login("regisseur_a").post("/dashboard/scholen", data={}).status_code == 404


def test_the_coordinators_dashboard_makes_the_facts_and_a_change_shows_on_the_next_page(web_app, login, data, db, ctx,
                                                                                        world, clock):
    from mas.services.figures import facts
    from tests.factories import fire
    from tests.figures.dataset import at

    client = login("coordinator_a")
    with db.read() as conn:
        assert not facts.current(conn, ctx, (world.team_a,))
    before = client.get("/dashboard?van=2026-06&tot=2026-06").get_data(as_text=True)
    with db.read() as conn:
        assert facts.current(conn, ctx, (world.team_a,))  # made by the page
    # C, at the zorgtafel since 16 Mar, gets its plan on 10 Jun: a zorgtafel stay of 86 days ends in June.
    fire(db, ctx, world, data.ids["C"], "maatwerkplan_vastgesteld", at("2026-06-10"), actor=world.regisseur_a,
         data={"offer": "Maatwerk", "responsible_organisation_id": world.wijkteam, "planned_start_on": "2026-06-22"})
    after = client.get("/dashboard?van=2026-06&tot=2026-06").get_data(as_text=True)
    assert "86,0" not in before.split("Gemiddeld aantal dagen per fase", 1)[1].split("</table>", 1)[0]
    assert "86,0" in after.split("Gemiddeld aantal dagen per fase", 1)[1].split("</table>", 1)[0]
    with db.read() as conn:
        assert facts.current(conn, ctx, (world.team_a,))
