"""The dashboard in a real browser: charts drawn, tables beside them, axe with zero violations."""

from __future__ import annotations

import pytest

from mas.dates import utcnow
from tests.browser.conftest import check_axe, screenshot

pytestmark = pytest.mark.browser

SCHOOLS = """brin;school;gemeente;onderwijssoort;deelnemers;vsv
12AB;Het Baken College;Utrecht;vo;1250;18
12AB;Het Baken College;Utrecht;mbo2;300;9
34CD;De Brug;Utrecht;vso;80;2
"""


def test_dashboard(open_page, live_server):
    from mas.figures_config import figures_config
    from mas.services.figures import import_school_figures

    for name in ("Daan", "Lotte", "Sven", "Fenna", "Ilias", "Noor"):
        live_server.open_case(given_name=name, family_name="Dashboard")
    coordinator = live_server["coordinator"].actor
    year = figures_config(live_server.ctx.settings).school_year_of(utcnow().date())
    with live_server.db.begin() as conn:
        import_school_figures(conn, coordinator, live_server.team_id, year, SCHOOLS, now=utcnow())
    page = open_page("coordinator")
    page.goto("/dashboard")
    page.get_by_role("heading", name="Cijfers van uw team").wait_for()
    charts = page.locator("img.chart")
    assert charts.count() >= 4
    # Every chart is drawn (the SVG loaded and has a size) and says in words what it shows.
    for i in range(charts.count()):
        chart = charts.nth(i)
        assert chart.evaluate("img => img.complete && img.naturalWidth > 0"), i
        assert len(chart.get_attribute("alt")) > 20
    screenshot(page, "30-dashboard")
    page.locator("#h-thuiszitters_duur").scroll_into_view_if_needed()
    screenshot(page, "31-dashboard-thuiszitters")
    page.locator("#h-vsv_per_school").scroll_into_view_if_needed()
    screenshot(page, "32-dashboard-scholen")
    check_axe(page, "dashboard")
