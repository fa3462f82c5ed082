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


class Api:
    """A client of the JSON API that sends one token with every request."""

    def __init__(self, app, token: str | None):
        self.client = app.test_client()
        self.token = token

    def _headers(self, headers: dict | None) -> dict:
        sent = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        sent.update(headers or {})
        return sent

    def get(self, path: str, **kwargs):
        return self.client.get("/api/v1" + path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.client.post("/api/v1" + path, json=json, headers=self._headers(kwargs.pop("headers", None)),
                                **kwargs)


def make_token(db, now, user_id: int, scopes=("read", "write"), days: int = 90) -> str:
    from mas.services import tokens

    with db.begin() as conn:
        return tokens.create_token(conn, None, user_id=user_id, name="test", scopes=scopes, now=now, days=days).token


@pytest.fixture
def school_system(db, world, now):
    """The school's administration package: a service account of the school organisation."""
    from mas.services import tokens

    with db.begin() as conn:
        return tokens.create_service_account(conn, None, organisation_id=world.school, name="Leerlingadministratie",
                                             now=now)


@pytest.fixture
def api(web_app, world, db, now, school_system):
    """`api("regisseur_a")`: an API client with a fresh token of one of the world's accounts
    ("school_system" is the school's service account)."""
    def client(name: str, scopes=("read", "write")) -> Api:
        user_id = school_system if name == "school_system" else getattr(world, name).id
        return Api(web_app, make_token(db, now, user_id, scopes))
    return client
