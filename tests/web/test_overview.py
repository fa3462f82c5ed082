"""Public endpoints: the health check only; everything else needs a login."""


def test_health_is_public_and_home_needs_login(app):
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    page = client.get("/")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
