"""Logins, sessions and their end: TOTP, throttle, idle/absolute timeout, logout, password change."""

from datetime import timedelta

import pyotp
from sqlalchemy import select

from mas.models import User, UserSession
from mas.services import auth
from tests.web.conftest import PASSWORD, SECRET, email_of


def _post_login(app, clock, email, password=PASSWORD, code=None, next_url=None):
    data = {"email": email, "password": password, "code": code or pyotp.TOTP(SECRET).at(clock.now)}
    if next_url:
        data["next"] = next_url
    return app.test_client().post("/login", data=data)


def test_login_needs_password_and_a_fresh_code(web_app, clock):
    email = email_of("regisseur_a")
    assert _post_login(web_app, clock, email, password="wrong").status_code == 401
    assert _post_login(web_app, clock, email, code="000000").status_code == 401
    good = _post_login(web_app, clock, email)
    assert good.status_code == 302 and good.headers["Location"] == "/cases"
    # The same code a second time is refused (replay).
    assert _post_login(web_app, clock, email).status_code == 401


def test_throttle_locks_the_account_in_the_database(web_app, clock, db):
    email = email_of("regisseur_a")
    for _ in range(auth.MAX_FAILED_LOGINS):
        assert _post_login(web_app, clock, email, password="wrong").status_code == 401
    clock.now += timedelta(seconds=30)
    assert _post_login(web_app, clock, email).status_code == 401  # locked, even with the right password
    with db.read() as conn:
        locked = conn.execute(select(User.__table__.c.locked_until).where(User.__table__.c.email == email)).scalar_one()
    assert locked > clock.now
    clock.now += auth.LOCKOUT
    assert _post_login(web_app, clock, email).status_code == 302


def test_next_only_to_local_paths(web_app, clock):
    email = email_of("regisseur_a")
    assert _post_login(web_app, clock, email, next_url="https://evil.example/").headers["Location"] == "/cases"
    clock.now += timedelta(seconds=30)
    assert _post_login(web_app, clock, email, next_url="//evil.example/x").headers["Location"] == "/cases"
    clock.now += timedelta(seconds=30)
    assert _post_login(web_app, clock, email, next_url="/workflow").headers["Location"] == "/workflow"


def test_idle_and_absolute_timeouts(web_app, clock, login):
    client = login("regisseur_a")
    assert client.get("/cases").status_code == 200
    clock.now += auth.IDLE_TIMEOUT + timedelta(seconds=1)
    assert client.get("/cases").status_code == 302  # idle too long
    client = login("regisseur_a")
    started = clock.now
    while client.get("/cases").status_code == 200:  # active every 29 minutes ...
        clock.now += timedelta(minutes=29)
        assert clock.now - started < timedelta(hours=13)
    # ... but never beyond 12 hours.
    assert auth.ABSOLUTE_TIMEOUT < clock.now - started <= auth.ABSOLUTE_TIMEOUT + timedelta(minutes=29)


def test_logout_by_post_ends_the_server_session(web_app, clock, login, db):
    client = login("regisseur_a")
    assert client.get("/logout").status_code in (404, 405)  # never by GET
    assert client.get("/cases").status_code == 200
    cookie = client.get_cookie("mas_session")
    assert client.post("/logout").status_code == 302
    # Replaying the old cookie does not bring the session back.
    replay = web_app.test_client()
    replay.set_cookie("mas_session", cookie.value)
    assert replay.get("/cases").status_code == 302
    with db.read() as conn:
        assert conn.execute(select(UserSession.__table__.c.ended_reason)).scalars().all() == ["uitgelogd"]


def test_password_change_and_disabling_end_every_session(web_app, clock, login):
    first, second = login("regisseur_a"), login("regisseur_a")
    response = first.post("/account", data={"current": PASSWORD, "new": "een heel nieuw wachtwoord"})
    assert response.status_code == 302
    assert second.get("/cases").status_code == 302
    admin, other = login("admin"), login("regisseur_b")
    with web_app.extensions["mas"]["db"].read() as conn:
        user_id = conn.execute(select(User.__table__.c.id).where(User.__table__.c.email == email_of("regisseur_b"))).scalar_one()
    assert admin.post(f"/admin/users/{user_id}/active", data={"active": "0"}).status_code == 302
    assert other.get("/cases").status_code == 302


def test_session_cookie_is_httponly_and_samesite(web_app, clock):
    response = _post_login(web_app, clock, email_of("regisseur_a"))
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
