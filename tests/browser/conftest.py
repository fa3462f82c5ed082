"""A real browser against the real app: one live server and one chromium per test session.

The server is `create_app` with real TOTP on a migrated SQLite file, served by werkzeug in a
thread; the people (a team with a coordinator and two casusregisseurs, two organisations with
a partner each, an admin, and two accounts that only the login tests use) are made through
the services. Each test gets fresh browser
contexts; each user logs in through the login form once per session (a TOTP code may be
used only once, so a second login in the same 30 seconds would rightly be refused) and later
contexts reuse that session's cookie.

Chromium is Debian's (/usr/bin/chromium): `playwright install` needs the internet. Without
it the browser tests skip locally and FAIL on CI (CI=true), never skip there.
Screenshots go to test-artifacts/screenshots/ under the repository root (gitignored).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest

from mas.dates import utcnow
from mas.db import Database, upgrade
from mas.services import admin as admin_service
from mas.services import auth as auth_service
from mas.services.actors import Actor
from mas.settings import load_settings

CHROMIUM = os.environ.get("MAS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
PASSWORD = "browser-test-wachtwoord"
VIEWPORT = {"width": 1280, "height": 900}


@dataclass
class Person:
    key: str
    email: str
    name: str
    role: str
    secret: str
    actor: Actor

    def code(self) -> str:
        return pyotp.TOTP(self.secret).now()

    def wrong_code(self) -> str:
        """A six-digit code that is none of the codes the server accepts right now (±30 s)."""
        totp, now = pyotp.TOTP(self.secret), utcnow()
        valid = {totp.at(now + timedelta(seconds=30 * d)) for d in (-2, -1, 0, 1, 2)}
        return next(c for c in (f"{n:06d}" for n in range(123456, 999999, 111111)) if c not in valid)


@dataclass
class World:
    base_url: str
    db: Database
    ctx: object
    team_id: int
    org_a: int
    org_b: int
    school: int
    people: dict[str, Person] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Person:
        return self.people[key]

    def url(self, path: str) -> str:
        return self.base_url + path

    def open_case(self, regisseur: str = "regisseur", **youth_overrides) -> str:
        """A case opened through the service (for tests about what comes after); returns its reference."""
        from mas.services import cases
        from tests.factories import signal, youth

        actor = self[regisseur].actor
        fields = {"school_id": self.school, "education_kind": "vo", "education_level": "havo", **youth_overrides}
        report = signal(period_first_on=today() - timedelta(days=17), hours_missed=40.0,
                        description="Sinds de herfstvakantie niet meer op school.")
        with self.db.begin() as conn:
            result = cases.receive_signal(conn, self.ctx, actor, youth(**fields), report, team_id=self.team_id,
                                          now=utcnow(), casusregisseur_id=actor.id)
        return result.reference

    def assign_step(self, reference: str, organisation_id: int, title: str, days: int = 10) -> int:
        from mas.dates import end_of_day
        from mas.services import cases, steps

        with self.db.begin() as conn:
            case_id = cases.case_id_for(conn, reference)
            return steps.assign_step(conn, self.ctx, self["regisseur"].actor, case_id, organisation_id=organisation_id,
                                     title=title, description=None, due_at=end_of_day(today() + timedelta(days=days)),
                                     now=utcnow())


def today():
    """Today in Amsterdam: the day the app's forms think in."""
    from mas.dates import local_date

    return local_date(utcnow())


def _seed(db: Database, now) -> dict:
    with db.begin() as conn:
        admin_id, admin_secret = auth_service.create_user(conn, email="beheer@browser.example", name="Bea Beheer",
                                                          role="admin", password=PASSWORD, now=now)
        admin = Actor(id=admin_id, role="admin")
        team_id = admin_service.create_team(conn, admin, name="Leerplicht Utrecht", default_region="midden",
                                            municipalities=["Utrecht"], now=now,
                                            bestuurlijk_contact_name="Wethouder Onderwijs",
                                            bestuurlijk_contact_email="wethouder@browser.example")
        org_a = admin_service.create_organisation(conn, admin, name="Buurtteam Overvecht", kind="wijkteam", now=now,
                                                  contact_email="buurtteam@browser.example",
                                                  escalation_email="manager.buurtteam@browser.example")
        org_b = admin_service.create_organisation(conn, admin, name="GGD regio Utrecht", kind="ggd", now=now,
                                                  contact_email="ggd@browser.example",
                                                  escalation_email="manager.ggd@browser.example")
        school = admin_service.create_organisation(conn, admin, name="Het Baken College", kind="school", now=now,
                                                   brin="12AB", municipality="Utrecht")
        people = {"admin": ("beheer@browser.example", "Bea Beheer", "admin", admin_id, admin_secret, {})}
        specs = [
            ("coordinator", "coordinator@browser.example", "Karin Coördinator", "coordinator", {"team_id": team_id}),
            ("regisseur", "regisseur@browser.example", "Ruben Regisseur", "casusregisseur", {"team_id": team_id}),
            ("regisseur2", "regisseur2@browser.example", "Fatima Regisseur", "casusregisseur", {"team_id": team_id}),
            ("partner_a", "medewerker@buurtteam.example", "Wim Buurtteam", "partner", {"organisation_id": org_a}),
            ("partner_b", "jeugdarts@ggd.example", "Gea GGD", "partner", {"organisation_id": org_b}),
            # Only for the login and logout test: its session ends there.
            ("loginuser", "inlogtest@browser.example", "Ilse Inlogtest", "casusregisseur", {"team_id": team_id}),
            # Only for the replayed-code test: its code is spent there.
            ("replayuser", "hergebruik@browser.example", "Hugo Hergebruik", "casusregisseur", {"team_id": team_id}),
        ]
        for key, email, name, role, where in specs:
            uid, secret = auth_service.create_user(conn, email=email, name=name, role=role, password=PASSWORD, now=now,
                                                   **where)
            people[key] = (email, name, role, uid, secret, where)
        from mas.models import Team

        t = Team.__table__
        conn.execute(t.update().where(t.c.id == team_id).values(coordinator_id=people["coordinator"][3]))
    persons = {key: Person(key, email, name, role, secret, Actor(id=uid, role=role, **where))
               for key, (email, name, role, uid, secret, where) in people.items()}
    return {"team_id": team_id, "org_a": org_a, "org_b": org_b, "school": school, "people": persons}


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The real app on a free port, in a thread, for the whole session."""
    from werkzeug.serving import make_server

    from mas.context import make_context
    from mas.web import create_app

    base = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{(base / 'mas.sqlite3').as_posix()}"
    settings = load_settings(environ={}, env="test", instance_dir=base / "instance", database_url=url)
    db = Database(url)
    upgrade(db)
    # The seeded accounts get cheap argon2 parameters (the hash carries them, so their logins
    # are cheap too): the default costs half a second per hash, which adds up over a session.
    # Accounts made through the app itself keep the real parameters.
    from argon2 import PasswordHasher

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        seeded = _seed(db, utcnow())
    app = create_app(settings, require_totp=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="mas-live-server", daemon=True)
    thread.start()
    world = World(base_url=f"http://127.0.0.1:{server.server_port}", db=db, ctx=make_context(settings), **seeded)
    yield world
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    app.extensions["mas"]["db"].dispose()
    db.dispose()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = (f"Chromium not found at {CHROMIUM}: install Debian's package (apt-get install -y chromium) "
                   "or set MAS_CHROMIUM. `playwright install` is not used here.")
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=10_000)  # the default 5 s is short on a busy CI machine
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def sessions(browser, live_server):
    """Logged-in cookies per person, made by logging in through the form once per session."""
    cache: dict[str, dict] = {}

    def state_for(person: Person) -> dict:
        if person.key not in cache:
            context = browser.new_context(base_url=live_server.base_url, locale="nl-NL", viewport=VIEWPORT)
            page = context.new_page()
            with page.expect_response(lambda r: r.request.method == "POST") as response:
                login(page, person)
            if response.value.status != 302:
                raise AssertionError(f"{person.email} could not log in (HTTP {response.value.status}); "
                                     "was a TOTP code reused within 30 seconds?")
            cache[person.key] = context.storage_state()
            context.close()
        return cache[person.key]

    return state_for


@pytest.fixture
def open_page(browser, live_server, sessions):
    """`open_page(person_key or None)` → a page in a fresh context (logged in as that person)."""
    contexts = []

    def make(key: str | None = None):
        state = sessions(live_server[key]) if key else None
        context = browser.new_context(base_url=live_server.base_url, locale="nl-NL", timezone_id="Europe/Amsterdam",
                                      viewport=VIEWPORT, storage_state=state)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def login(page, person: Person, code: str | None = None) -> None:
    page.goto("/login")
    page.get_by_label("E-mailadres").fill(person.email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_label("Code uit uw authenticator-app").fill(code or person.code())
    page.get_by_role("button", name="Inloggen").click()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def check_axe(page, what: str) -> None:
    """axe-core with its default rules; every violation fails, with axe's own report."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    if results.violations_count:
        report = results.generate_report()
        print(report)
        pytest.fail(f"{what}: {results.violations_count} accessibility violation(s)\n{report}", pytrace=False)


@pytest.fixture(scope="session")
def date_keys(browser):
    """How to type a date into <input type=date> by keyboard in this chromium.

    The order of the day, month and year segments follows the browser's locale (Debian's
    chromium ships en-US only: mm/dd/yyyy; a Dutch one shows dd-mm-jjjj), so probe it once.
    """
    context = browser.new_context()
    page = context.new_page()
    page.set_content('<input id="d" type="date" aria-label="probe">')
    page.focus("#d")
    page.keyboard.type("01022003")
    probe = page.input_value("#d")
    context.close()
    orders = {"2003-02-01": ("d", "m", "y"), "2003-01-02": ("m", "d", "y")}
    if probe not in orders:
        raise AssertionError(f"unknown date input order in this chromium: typing 01022003 gave {probe!r}")
    order = orders[probe]

    def keys(day) -> str:
        parts = {"d": f"{day.day:02d}", "m": f"{day.month:02d}", "y": f"{day.year:04d}"}
        return "".join(parts[p] for p in order)

    return keys


def focused(page) -> str:
    """A readable name for the element that has the keyboard focus."""
    return page.evaluate("""() => { const e = document.activeElement;
        return e ? (e.id || e.getAttribute('name') || e.textContent.trim().slice(0, 40) || e.tagName) : ''; }""")


def tab_to(page, matches, limit: int = 60) -> list[str]:
    """Press Tab until the focused element matches (an id, or a predicate on `focused`)."""
    seen = []
    test = matches if callable(matches) else (lambda name: name == matches)
    for _ in range(limit):
        page.keyboard.press("Tab")
        seen.append(focused(page))
        if test(seen[-1]):
            return seen
    raise AssertionError(f"Tab never reached {matches!r}; focus went through {seen}")
