"""Deny by default: every endpoint is either on the public list or names the roles it serves.

An endpoint that is neither is refused (and the route sweep test fails), so a new route
cannot be reachable by accident. Object-level checks (this case, this step) stay in the
service layer, which every view calls.
"""

from __future__ import annotations

from functools import wraps
from typing import Callable
from urllib.parse import urlsplit

from flask import abort, g, redirect, request, url_for

from mas.workflows import Role

# auth.enrol: the invitation link's page; its single-use, expiring token is the credential.
# openbaar.termijn checks its own signature (mas.web.public): the signed link is the permission.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.enrol", "static", "overview.healthz", "openbaar.termijn",
                              # the API's document and its human-readable page: no data, no token
                              "api.openapi_document", "api.docs", "api.docs_asset"})
ENDPOINT_ROLES: dict[str, frozenset[str]] = {}
# Path prefixes whose requests another front end lets in (the JSON API: bearer tokens, no
# cookies). Its gate answers for every request under the prefix, matched or not, by the
# same ENDPOINT_ROLES and public list: deny by default there too.
GATES: dict[str, Callable[[], object | None]] = {}
ALL_ROLES = frozenset(Role)


def roles(*allowed: Role) -> Callable:
    """Declare who may call a view; registered under its endpoint when the blueprint is."""
    unknown = set(allowed) - ALL_ROLES
    assert not unknown, unknown

    def decorate(view):
        view.mas_roles = frozenset(allowed)

        @wraps(view)
        def wrapper(*args, **kwargs):
            return view(*args, **kwargs)

        wrapper.mas_roles = view.mas_roles
        return wrapper

    return decorate


def register_roles(app) -> None:
    for endpoint, view in app.view_functions.items():
        allowed = getattr(view, "mas_roles", None)
        if allowed is not None:
            ENDPOINT_ROLES[endpoint] = allowed


def may_visit(endpoint: str) -> bool:
    """Whether the logged-in user's role may call `endpoint` (menus are built from this)."""
    user = g.get("mas_user")
    return user is not None and user.actor.role in ENDPOINT_ROLES.get(endpoint, ())


def enforce() -> object | None:
    """before_request: login and role, or refuse."""
    for prefix, gate in GATES.items():
        if request.path.startswith(prefix):
            return gate()
    endpoint = request.endpoint
    if endpoint is None:
        abort(404)
    if endpoint in PUBLIC_ENDPOINTS:
        return None
    user = g.get("mas_user")
    if user is None:
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    allowed = ENDPOINT_ROLES.get(endpoint)
    if allowed is None or user.actor.role not in allowed:
        abort(404)  # not even confirm the page exists for this role
    return None


def safe_next(target: str | None) -> str | None:
    """Only local paths: never an open redirect to another site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target
