"""Schemathesis against the served OpenAPI document, with an authenticated client.

Every operation gets examples, boundary values and random (also invalid) input, generated from
the document the app serves, sent through the app with a token of a role the operation
serves, on SQLite and on PostgreSQL (NUL bytes, integer overflow and lone surrogates differ
there). Every answer must be below 500, have a status and a content type the document lists
for it, and a body and headers valid against the document's schema.
"""

from __future__ import annotations

import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.web.test_access import two_cases  # noqa: F401  (the fixture: a case and a step in each team)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, ignored_auth]


@pytest.fixture
def api_schema(web_app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", web_app)


@pytest.fixture
def callers(api, two_cases):  # noqa: F811
    """A token per role the operations serve, and real objects to aim at half the time."""
    tokens = {"team": api("regisseur_a").token, "partner": api("partner_wijkteam").token}
    real = {"reference": two_cases["a"].reference, "step_id": two_cases["step_a"]}
    return tokens, real, itertools.count()


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
@pytest.mark.slow
def test_every_answer_conforms_to_the_document(case, callers):
    tokens, real, counter = callers
    partner_only = case.path.startswith("/steps")
    token = tokens["partner"] if partner_only else tokens["team"]
    if case.path_parameters and next(counter) % 2 == 0:  # half the time at objects that exist
        case.path_parameters = {**case.path_parameters, **{k: v for k, v in real.items() if k in case.path_parameters}}
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    case.validate_response(response, checks=CHECKS, headers={"Authorization": f"Bearer {token}"})
