"""The human-readable API page: Swagger UI from a Python package, offline, under the app's CSP."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import check_axe, screenshot

pytestmark = pytest.mark.browser


def test_the_api_page_renders_every_operation_offline_within_the_csp(open_page, live_server):
    page = open_page()
    local = urlsplit(live_server.base_url).netloc
    elsewhere, problems = [], []

    def only_this_server(route):
        if urlsplit(route.request.url).netloc == local or route.request.url.startswith("data:"):
            route.continue_()
        else:  # no CDN, no validator badge, no fonts from elsewhere: as if offline
            elsewhere.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_this_server)
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    response = page.goto("/api/v1/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".opblock")).to_have_count(9)
    expect(page.get_by_text("/signals", exact=True)).to_be_visible()
    page.locator(".opblock-summary", has_text="/signals").first.click()
    expect(page.get_by_text("Idempotency-Key").first).to_be_visible()
    screenshot(page, "20-api-docs")
    assert elsewhere == [] and problems == [], (elsewhere, problems)


def test_the_admin_token_page(open_page, live_server):
    page = open_page("admin")
    page.goto("/admin/tokens")
    page.get_by_label("Organisatie").select_option(label="Het Baken College")
    page.get_by_label("Naam van de koppeling").fill("Leerlingadministratie")
    page.get_by_role("button", name="Token maken").click()
    expect(page.get_by_role("status")).to_contain_text("niet nog eens getoond")
    screenshot(page, "21-api-tokens")
    check_axe(page, "API-tokens")
