"""With CSRF on (as in production): every state-changing request without a token is refused
and changes nothing."""

import re

import pyotp
import pytest
from sqlalchemy import func, select, update

from mas.models import TABLES, User
from mas.services import auth
from mas.web import create_app
from tests.factories import open_case
from tests.web.conftest import PASSWORD, SECRET, email_of
from tests.web.test_access import ROLE_USERS, _fill


@pytest.fixture
def csrf_app(settings, world, clock, db):
    with db.begin() as conn:
        conn.execute(update(User.__table__).values(password_hash=auth._hasher.hash(PASSWORD), totp_secret=SECRET))
    app = create_app(settings, clock=clock)
    assert app.config.get("WTF_CSRF_ENABLED", True)
    yield app
    app.extensions["mas"]["db"].dispose()


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _login(app, clock, name):
    from datetime import timedelta
    client = app.test_client()
    token = _token(client.get("/login").get_data(as_text=True))
    data = {"email": email_of(name), "password": PASSWORD, "code": pyotp.TOTP(SECRET).at(clock.now)}
    assert client.post("/login", data=data).status_code == 400  # the login form needs its token too
    clock.now += timedelta(seconds=30)
    data["code"] = pyotp.TOTP(SECRET).at(clock.now)
    assert client.post("/login", data={**data, "csrf_token": token}).status_code == 302
    clock.now += timedelta(seconds=30)
    return client


def _counts(db):
    with db.read() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in TABLES.sorted_tables if t.name not in ("access_log", "user_session")}


def test_every_post_without_token_is_refused(csrf_app, clock, db, ctx, world, now):
    case = open_case(db, ctx, world, now)
    clients = {role: _login(csrf_app, clock, name) for role, name in ROLE_USERS.items()}
    values = {"reference": case.reference, "trigger": "plan_gesprek", "step_id": 1, "deadline_id": 1,
              "suspension_id": 1, "org_id": world.ggd, "team_id": world.team_a, "request_id": 1, "message_pk": 1, "user_id": world.partner_ggd.id,
              "token_id": 1, "signal_id": 1, "round_id": 1, "token": "geen-geldige-link"}
    before = _counts(db)
    posts = [r for r in csrf_app.url_map.iter_rules() if "POST" in r.methods]
    assert len(posts) >= 15
    for rule in posts:
        url = _fill(rule.rule, {k: values[k] for k in rule.arguments})
        for role, client in clients.items():
            response = client.post(url, data={"version": "1", "text": "x", "reason": "x", "active": "0"})
            # The JSON API is exempt from CSRF because it takes no cookie at all: a browser's
            # session is no token there (401), so a forged cross-site POST cannot act either.
            expected = (401,) if rule.rule.startswith("/api/") else (400, 404)
            assert response.status_code in expected, (role, url, response.status_code)
    assert _counts(db) == before
    # And with the token the same kind of request goes through.
    client = clients["casusregisseur"]
    token = _token(client.get(f"/cases/{case.reference}").get_data(as_text=True))
    response = client.post(f"/cases/{case.reference}/notes", data={"text": "Met token", "csrf_token": token})
    assert response.status_code == 302


def test_the_upload_page_s_own_limit_holds_with_csrf_on(csrf_app, clock, db, world):
    """CSRF reads the form before the view: the upload page's limit (10 MB) must already hold
    then, for a file of 3 MB (over the app's 2 MB) and for the refusal of 11 MB naming the page's
    limit; a partner is not told the page exists."""
    import io
    from pathlib import Path

    def post(client, data: bytes, token: str = ""):
        boundary = "grens"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m.csv\"\r\n\r\n").encode()
        body += data + f"\r\n--{boundary}--\r\n".encode()
        return client.post("/import/verzuim", input_stream=io.BytesIO(body), content_length=len(body),
                           content_type=f"multipart/form-data; boundary={boundary}")

    client = _login(csrf_app, clock, "regisseur_a")
    token = _token(client.get("/import/verzuim").get_data(as_text=True))
    sample = (Path(__file__).resolve().parents[2] / "examples" / "verzuimmeldingen.csv").read_bytes()
    page = post(client, sample + b"\r\n" * (3 * 1024 * 1024 // 2), token)
    assert page.status_code == 200 and 'id="count-new">20<' in page.get_data(as_text=True)
    big = post(client, b"x" * (11 * 1024 * 1024), token)
    text = big.get_data(as_text=True)
    assert big.status_code == 413 and "grens van 10 MB" in text and "mas import verzuim" in text
    partner = post(_login(csrf_app, clock, "partner_wijkteam"), b"x" * (11 * 1024 * 1024))
    assert partner.status_code == 413 and "mas import verzuim" not in partner.get_data(as_text=True)
