"""The public overview: counts per state, no personal data, security headers."""

from tests.factories import open_case


def test_overview_counts_cases_without_personal_data(app, db, ctx, world, now):
    open_case(db, ctx, world, now, given_name="Zeldzamevoornaam", bsn="111222333")
    client = app.test_client()
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<td>Signaal</td><td>1</td>" in html
    assert "Zeldzamevoornaam" not in html and "111222333" not in html and "MAS-2026" not in html
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert client.get("/healthz").get_json() == {"status": "ok"}
