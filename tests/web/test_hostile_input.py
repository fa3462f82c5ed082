"""No input answers 500. The test finds the app's forms itself: it walks every page each kind
of user can reach (links from page to page, starting at the home page), parses every <form> on
them, and posts a corpus of hostile values into every field of every form, into every query
parameter (the GET forms' fields and every `args.get("…")` the web code reads) and into every
number in a route. It asserts that nothing answers 5xx and that a refusal changes nothing in
the database. Nothing here is a hand-made list of fields.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlencode, urljoin, urlsplit

import pytest
from argon2 import PasswordHasher
from sqlalchemy import event, select, update

from mas.dates import end_of_day
from mas.models import TABLES, User
from mas.services import steps
from tests.factories import fire, open_case
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.slow

HOSTILE = [
    "²",  # a superscript digit: str.isdigit() says yes, int() says no
    "١٢",  # Arabic-Indic digits: int() reads them as 12
    "99999999999999999999",  # 20 digits: beyond every integer column
    "-1",
    "a\x00b",  # NUL: PostgreSQL refuses it in text
    "0001-01-01",
    "9999-12-31",
    "nan",
    "inf",
    "1e309",
    "x" * 70_000,  # longer than any column or form allows
]
# Tables a refusal may still write to: the access log (a refusal is logged), sessions, logins.
NOT_COMPARED = {"access_log", "user_session", "login_throttle", "user", "alembic_version"}
WEB_DIR = Path(__file__).resolve().parents[2] / "mas" / "web"


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> the value the page put there
    page: str = ""


class _Page(HTMLParser):
    def __init__(self, url: str):
        super().__init__(convert_charrefs=True)
        self.url = url
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(urljoin(self.url, a["href"]))
        elif tag == "form":
            self._form = Form(action=urljoin(self.url, a.get("action") or self.url),
                              method=(a.get("method") or "get").lower(), page=self.url)
            self.forms.append(self._form)
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                self._form.fields.setdefault(a["name"], "")
            elif kind == "file":  # a field like any other: a text value in it is no file, and is refused
                self._form.fields[a["name"]] = ""
            elif kind not in ("submit", "button", "image", "reset"):
                self._form.fields[a["name"]] = a.get("value") or ""
        elif tag == "button" and a.get("value") is not None:
            self._form.fields.setdefault(a["name"], a["value"])
        elif tag == "select":
            self._select, self._first_option = a["name"], None
            self._form.fields[a["name"]] = ""
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first_option is None and value:
                self._first_option = value
                self._form.fields[self._select] = value
            if "selected" in a:
                self._form.fields[self._select] = value
        elif tag == "textarea":
            self._textarea, self._text = a["name"], ""

    def handle_data(self, data):
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea and self._form is not None:
            self._form.fields[self._textarea] = self._text
            self._textarea = None


def _rule_of(app, path: str, method: str = "GET") -> str | None:
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(path, method=method)
    except Exception:  # noqa: BLE001 - 404/405/redirect: not one of ours
        return None
    return endpoint


def crawl(app, client) -> tuple[dict[str, str], list[Form]]:
    """Every page one user reaches by links from the home page (one per endpoint), and their forms."""
    pages: dict[str, str] = {}
    forms: list[Form] = []
    todo, seen = ["/"], set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        endpoint = _rule_of(app, path)
        if endpoint is None or endpoint in pages or endpoint.startswith(("static", "api.")):
            continue
        response = client.get(path)
        if response.status_code in (301, 302, 303) and urlsplit(response.location).path not in seen:
            todo.append(urlsplit(response.location).path)
            continue
        if response.status_code != 200 or not response.content_type.startswith("text/html"):
            continue
        pages[endpoint] = path
        parser = _Page("http://localhost" + path)
        parser.feed(response.get_data(as_text=True))
        for form in parser.forms:
            form.action = urlsplit(form.action).path
            forms.append(form)
        for link in parser.links:
            parts = urlsplit(link)
            if parts.netloc in ("", "localhost") and parts.path not in seen:
                todo.append(parts.path)
    return pages, forms


def snapshot(db) -> str:
    digest = hashlib.sha256()
    with db.read() as conn:
        for table in TABLES.sorted_tables:
            if table.name in NOT_COMPARED:
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            for row in conn.execute(select(table).order_by(*order)):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


_WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)


class Checker:
    """Counts 5xx answers, and compares the database before and after every refusal.

    The app's engine is the only writer here, so a request whose transactions committed no
    write to a compared table cannot have changed it: the full snapshot (every compared row)
    is taken only after a request that did commit one. A write this cannot name (the regex
    fails) counts as a write to a compared table."""

    def __init__(self, db, app):
        self.db = db
        self.state = snapshot(db)
        self.failures: list[str] = []
        self.requests = 0
        self.snapshots = 0  # requests that committed a write, compared in full
        self._written = False  # the open transaction wrote to a compared table
        self._committed = False  # since the last check, a transaction that did so committed
        self.engine = app.extensions["mas"]["db"].engine
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        event.listen(self.engine, "rollback", self._rollback)

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)
        event.remove(self.engine, "rollback", self._rollback)

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            match = _WRITE.match(statement)
            if match is None or match.group(1).lower() not in NOT_COMPARED:
                self._written = True

    def _commit(self, conn):
        self._committed = self._committed or self._written
        self._written = False

    def _rollback(self, conn):
        self._written = False

    def check(self, response, what: str, compare: bool = True) -> None:
        self.requests += 1
        if response.status_code >= 500:
            self.failures.append(f"{response.status_code} {what}")
        changed, self._committed = self._committed, False
        if not changed:
            return
        self.snapshots += 1
        after = snapshot(self.db)
        # An uncompared request may write too (the dashboard makes its facts per case on read):
        # its writes become the baseline, never blamed on the next request.
        if compare and response.status_code >= 400 and after != self.state:
            self.failures.append(f"{response.status_code} but the database changed: {what}")
        self.state = after


def _short(value: str) -> str:
    return repr(value if len(value) < 30 else value[:10] + f"…({len(value)})")


def query_names(forms: list[Form]) -> set[str]:
    """Every query parameter: the fields of GET forms and every args.get("…") the web code reads."""
    names = {name for form in forms if form.method == "get" for name in form.fields}
    for path in WEB_DIR.rglob("*.py"):
        names.update(re.findall(r"args\.get\(\s*\"([a-z_]+)\"", path.read_text()))
    return names


# The walk posts each hostile value into the password forms, and each post verifies the current
# password: with the production cost that was a third of the test's time. argon2 reads its
# cost from the stored hash, so a cheaper hash makes the same check (the one the app runs) cheap.
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def busy_world(web_app, db, ctx, world, now):
    """Cases in several states with steps, so the case pages show most of their forms."""
    with db.begin() as conn:
        conn.execute(update(User.__table__).values(password_hash=CHEAP.hash(PASSWORD)))
    first = open_case(db, ctx, world, now, given_name="Fuzz")
    fire(db, ctx, world, first.case_id, "plan_gesprek", now)
    second = open_case(db, ctx, world, now, given_name="Zorg")
    fire(db, ctx, world, second.case_id, "plan_gesprek", now)
    fire(db, ctx, world, second.case_id, "naar_zorgtafel", now)
    with db.begin() as conn:
        for case_id in (first.case_id, second.case_id):
            steps.assign_step(conn, ctx, world.regisseur_a, case_id, organisation_id=world.wijkteam,
                              title="Huisbezoek", due_at=end_of_day(date(2026, 3, 20)), now=now)
    return first, second


def _hostile_posts(app, client, checker, forms, who):
    done = set()
    for form in forms:
        if form.method != "post" or form.action in ("/logout",):
            continue
        endpoint = _rule_of(app, form.action, "POST")
        key = endpoint
        if endpoint is None or key in done:
            continue
        done.add(key)
        for name in form.fields:
            for value in HOSTILE:
                data = {**form.fields, name: value}
                response = client.post(form.action, data=data)
                checker.check(response, f"{who} POST {form.action} {name}={_short(value)}")


def _hostile_queries(app, client, checker, pages, names, who):
    """Every query parameter at once with each hostile value, on every page (each page reads
    the ones it knows; none may fail on any)."""
    for path in pages.values():
        for value in HOSTILE:
            response = client.get(f"{path}?{urlencode({name: value for name in sorted(names)})}")
            checker.check(response, f"{who} GET {path}?…={_short(value)}", compare=False)


def _hostile_route_numbers(app, client, checker, forms, pages, who):
    """Every number in a route (ids) replaced by each hostile value, GET and POST."""
    done = set()
    targets = [("get", p) for p in pages.values()] + [("post", f.action) for f in forms if f.method == "post"]
    for method, path in targets:
        if not re.search(r"/\d+(/|$)", path):
            continue
        endpoint = _rule_of(app, path, method.upper())
        if endpoint in done:
            continue
        done.add(endpoint)
        for value in HOSTILE:
            if len(value) > 100:
                continue
            bad = re.sub(r"/\d+(/|$)", lambda m, v=value: "/" + quote(v, safe="") + m.group(1), path, count=1)
            response = getattr(client, method)(bad)
            checker.check(response, f"{who} {method.upper()} {bad}", compare=method == "post")


def walk(app, login, checker, covered) -> None:
    for who in ("regisseur_a", "coordinator_a", "partner_wijkteam", "admin"):
        client = login(who)
        pages, forms = crawl(app, client)
        assert pages, who
        covered.update(pages)
        covered.update(_rule_of(app, f.action, "POST") for f in forms if f.method == "post")
        _hostile_queries(app, client, checker, pages, query_names(forms), who)
        _hostile_route_numbers(app, client, checker, forms, pages, who)
        _hostile_posts(app, client, checker, forms, who)


def test_no_hostile_value_answers_500_or_changes_anything_it_refuses(web_app, login, db, busy_world):
    checker = Checker(db, web_app)
    covered = set()
    try:
        walk(web_app, login, checker, covered)
    finally:
        checker.close()
    # The walk really reached the app's forms (else this test would prove nothing).
    for endpoint in ("cases.new", "cases.transition", "cases.assign_step", "cases.correct_youth", "cases.extend",
                     "partners.done", "beheer.create_user", "beheer.create_organisation", "auth.account"):
        assert endpoint in covered, endpoint
    # Some hostile values are fine input (a title "-1"): their writes were seen and compared,
    # so the write tracking that spares the other requests a snapshot does see writes.
    assert checker.snapshots > 0
    assert not checker.failures, "\n".join(checker.failures[:40]) + f"\n({len(checker.failures)} in all)"


PROBES = ["", "x", "-1", "0001-01-01", "x" * 30_000]


def test_every_error_a_service_raises_is_a_field_of_its_form(web_app, login, db, busy_world):
    """Per form (found by walking the pages): blank every field, then put a wrong value in each
    one; every error key the page is rendered with must be a field of that form, or 'form' (the
    message above it). A key the form does not have would show nothing beside any field."""
    from flask import template_rendered

    seen: list[dict] = []

    def record(sender, template, context, **extra):
        if context.get("errors"):
            seen.append(dict(context["errors"]))

    template_rendered.connect(record, web_app)
    wrong: dict[str, set] = {}
    try:
        for who in ("regisseur_a", "coordinator_a", "partner_wijkteam", "admin"):
            client = login(who)
            _, forms = crawl(web_app, client)
            done = set()
            for form in forms:
                endpoint = _rule_of(web_app, form.action, "POST")
                if form.method != "post" or endpoint in done or endpoint in (None, "auth.logout"):
                    continue
                done.add(endpoint)
                attempts = [{name: "" for name in form.fields}]
                attempts += [{**form.fields, name: probe} for name in form.fields for probe in PROBES]
                for data in attempts:
                    seen.clear()
                    response = client.post(form.action, data=data)
                    assert response.status_code < 500, (form.action, data)
                    for errors in seen:
                        extra = set(errors) - set(form.fields) - {"form"}
                        if extra:
                            wrong.setdefault(endpoint, set()).update(extra)
    finally:
        template_rendered.disconnect(record, web_app)
    assert not wrong, f"error keys that are no field of their form: {wrong}"
