"""The JSON API: every endpoint, its answers and its problems, through the real app and services."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from mas.dates import end_of_day
from mas.models import AccessLog, ApiToken, Case, CaseEvent, IdempotencyKey, Organisation, Signal, SignalReceipt, User
from mas.services import steps
from tests.factories import open_case, valid_bsn
from tests.web.conftest import Api, make_token

PROBLEM = "application/problem+json"


def signal_body(world, **youth):
    fields = {"given_name": "Sem", "family_name": "Visser", "birth_on": "2012-05-14", "bsn": valid_bsn(),
              "municipality": "Utrecht", "school_id": world.school}
    fields.update(youth)
    return {"youth": fields, "signal": {"kind": "relatief", "source": "school", "period_first_on": "2026-02-02",
                                        "hours_missed": 20, "description": "Vaak afwezig."}}


def count(db, table, *where) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(table.__table__).where(*where)).scalar_one()


def fields_of(response) -> dict:
    body = response.get_json()
    return {e["field"]: e["detail"] for e in body.get("errors") or ()}


@pytest.fixture
def case_a(db, ctx, world, now):
    """An open case of team A (regisseur A), with a step for the wijkteam."""
    opened = open_case(db, ctx, world, now, given_name="Annabel")
    with db.begin() as conn:
        step_id = steps.assign_step(conn, ctx, world.regisseur_a, opened.case_id, organisation_id=world.wijkteam,
                                    title="Huisbezoek", due_at=end_of_day(date(2026, 3, 20)), now=now)
    return {"reference": opened.reference, "case_id": opened.case_id, "step_id": step_id}


# --- Tokens -------------------------------------------------------------------------------------

def test_a_first_call_says_whose_token_it_is(api, world):
    response = api("regisseur_a").get("/me")
    assert response.status_code == 200
    me = response.get_json()
    assert (me["email"], me["role"], me["team_id"], me["scopes"]) == (
        "regisseur.a@example.org", "casusregisseur", world.team_a, ["read", "write"])


def test_without_a_valid_token_every_operation_answers_401(web_app, db, world, now, clock):
    for token in (None, "mas_nietbestaand", "geen-token", "x" * 500):
        response = Api(web_app, token).get("/cases")
        assert response.status_code == 401 and response.mimetype == PROBLEM
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    expired = make_token(db, now, world.regisseur_a.id, days=1)
    assert Api(web_app, expired).get("/me").status_code == 200
    clock.now = now + timedelta(days=1, seconds=1)
    assert Api(web_app, expired).get("/me").status_code == 401


def test_a_revoked_token_or_a_switched_off_account_or_organisation_stops_at_once(api, db, world, now):
    from mas.services import tokens

    regisseur, partner = api("regisseur_a"), api("partner_ggd")
    assert regisseur.get("/me").status_code == 200 and partner.get("/me").status_code == 200
    with db.begin() as conn:
        token_id = conn.execute(select(ApiToken.__table__.c.id).where(
            ApiToken.__table__.c.token_hash == tokens.hash_token(regisseur.token))).scalar_one()
        tokens.revoke_token(conn, world.admin, token_id, now=now)
        conn.execute(update(Organisation.__table__).where(Organisation.__table__.c.id == world.ggd).values(is_active=False))
    assert regisseur.get("/me").status_code == 401
    assert partner.get("/me").status_code == 401
    coordinator = api("coordinator_a")
    with db.begin() as conn:
        conn.execute(update(User.__table__).where(User.__table__.c.id == world.coordinator_a.id).values(is_active=False))
    assert coordinator.get("/me").status_code == 401


def test_only_the_hash_is_stored_and_every_use_is_logged(api, db, world):
    client = api("regisseur_a")
    client.get("/me")
    client.get("/cases/MAS-2026-999999")
    with db.read() as conn:
        stored = conn.execute(select(ApiToken.__table__.c.token_hash, ApiToken.__table__.c.prefix)).all()
        logged = conn.execute(select(AccessLog.__table__.c.action, AccessLog.__table__.c.detail).where(
            AccessLog.__table__.c.user_id == world.regisseur_a.id).order_by(AccessLog.__table__.c.id)).all()
    assert all(client.token not in row.token_hash for row in stored)
    assert any(client.token.startswith(row.prefix) for row in stored)
    uses = [row.detail for row in logged if row.action == "api"]
    assert [(u["method"], u["path"], u["status"]) for u in uses] == [
        ("GET", "/api/v1/me", 200), ("GET", "/api/v1/cases/MAS-2026-999999", 404)]
    assert "denied" in [row.action for row in logged]


def test_scopes_limit_a_token_to_reading_or_writing(web_app, db, world, now):
    reader = Api(web_app, make_token(db, now, world.regisseur_a.id, scopes=("read",)))
    writer = Api(web_app, make_token(db, now, world.regisseur_a.id, scopes=("write",)))
    assert reader.get("/cases").status_code == 200
    refused = reader.post("/signals", json=signal_body(world))
    assert refused.status_code == 403 and "insufficient_scope" in refused.headers["WWW-Authenticate"]
    assert writer.get("/cases").status_code == 403
    assert writer.post("/signals", json=signal_body(world)).status_code == 202
    assert count(db, Case) == 1


def test_a_browser_session_never_acts_through_the_api(web_app, login):
    browser = login("regisseur_a")  # logged in, with the session cookie
    assert browser.get("/api/v1/cases").status_code == 401
    assert browser.post("/api/v1/signals", json={}).status_code == 401


# --- Signals ---------------------------------------------------------------------------------------

def test_a_teams_signal_gets_a_receipt_and_the_reference_and_joins_the_open_case(api, db, world):
    client = api("regisseur_a")
    body = signal_body(world)
    first = client.post("/signals", json=body)
    assert first.status_code == 202
    receipt = first.get_json()
    assert receipt["status"] == "ontvangen" and receipt["reference"].startswith("MAS-2026-")
    body["signal"]["kind"] = "signaal"
    again = client.post("/signals", json=body).get_json()
    assert again["reference"] == receipt["reference"] and again["receipt_id"] != receipt["receipt_id"]
    assert count(db, Case) == 1 and count(db, Signal) == 2 and count(db, SignalReceipt) == 2
    with db.read() as conn:
        case = conn.execute(select(Case.__table__)).one()
    assert case.casusregisseur_id == world.regisseur_a.id and case.team_id == world.team_a


def test_a_schools_system_gets_a_receipt_without_the_reference(api, db, world):
    response = api("school_system").post("/signals", json=signal_body(world))
    assert response.status_code == 202
    receipt = response.get_json()
    assert receipt["reference"] is None and receipt["status"] == "ontvangen"
    with db.read() as conn:
        case = conn.execute(select(Case.__table__)).one()
        sent = conn.execute(select(CaseEvent.__table__.c.actor_id).where(
            CaseEvent.__table__.c.kind == "signaal_ingezonden")).scalar_one()
    assert case.team_id == world.team_a and case.casusregisseur_id is None  # the team of the residence decides
    assert sent is not None and sent != world.regisseur_a.id  # the journal names the school's system
    assert api("school_system").get("/cases").status_code == 404  # a partner reads no cases


def test_a_signal_goes_to_the_team_of_the_residence_not_the_school_nor_the_sender(api, db, world):
    # The youth lives in Groningen (team B) and goes to school in Utrecht: team B gets it, in
    # regio midden (the school's municipality sets the holiday region); team A learns nothing.
    response = api("regisseur_a").post("/signals", json=signal_body(world, municipality="Groningen"))
    assert response.status_code == 202 and response.get_json()["reference"] is None
    with db.read() as conn:
        case = conn.execute(select(Case.__table__)).one()
    assert (case.team_id, case.region) == (world.team_b, "midden")
    assert api("regisseur_a").get(f"/cases/{case.reference}").status_code == 404
    assert api("regisseur_b").get(f"/cases/{case.reference}").status_code == 200


def test_a_signal_for_a_youth_whose_case_another_team_directs_says_only_received(api, db, ctx, world, now):
    existing = open_case(db, ctx, world, now, actor=world.regisseur_b, bsn="123456782", municipality="Groningen")
    response = api("regisseur_a").post("/signals", json=signal_body(world, bsn="123456782", municipality="Utrecht"))
    assert response.status_code == 202
    answer = response.get_data(as_text=True)
    assert response.get_json()["reference"] is None and existing.reference not in answer
    assert "Groningen" not in answer and "ander team" not in answer
    # Kept, not lost: it waits in team B's werkvoorraad for B's decision, and joined nothing yet.
    from mas.models import SIGNAL_PENDING, Signal
    with db.read() as conn:
        waiting = conn.execute(select(Signal.__table__).where(Signal.__table__.c.status == SIGNAL_PENDING)).all()
    assert [(s.case_id, s.team_id) for s in waiting] == [(existing.case_id, world.team_a)]


def test_a_signal_without_a_team_for_its_municipality_and_bad_fields_are_refused_per_field(api, db, world):
    school = api("school_system")
    response = school.post("/signals", json=signal_body(world, municipality="Maastricht"))
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert "youth.municipality" in fields_of(response)
    response = api("regisseur_a").post("/signals", json=signal_body(world, bsn="123456789"))
    assert response.status_code == 422 and "elfproef" in fields_of(response)["youth.bsn"]
    body = signal_body(world)
    body["signal"].update(kind="vakantie", hours_missed=-1)
    body["youth"]["surname"] = "x"
    wrong = fields_of(api("regisseur_a").post("/signals", json=body))
    assert {"signal.kind", "signal.hours_missed", "youth.surname"} <= set(wrong)
    assert count(db, Case) == 0


def test_a_retried_post_with_the_same_key_creates_nothing_new(api, db, world):
    client = api("regisseur_a")
    body = signal_body(world)
    first = client.post("/signals", json=body, headers={"Idempotency-Key": "melding-42"})
    retry = client.post("/signals", json=body, headers={"Idempotency-Key": "melding-42"})
    assert retry.status_code == first.status_code == 202 and retry.get_json() == first.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert count(db, Signal) == 1 and count(db, SignalReceipt) == 1 and count(db, IdempotencyKey) == 1
    other = dict(body, first_absent_on="2026-01-26")
    reused = client.post("/signals", json=other, headers={"Idempotency-Key": "melding-42"})
    assert reused.status_code == 422 and "Idempotency-Key" in fields_of(reused)
    # Keys belong to an account: another's same key is another request.
    assert api("coordinator_a").post("/signals", json=signal_body(world),
                                     headers={"Idempotency-Key": "melding-42"}).status_code == 202
    assert count(db, Signal) == 2


def test_a_refused_post_keeps_no_key_so_the_corrected_retry_runs(api, db, world):
    client = api("regisseur_a")
    body = signal_body(world, bsn="123456789")
    assert client.post("/signals", json=body, headers={"Idempotency-Key": "k1"}).status_code == 422
    assert count(db, IdempotencyKey) == 0


# --- Cases -------------------------------------------------------------------------------------------

def test_the_case_list_is_scoped_filtered_and_paged_with_a_cursor(api, db, ctx, world, now):
    mine = [open_case(db, ctx, world, now, given_name=f"Kind{i}").reference for i in range(3)]
    colleague = open_case(db, ctx, world, now, actor=world.regisseur_a2, given_name="Collega").reference
    other_team = open_case(db, ctx, world, now, actor=world.regisseur_b, given_name="Boudewijn").reference
    client = api("regisseur_a")
    seen, cursor = [], None
    for _ in range(5):
        page = client.get("/cases", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})}).get_json()
        seen += [item["reference"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == mine
    team = [i["reference"] for i in client.get("/cases?scope=team").get_json()["items"]]
    assert team == [*mine, colleague] and other_team not in team
    coordinator = [i["reference"] for i in api("coordinator_a").get("/cases").get_json()["items"]]
    assert coordinator == [*mine, colleague]
    assert [i["reference"] for i in api("regisseur_b").get("/cases?scope=team").get_json()["items"]] == [other_team]
    assert client.get("/cases?state=gesprek").get_json()["items"] == []
    assert client.get("/cases?status=closed").get_json()["items"] == []
    bad = client.get("/cases?cursor=bm9wZQ")
    assert bad.status_code == 422 and "cursor" in fields_of(bad)
    assert "limit" in fields_of(client.get("/cases?limit=0"))
    assert "state" in fields_of(client.get("/cases?state=nergens"))


def test_a_search_finds_only_the_teams_youth_and_is_logged(api, db, ctx, world, now):
    open_case(db, ctx, world, now, given_name="Boudewijn", actor=world.regisseur_b)
    mine = open_case(db, ctx, world, now, given_name="Annabel")
    found = api("regisseur_a").get("/cases?scope=team&q=boudewijn").get_json()["items"]
    assert found == []
    assert [i["reference"] for i in api("regisseur_a").get("/cases?q=annabel").get_json()["items"]] == [mine.reference]
    with db.read() as conn:
        searches = conn.execute(select(AccessLog.__table__.c.detail).where(AccessLog.__table__.c.action == "search")).all()
    assert [s.detail["q"] for s in searches] == ["boudewijn", "annabel"]


def test_a_case_tells_its_clocks_steps_journal_and_the_transitions_the_caller_may_fire(api, db, world, case_a):
    body = api("regisseur_a").get(f"/cases/{case_a['reference']}").get_json()
    assert body["state"] == "signaal" and body["version"] == 1 and body["may_direct"] is True
    assert {c["kind"] for c in body["clocks"]} >= {"signaal", "thuiszitterspact", "lrv", "step"}
    pact = next(c for c in body["clocks"] if c["kind"] == "thuiszitterspact")
    assert any("kalendermaanden" in line for line in pact["explanation"])
    assert [s["title"] for s in body["steps"]] == ["Huisbezoek"]
    assert {e["kind"] for e in body["journal"]} >= {"zaak_geopend", "stap_toegewezen"}
    assert [t["name"] for t in body["transitions"]] == ["plan_gesprek", "sluiten"]
    # A colleague of the team reads it, but may fire nothing.
    colleague = api("regisseur_a2").get(f"/cases/{case_a['reference']}").get_json()
    assert colleague["may_direct"] is False and colleague["transitions"] == [] and colleague["basis"] == "team"
    with db.read() as conn:
        reads = conn.execute(select(AccessLog.__table__.c.basis).where(
            AccessLog.__table__.c.action == "read_case", AccessLog.__table__.c.case_id == case_a["case_id"])).scalars().all()
    assert reads == ["own_case", "team"]


def test_transitions_answer_the_new_state_409_when_stale_and_422_when_not_allowed(api, db, world, case_a):
    client, ref = api("regisseur_a"), case_a["reference"]
    done = client.post(f"/cases/{ref}/transitions", json={"name": "plan_gesprek", "version": 1})
    assert done.status_code == 200 and done.get_json() == {"reference": ref, "state": "gesprek", "state_label": "Gesprek",
                                                           "version": 2}
    stale = client.post(f"/cases/{ref}/transitions", json={
        "name": "naar_zorgtafel", "version": 1, "data": {"gesprek_report": "Verslag", "route": "halt"}})
    assert stale.status_code == 409 and stale.get_json()["current_version"] == 2
    wrong_state = client.post(f"/cases/{ref}/transitions", json={"name": "aanbod_gestart", "version": 2,
                                                                "data": {"offer_started_on": "2026-03-02"}})
    assert wrong_state.status_code == 422 and wrong_state.get_json()["type"].endswith("invalid-transition")
    missing = client.post(f"/cases/{ref}/transitions", json={"name": "naar_zorgtafel", "version": 2, "data": {}})
    assert missing.status_code == 422 and {"data.gesprek_report", "data.route"} <= set(fields_of(missing))
    no_reason = client.post(f"/cases/{ref}/transitions", json={"name": "sluiten", "version": 2,
                                                               "data": {"closing_reason": "verhuisd"}})
    assert no_reason.status_code == 422 and "reason" in fields_of(no_reason)
    unknown = client.post(f"/cases/{ref}/transitions", json={"name": "wegtoveren", "version": 2})
    assert unknown.status_code == 422 and "name" in fields_of(unknown)
    colleague = api("regisseur_a2").post(f"/cases/{ref}/transitions", json={
        "name": "naar_zorgtafel", "version": 2, "data": {"gesprek_report": "Verslag", "route": "halt"}})
    assert colleague.status_code == 422 and colleague.get_json()["type"].endswith("not-allowed")
    with db.read() as conn:
        assert conn.execute(select(Case.__table__.c.version).where(Case.__table__.c.id == case_a["case_id"])).scalar_one() == 2


def test_a_director_assigns_a_step_through_the_api(api, db, world, case_a):
    client, ref = api("coordinator_a"), case_a["reference"]
    made = client.post(f"/cases/{ref}/steps", json={"organisation_id": world.ggd, "title": "Onderzoek",
                                                    "due_on": "2026-03-27"})
    assert made.status_code == 201 and made.get_json()["status"] == "open"
    past = client.post(f"/cases/{ref}/steps", json={"organisation_id": world.ggd, "title": "Te laat",
                                                    "due_on": "2026-03-01"})
    assert past.status_code == 422 and "due_on" in fields_of(past)
    assert "title" in fields_of(client.post(f"/cases/{ref}/steps", json={"organisation_id": world.ggd, "title": "",
                                                                        "due_on": "2026-03-27"}))


# --- A partner's steps --------------------------------------------------------------------------------

def test_a_partner_lists_completes_and_asks_more_time_for_its_own_steps_only(api, db, ctx, world, now, case_a):
    other = open_case(db, ctx, world, now, actor=world.regisseur_b, bsn="123456782")
    with db.begin() as conn:
        foreign = steps.assign_step(conn, ctx, world.regisseur_b, other.case_id, organisation_id=world.ggd,
                                    title="Onderzoek jeugdarts", due_at=end_of_day(date(2026, 3, 20)), now=now)
    partner = api("partner_wijkteam")
    listed = partner.get("/steps").get_json()["items"]
    assert [(s["id"], s["case"]["reference"], s["case"]["given_name"]) for s in listed] == [
        (case_a["step_id"], case_a["reference"], "Annabel")]
    assert "de Vries" not in partner.get("/steps").get_data(as_text=True)  # no surname, BSN or guardians
    asked = partner.post(f"/steps/{case_a['step_id']}/extension-requests",
                         json={"proposed_due_on": "2026-04-10", "reason": "Gezin op vakantie"})
    assert asked.status_code == 201 and asked.get_json()["step_id"] == case_a["step_id"]
    twice = partner.post(f"/steps/{case_a['step_id']}/extension-requests",
                         json={"proposed_due_on": "2026-04-17", "reason": "Nog later"})
    assert twice.status_code == 422 and "step_id" in fields_of(twice)
    stale = partner.post(f"/steps/{case_a['step_id']}/complete", json={"version": 7})
    assert stale.status_code == 409 and stale.get_json()["current_version"] == 1
    done = partner.post(f"/steps/{case_a['step_id']}/complete", json={"version": 1, "note": "Geweest"})
    assert done.status_code == 200 and done.get_json()["status"] == "done"
    again = partner.post(f"/steps/{case_a['step_id']}/complete", json={"version": 2})
    assert again.status_code == 422
    for path, body in ((f"/steps/{foreign}/complete", {"version": 1}),
                       (f"/steps/{foreign}/extension-requests", {"proposed_due_on": "2026-04-10", "reason": "x"})):
        assert partner.post(path, json=body).status_code == 404
    assert partner.get(f"/cases/{case_a['reference']}").status_code == 404


# --- Problems for any input ------------------------------------------------------------------------------

def test_malformed_oversized_and_misdirected_requests_answer_problems(api, db, world, case_a):
    client = api("regisseur_a")
    bad_json = client.post("/signals", data=b"{not json", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.mimetype == PROBLEM
    form = client.post("/signals", data={"youth": "x"})
    assert form.status_code == 415 and form.mimetype == PROBLEM
    big = client.post("/signals", data=b"{" + b" " * 70_000 + b"}", headers={"Content-Type": "application/json"})
    assert big.status_code == 413 and big.mimetype == PROBLEM
    assert client.get("/nergens").status_code == 404 and client.get("/nergens").mimetype == PROBLEM
    wrong_method = client.get("/signals")
    assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["Allow"]
    for path in ("/steps/0/complete", "/steps/99999999999999999999/complete", "/steps/-1/complete"):
        response = api("partner_wijkteam").post(path, json={"version": 1})
        assert response.status_code == 404 and response.mimetype == PROBLEM, path
    nul = client.post(f"/cases/{case_a['reference']}/transitions",
                      json={"name": "sluiten", "version": 1, "reason": "a\x00b", "data": {"closing_reason": "werk"}})
    assert nul.status_code == 422 and "reason" in fields_of(nul)
    assert client.get("/cases/" + "x" * 100).status_code == 404
    assert count(db, Case) == 1


def test_post_needs_no_csrf_token_and_every_answer_carries_the_security_headers(api, world):
    response = api("regisseur_a").post("/signals", json=signal_body(world))
    assert response.status_code == 202
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert response.headers["Cache-Control"] == "no-store"


def test_the_served_document_is_valid_openapi_3_1_made_from_the_models(web_app):
    from openapi_spec_validator import validate

    from mas.web.api.schemas import SignalIn

    document = web_app.test_client().get("/api/v1/openapi.json").get_json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    body = document["paths"]["/signals"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/SignalIn"}
    assert set(document["components"]["schemas"]["SignalIn"]["properties"]) == set(SignalIn.model_fields)
    variants = document["components"]["schemas"]
    assert {f"Transition_{t.trigger}" for t in web_app.extensions["mas"]["context"].workflow.transitions} <= set(variants)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert "401" in operation["responses"] and "404" in operation["responses"], (method, path)
            problem = operation["responses"]["404"]["content"]
            assert list(problem) == ["application/problem+json"]
