"""Bad input gets a Dutch answer beside its field, or a Dutch page in the app's layout; never a 500.

(tests/web/test_hostile_input.py throws a generated corpus at every form; here each defect
the issue names has its own readable test.)"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from mas.models import Case
from tests.factories import open_case

SIGNAL = {"given_name": "Zoë", "family_name": "Jansen", "birth_on": "2012-02-03", "bsn": "111222333", "kind": "lrv",
          "source": "school"}


def _cases(db):
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(Case.__table__)).scalar_one()


@pytest.mark.parametrize("value", ["²", "١", "99999999999999999999", "-1"])
def test_ids_versions_pages_and_filters_never_answer_500(web_app, login, world, db, ctx, now, value):
    case = open_case(db, ctx, world, now)
    regisseur, admin = login("regisseur_a"), login("admin")
    assert regisseur.get(f"/cases?page={value}&school={value}").status_code == 200
    assert admin.get(f"/admin/outbox?pagina={value}").status_code == 200
    assert admin.get(f"/admin/users/{value}").status_code == 404
    assert admin.get(f"/admin/teams/{value}").status_code == 404
    response = regisseur.post(f"/cases/{case.reference}/transition/plan_gesprek", data={"version": value})
    assert response.status_code == 422
    assert "de versie van de zaak" in response.get_data(as_text=True)
    response = regisseur.post(f"/cases/{case.reference}/handover", data={"version": "1", "to_user_id": value})
    assert response.status_code == 422


def test_arabic_indic_digits_are_no_id(web_app, login, world):
    """Werkzeug's <int:> would read '١' as 1: mas reads ASCII digits only."""
    admin = login("admin")
    assert admin.get(f"/admin/users/{world.admin.id}").status_code == 200
    assert admin.get("/admin/users/" + "١٢٣٤٥٦٧٨٩"[world.admin.id - 1]).status_code == 404


@pytest.mark.parametrize("day,message", [("0001-01-01", "Een datum vanaf 01-01-1900"),
                                         ("9999-12-31", "Een datum tot en met 03-03-2031"),
                                         ("1960-05-01", "Een datum tussen 01-01-1971")])
def test_dates_outside_the_range_are_refused_beside_the_field(web_app, login, db, day, message):
    client = login("regisseur_a")
    response = client.post("/cases/new", data={**SIGNAL, "period_first_on": day})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'id="period_first_on-error"' in html
    assert 'value="Zoë"' in html  # what was typed is kept
    assert _cases(db) == 0


@pytest.mark.parametrize("field", ["given_name", "description", "reporter_name"])
def test_nul_is_refused_on_both_databases(web_app, login, db, field):
    client = login("regisseur_a")
    response = client.post("/cases/new", data={**SIGNAL, field: "Zo\x00ë"})
    assert response.status_code == 400
    assert "ongeldig teken (NUL)" in response.get_data(as_text=True)
    assert _cases(db) == 0
    assert client.get("/cases?q=a%00b").status_code == 400


def test_a_body_over_the_limit_gets_a_dutch_page_naming_the_limit(web_app, login, db):
    client = login("regisseur_a")
    response = client.post("/cases/new", data={**SIGNAL, "description": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "groter dan de grens van 2 MB" in html and 'lang="nl"' in html and 'id="inhoud"' in html
    assert "Request Entity Too Large" not in html


def test_dutch_pages_for_404_and_405_in_the_layout(web_app, login):
    from werkzeug.exceptions import MethodNotAllowed

    client = login("regisseur_a")
    for method in ("get", "put", "delete"):  # an unknown page, or a known one by a method it does not take
        response = getattr(client, method)("/bestaat-niet" if method == "get" else "/cases")
        html = response.get_data(as_text=True)
        assert response.status_code == 404 and "Niet gevonden" in html and 'id="inhoud"' in html
    with web_app.test_request_context("/cases", method="PUT"):
        response = web_app.make_response(web_app.handle_http_exception(MethodNotAllowed(valid_methods=["GET"])))
    html = response.get_data(as_text=True)
    assert response.status_code == 405 and "Kan zo niet" in html and 'id="inhoud"' in html
    assert "Method Not Allowed" not in html


def test_a_dutch_page_for_500_in_the_layout(web_app, login, monkeypatch):
    from mas.services import queries

    def broken(*args, **kwargs):
        raise RuntimeError("kapot")

    monkeypatch.setattr(queries, "werkvoorraad", broken)
    response = login("regisseur_a").get("/cases")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Er ging iets mis" in html and 'id="inhoud"' in html and "Internal Server Error" not in html


@pytest.mark.parametrize("birth_on,words", [("1899-12-31", "Een datum vanaf 01-01-1900"), ("2023-01-01", "jonger zijn dan 4 jaar"),
                                            ("2000-01-01", "ouder zijn dan 23 jaar")])
def test_birth_dates_that_cannot_be_right(web_app, login, db, birth_on, words):
    response = login("regisseur_a").post("/cases/new", data={**SIGNAL, "birth_on": birth_on})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert words in html and 'id="birth_on-error"' in html


def test_first_day_before_the_birth_date(web_app, login, db):
    response = login("regisseur_a").post("/cases/new", data={**SIGNAL, "birth_on": "2020-06-01",
                                                             "first_absent_on": "2020-05-01"})
    assert response.status_code == 422
    assert "vóór de geboortedatum" in response.get_data(as_text=True)


@pytest.mark.parametrize("hours", ["nan", "inf", "-3", "161", "1e309"])
def test_hours_missed_that_cannot_be(web_app, login, db, hours):
    response = login("regisseur_a").post("/cases/new", data={**SIGNAL, "hours_missed": hours})
    assert response.status_code == 422
    assert 'id="hours_missed-error"' in response.get_data(as_text=True)
    assert _cases(db) == 0


@pytest.mark.parametrize("field", ["reporter_email", "guardian_email"])
def test_email_addresses_are_checked_as_addresses(web_app, login, db, field):
    data = {**SIGNAL, "guardian_name": "Anna Jansen", "guardian_relation": "moeder", field: "anna@@example"}
    response = login("regisseur_a").post("/cases/new", data=data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)


def test_far_future_due_dates_on_steps_are_refused_beside_the_field(web_app, login, db, ctx, world, now):
    case = open_case(db, ctx, world, now)
    client = login("regisseur_a")
    response = client.post(f"/cases/{case.reference}/steps", data={
        "organisation_id": str(world.wijkteam), "title": "Huisbezoek", "due_on": date(2040, 1, 1).isoformat()})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="step-due_on-error"' in html and "03-03-2031" in html


def test_a_too_short_new_password_shows_its_error(web_app, login):
    from tests.web.conftest import PASSWORD

    response = login("regisseur_a").post("/account", data={"current": PASSWORD, "new": "kort"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Kies een wachtwoord van minstens 12 tekens." in html and 'id="new-error"' in html


# A form field, and the column it is stored in.
STORED_IN = {
    "given_name": ("youth_record", "given_name"), "family_name": ("youth_record", "family_name"),
    "reporter_name": ("signal", "reporter_name"), "reporter_email": ("signal", "reporter_email"),
    "description": ("signal", "description"), "guardian_name": ("guardian", "name"),
    "guardian_phone": ("guardian", "phone"), "title": ("step", "title"),
}


def test_a_text_field_has_the_same_length_in_the_form_and_in_the_migrated_column(web_app, login, world, db, ctx, now):
    import re

    from sqlalchemy import inspect

    inspector = inspect(db.engine)
    lengths = {(table, c["name"]): getattr(c["type"], "length", None) for table in {t for t, _ in STORED_IN.values()}
               for c in inspector.get_columns(table)}
    case = open_case(db, ctx, world, now)
    client = login("regisseur_a")
    pages = client.get("/cases/new").get_data(as_text=True) + client.get(f"/cases/{case.reference}").get_data(as_text=True)
    shown = {}
    for tag in re.findall(r"<(?:input|textarea)\b[^>]*>", pages):
        name, limit = re.search(r'name="([^"]+)"', tag), re.search(r'maxlength="(\d+)"', tag)
        if name and limit:
            shown[name.group(1)] = int(limit.group(1))
    for field, column in STORED_IN.items():
        assert field in shown, field
        assert shown[field] == lengths[column], (field, shown[field], lengths[column])


@pytest.mark.postgres
def test_postgresql_itself_refuses_a_longer_text_than_the_column_allows(pg_database_url):
    from sqlalchemy import text
    from sqlalchemy.exc import DataError

    from mas.db import Database, upgrade

    db = Database(pg_database_url)
    try:
        upgrade(db)
        with pytest.raises(DataError), db.begin() as conn:
            conn.execute(text("INSERT INTO team (name, municipalities, default_region, created_at) "
                              "VALUES (:name, '[]', 'midden', now())"), {"name": "x" * 201})
    finally:
        db.dispose()
