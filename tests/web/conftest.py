"""Web fixtures: an app on the test database with a movable clock, and logged-in clients."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import update

from mas.models import User
from mas.services import auth
from mas.web import create_app

PASSWORD = "correct horse battery"
SECRET = pyotp.random_base32()


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock(now):
    return Clock(now)


@pytest.fixture
def web_app(settings, world, clock, db):
    """The app with CSRF off (CSRF has its own module) and real TOTP logins."""
    with db.begin() as conn:
        conn.execute(update(User.__table__).values(password_hash=auth._hasher.hash(PASSWORD), totp_secret=SECRET))
    app = create_app(settings, clock=clock)
    app.config["WTF_CSRF_ENABLED"] = False
    yield app
    app.extensions["mas"]["db"].dispose()


def email_of(actor_name: str) -> str:
    return {
        "regisseur_a": "regisseur.a@example.org", "regisseur_a2": "regisseur.a2@example.org",
        "regisseur_b": "regisseur.b@example.org", "coordinator_a": "coordinator.a@example.org",
        "coordinator_b": "coordinator.b@example.org", "partner_wijkteam": "medewerker@wijkteam.example.org",
        "partner_ggd": "jeugdarts@ggd.example.org", "admin": "beheer@example.org",
    }[actor_name]


def log_in(app, clock, actor_name: str):
    """A client logged in as one of the world's users (password + a fresh TOTP code)."""
    client = app.test_client()
    code = pyotp.TOTP(SECRET).at(clock.now)
    response = client.post("/login", data={"email": email_of(actor_name), "password": PASSWORD, "code": code})
    assert response.status_code == 302, response.get_data(as_text=True)
    # A code is good once: move the clock a step so the next login gets a fresh one.
    from datetime import timedelta
    clock.now += timedelta(seconds=30)
    return client


@pytest.fixture
def login(web_app, clock):
    return lambda actor_name: log_in(web_app, clock, actor_name)
