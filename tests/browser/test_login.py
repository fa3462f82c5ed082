"""Logging in with e-mail, password and a TOTP code; a wrong code is refused; logout is a POST."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, check_axe, login

pytestmark = pytest.mark.browser


def test_wrong_code_is_refused_right_code_logs_in_and_logout_by_post_ends_the_session(open_page, live_server):
    person = live_server["loginuser"]
    page = open_page()

    page.goto("/cases")  # not logged in: to the login form, with the way back kept
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fcases|/login\?next=/cases"))

    with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as refused:
        login(page, person, code=person.wrong_code())
    assert refused.value.status == 401
    expect(page.get_by_role("alert")).to_contain_text("Inloggen is niet gelukt")
    expect(page.get_by_label("E-mailadres")).to_have_value(person.email)  # what was typed stays
    expect(page.get_by_label("Wachtwoord")).to_have_value("")  # secrets never come back
    check_axe(page, "login met foutmelding")

    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_label("Code uit uw authenticator-app").fill(person.code())
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Werkvoorraad")
    expect(page.get_by_role("navigation", name="Hoofdmenu")).to_be_visible()
    expect(page.get_by_role("banner")).to_contain_text(person.name)

    # Logout is a form that POSTs (with its CSRF token); a GET to /logout is refused and logs nobody out.
    assert page.request.get("/logout", max_redirects=0).status in (404, 405)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Werkvoorraad")
    with page.expect_request(lambda r: r.url.endswith("/logout")) as request:
        page.get_by_role("button", name="Uitloggen").click()
    assert request.value.method == "POST"
    expect(page.get_by_role("status")).to_have_text("U bent uitgelogd.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen bij mas")

    page.goto("/cases")  # the session is over on the server, not only in this browser
    expect(page).to_have_url(re.compile(r"/login"))


def test_the_same_code_cannot_be_used_twice(open_page, live_server):
    """A TOTP code is single use: replaying the code of a login that just succeeded fails."""
    person = live_server["replayuser"]
    first = open_page()
    code = person.code()
    login(first, person, code=code)
    expect(first.get_by_role("heading", level=1)).to_have_text("Werkvoorraad")

    second = open_page()
    login(second, person, code=code)
    expect(second.get_by_role("alert")).to_contain_text("Inloggen is niet gelukt")
