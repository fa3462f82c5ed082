"""How large a request body may be: the app's limit (forms), and a page's own (an upload).

Werkzeug refuses a body over `request.max_content_length` when the form is first read, which is
CSRF's check, before any view runs. So a page with its own limit declares it on the view; the
app applies it before CSRF reads the form, and a body over it is answered by the page itself
(with what it needs to say: the limit, and where larger files can go), not by the general 413.
"""

from __future__ import annotations

from typing import Callable

from flask import Flask, current_app, request

MB = 1024 * 1024
FORM_FIELDS = 64 * 1024  # an upload form's other fields (token, options) besides its file


def body_limit(megabytes: Callable[[], int], refused: Callable[[], object]) -> Callable:
    """Declare a view's body limit in MB (read per request: it is configuration) and the answer
    to a body over it."""

    def decorate(view):
        view.body_limit_mb = megabytes
        view.body_refused = refused
        return view

    return decorate


def _view():
    return current_app.view_functions.get(request.endpoint) if request.endpoint else None


def register(app: Flask) -> None:
    """Before CSRFProtect(app): its before_request reads the form, under the limit set here."""

    @app.before_request
    def _apply_body_limit():
        megabytes = getattr(_view(), "body_limit_mb", None)
        if megabytes is not None:
            request.max_content_length = megabytes() * MB + FORM_FIELDS


def refused_by_view() -> object | None:
    """The page's own answer to a body over its limit, for whom the page is open (anyone else
    gets the general page: it must not learn that the page exists). The form is read (CSRF)
    before the login is checked, so the role is checked here."""
    from flask import g
    from flask_login import current_user

    from mas.web import security

    refused = getattr(_view(), "body_refused", None)
    if refused is None:
        return None
    g.mas_user = current_user.session_user if current_user.is_authenticated else None
    return refused() if security.may_visit(request.endpoint) else None


def limit_mb() -> int:
    """The limit this request was held to, in whole MB (for the general 413 page)."""
    return max(1, (request.max_content_length or current_app.config["MAX_CONTENT_LENGTH"]) // MB)
