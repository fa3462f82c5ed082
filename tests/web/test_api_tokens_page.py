"""The admin page for API tokens: a token for an organisation's system, shown once; revocation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from mas.models import ApiToken, User
from tests.web.conftest import Api


def test_an_admin_makes_a_token_for_a_schools_system_shown_once_and_revokes_it(web_app, login, world, db):
    admin = login("admin")
    page = admin.post("/admin/tokens", data={"organisation_id": str(world.school), "name": "Leerlingadministratie",
                                             "scopes": ["write"], "days": "30"})
    assert page.status_code == 200
    token = re.search(r"mas_[A-Za-z0-9_-]{20,}", page.get_data(as_text=True)).group(0)
    listed = admin.get("/admin/tokens").get_data(as_text=True)
    assert token not in listed and token[:12] in listed and "Leerlingadministratie" in listed
    with db.read() as conn:
        row = conn.execute(select(ApiToken.__table__)).one()
        owner = conn.execute(select(User.__table__).where(User.__table__.c.id == row.user_id)).one()
    assert row.scopes == ["write"] and owner.is_service_account and owner.organisation_id == world.school
    assert owner.password_hash is None  # it can never log in through the browser
    api = Api(web_app, token)
    assert api.get("/me").status_code == 403  # write only
    assert admin.post(f"/admin/tokens/{row.id}/revoke").status_code == 302
    assert api.post("/signals", json={}).status_code == 401
    assert "ingetrokken" in admin.get("/admin/tokens").get_data(as_text=True)


def test_the_token_form_keeps_what_was_typed_and_says_what_is_wrong(web_app, login, world):
    admin = login("admin")
    response = admin.post("/admin/tokens", data={"organisation_id": str(world.school), "name": "Koppeling X",
                                                 "days": "999"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Kies lezen, wijzigen of beide." in html and "366 dagen" in html
    assert 'value="Koppeling X"' in html


def test_others_reach_no_token_page_and_an_admin_makes_no_personal_token(web_app, login, world, db, now):
    from mas.services import tokens
    from mas.services.errors import Forbidden

    for name in ("regisseur_a", "coordinator_a", "partner_wijkteam"):
        client = login(name)
        assert client.get("/admin/tokens").status_code == 404
        assert client.post("/admin/tokens", data={"organisation_id": str(world.school), "name": "x",
                                                  "scopes": ["read"]}).status_code == 404
    with pytest.raises(Forbidden), db.begin() as conn:  # an admin never acts as a person
        tokens.create_token(conn, world.admin, user_id=world.regisseur_a.id, name="x", scopes=["read"], now=now)
