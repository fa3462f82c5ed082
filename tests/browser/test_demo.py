"""The demo as a new user meets it: `mas demo`'s data, logged in without a code, in chromium.

The werkvoorraad shows a working team's week (mostly on time, two overdue and escalated) and
an overdue case's page tells its story; both pass axe and leave screenshots to look at.
"""

from __future__ import annotations

import logging
import threading

import pytest
from playwright.sync_api import expect

from mas.demo import DEMO_PASSWORD, ensure_demo
from mas.settings import load_settings
from tests.browser.conftest import VIEWPORT, check_axe, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    from werkzeug.serving import make_server

    from mas.web import create_app

    base = tmp_path_factory.mktemp("demo-browser")
    settings = load_settings(environ={}, env="test", instance_dir=base / "instance",
                             database_url=f"sqlite:///{(base / 'mas.sqlite3').as_posix()}")
    ensure_demo(settings)
    app = create_app(settings, require_totp=False)  # as `mas demo` serves it
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    app.extensions["mas"]["db"].dispose()


def test_the_demo_werkvoorraad_and_an_overdue_case(browser, demo_server):
    context = browser.new_context(base_url=demo_server, locale="nl-NL", timezone_id="Europe/Amsterdam",
                                  viewport=VIEWPORT)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("E-mailadres").fill("coordinator@demo.mas.example")
    page.get_by_label("Wachtwoord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Werkvoorraad")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(12)
    overdue = page.locator("tbody tr.overdue")
    expect(overdue).to_have_count(2)
    screenshot(page, "demo-werkvoorraad")
    check_axe(page, "demo werkvoorraad")

    overdue.first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Klokken")).to_be_visible()
    expect(page.get_by_text("te laat").first).to_be_visible()
    journal = page.locator("section[aria-labelledby=h-journal]")
    expect(journal).to_contain_text("Escalatie")
    expect(journal).not_to_contain_text("tijdens storing")
    screenshot(page, "demo-overdue-case")
    check_axe(page, "demo case page")
    context.close()
