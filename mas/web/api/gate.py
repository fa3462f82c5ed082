"""Who may call the JSON API: a bearer token, its scope, and the route's roles. Deny by default.

The app's before_request hands every request under /api/ to `enforce` (mas.web.security.GATES).
No cookie counts here: the API is exempt from CSRF because it reads only the Authorization
header, so a browser's session can never act through it. Every request made with a token is
written to the access log once it is answered.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, request
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.routing import RequestRedirect

from mas.services import tokens
from mas.web import context as web
from mas.web.api import problems
from mas.web.security import ENDPOINT_ROLES, PUBLIC_ENDPOINTS

MAX_BODY = 64 * 1024  # a signal with guardians is a few kB; nothing the API takes comes near this


@dataclass(frozen=True)
class ApiCaller:
    """What `g.mas_user` is for an API request: the token's account (views read `.actor`)."""

    actor: object
    name: str
    email: str
    token: tokens.TokenUser


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _unauthorised(detail: str, error: str = "invalid_token"):
    return problems.problem(401, detail, slug="unauthorised",
                            headers={"WWW-Authenticate": f'Bearer realm="mas", error="{error}"'})


def enforce():
    """before_request for /api/…: route, token, scope, role, size; or a problem response."""
    g.mas_user = None  # a browser's session never acts through the API
    request.max_content_length = MAX_BODY
    routing = request.routing_exception
    if isinstance(routing, MethodNotAllowed):
        return problems.problem(405, "Deze methode kan hier niet.", slug="method-not-allowed",
                                headers={"Allow": ", ".join(sorted(routing.valid_methods or ()))})
    if routing is not None and not isinstance(routing, RequestRedirect):
        return problems.problem(404, "Deze URL bestaat niet.", slug="not-found")
    endpoint = request.endpoint
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return None
    token = _bearer()
    if token is None:
        return _unauthorised("Stuur een token: Authorization: Bearer mas_…", "invalid_request")
    user = tokens.authenticate(web.db(), token, web.now())
    if user is None:
        return _unauthorised("Dit token is onbekend, verlopen of ingetrokken.")
    g.api_user = user
    g.mas_user = ApiCaller(actor=user.actor, name=user.name, email=user.email, token=user)
    needed = "read" if request.method in ("GET", "HEAD") else "write"
    if needed not in user.scopes:
        return problems.problem(403, f"Dit token heeft de scope '{needed}' niet.", slug="insufficient-scope",
                                headers={"WWW-Authenticate": f'Bearer realm="mas", error="insufficient_scope", '
                                                             f'scope="{needed}"'})
    allowed = ENDPOINT_ROLES.get(endpoint)
    if allowed is None or user.actor.role not in allowed:
        problems.log_refusal()
        return problems.problem(404, "Niet gevonden.", slug="not-found")  # not even confirm it exists
    if (request.content_length or 0) > MAX_BODY:
        return problems.problem(413, f"Een verzoek is hoogstens {MAX_BODY // 1024} kB.", slug="too-large")
    return None


def log_use(response):
    """after_request: every use of a token, answered or refused, beside the page reads."""
    user = g.get("api_user")
    if user is not None:
        with web.db().begin() as conn:
            tokens.log_use(conn, user, web.now(), method=request.method, path=request.path,
                           status=response.status_code)
    return response
