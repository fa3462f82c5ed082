"""Deny by default on the JSON API: the route sweep over every operation × every role, and the
access matrix (a partner never reaches a foreign step or any case; a team never another
team's youth)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from mas.models import TABLES, AccessLog, Case, Step
from mas.web.api.openapi import OPERATIONS
from mas.web.security import ENDPOINT_ROLES, PUBLIC_ENDPOINTS
from tests.web.conftest import Api
from tests.web.test_access import two_cases  # noqa: F401  (the fixture: a case and a step in each team)

ROLE_ACCOUNTS = {"casusregisseur": "regisseur_a", "coordinator": "coordinator_a", "partner": "partner_wijkteam",
                 "admin": "admin"}
PROBLEM = "application/problem+json"


def _state(db) -> dict:
    """Everything a refused request must leave as it was (reads are logged, so not the log)."""
    with db.read() as conn:
        counts = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                  for t in TABLES.sorted_tables if t.name not in ("access_log", "user_session")}
        cases = conn.execute(select(Case.__table__.c.id, Case.__table__.c.version, Case.__table__.c.state)).all()
        step_rows = conn.execute(select(Step.__table__.c.id, Step.__table__.c.version, Step.__table__.c.status)).all()
    return {"counts": counts, "cases": sorted(cases), "steps": sorted(step_rows)}


def _fill(rule: str, values: dict) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(values[m.group(1)]), rule)


def _call(client: Api, method: str, path: str):
    return client.get(path) if method == "GET" else client.post(path, json={})


def test_every_api_route_is_public_or_an_operation_limited_to_roles(web_app):
    declared = {op.endpoint: op for op in OPERATIONS}
    for rule in web_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        assert rule.endpoint in declared, f"{rule.rule} is neither public nor a declared operation"
        assert ENDPOINT_ROLES[rule.endpoint] == frozenset(declared[rule.endpoint].roles)


def test_the_document_describes_exactly_the_routes_there_are(web_app):
    document = web_app.test_client().get("/api/v1/openapi.json").get_json()
    described = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    routed = {(method, "/" + re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule.removeprefix("/api/v1/")))
              for rule in web_app.url_map.iter_rules()
              if rule.rule.startswith("/api/") and rule.endpoint not in PUBLIC_ENDPOINTS
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == routed and len(described) == len(OPERATIONS) >= 9


def test_api_route_sweep_every_role(web_app, api, two_cases, db):  # noqa: F811
    clients = {role: api(name) for role, name in ROLE_ACCOUNTS.items()}
    clients["anonymous"] = Api(web_app, None)
    values = {"reference": two_cases["a"].reference, "step_id": two_cases["step_a"]}
    for op in OPERATIONS:
        path = _fill(op.rule, values)
        for role, client in clients.items():
            before = _state(db)
            response = _call(client, op.method, path)
            assert response.status_code < 500, (role, op.method, path)
            assert response.mimetype in ("application/json", PROBLEM), (role, op.method, path)
            if role == "anonymous":
                assert response.status_code == 401, (op.method, path)
            elif role not in op.roles:
                assert response.status_code == 404, (role, op.method, path, response.status_code)
                assert _state(db) == before, (role, op.method, path)


def test_admin_tokens_reach_no_case_content(api, two_cases, db):  # noqa: F811
    admin = api("admin")
    assert admin.get("/me").status_code == 200
    before = _state(db)
    for op in OPERATIONS:
        if op.endpoint != "api.me":
            response = _call(admin, op.method, _fill(op.rule, {"reference": two_cases["a"].reference,
                                                               "step_id": two_cases["step_a"]}))
            assert response.status_code == 404 and "Annabel" not in response.get_data(as_text=True)
    assert _state(db) == before


def test_a_partner_token_never_reads_or_changes_a_foreign_case_or_step(api, two_cases, db, world):  # noqa: F811
    partner = api("partner_ggd")  # the GGD holds step B, not step A
    a, step_a = two_cases["a"], two_cases["step_a"]
    listed = partner.get("/steps").get_data(as_text=True)
    assert "Onderzoek jeugdarts" in listed and "Huisbezoek" not in listed and a.reference not in listed
    before = _state(db)
    for method, path, body in (
            ("POST", f"/steps/{step_a}/complete", {"version": 1}),
            ("POST", f"/steps/{step_a}/extension-requests", {"proposed_due_on": "2026-04-30", "reason": "x"}),
            ("GET", f"/cases/{a.reference}", None),
            ("GET", f"/cases/{two_cases['b'].reference}", None),
            ("POST", f"/cases/{a.reference}/transitions", {"name": "plan_gesprek", "version": 1}),
            ("POST", f"/cases/{a.reference}/steps", {"organisation_id": world.ggd, "title": "x", "due_on": "2026-04-01"}),
            ("GET", "/cases", None)):
        response = partner.get(path) if method == "GET" else partner.post(path, json=body)
        assert response.status_code == 404 and response.mimetype == PROBLEM, (method, path)
    assert _state(db) == before
    with db.read() as conn:
        denied = conn.execute(select(AccessLog.__table__.c.case_id).where(
            AccessLog.__table__.c.action == "denied", AccessLog.__table__.c.user_id == world.partner_ggd.id)).scalars().all()
    assert a.case_id in denied


@pytest.mark.parametrize("name", ["regisseur_b", "coordinator_b"])
def test_a_teams_token_never_sees_another_teams_youth(api, two_cases, db, world, name):  # noqa: F811
    client = api(name)
    a = two_cases["a"]
    for query in ("", "?scope=team", "?scope=team&q=annabel", "?status=all&scope=team", f"?q={a.reference}"):
        text = client.get("/cases" + query).get_data(as_text=True)
        assert a.reference not in text and "Annabel" not in text, query
    before = _state(db)
    for method, path, body in (
            ("GET", f"/cases/{a.reference}", None),
            ("POST", f"/cases/{a.reference}/transitions", {"name": "plan_gesprek", "version": 1}),
            ("POST", f"/cases/{a.reference}/steps", {"organisation_id": world.ggd, "title": "x", "due_on": "2026-04-01"}),
            ("POST", f"/steps/{two_cases['step_a']}/complete", {"version": 1})):
        response = client.get(path) if method == "GET" else client.post(path, json=body)
        assert response.status_code == 404, (method, path)
        assert "Annabel" not in response.get_data(as_text=True)
    assert _state(db) == before
