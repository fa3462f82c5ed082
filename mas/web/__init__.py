"""The Flask app factory. It never starts a scheduler: every web worker would run one.

Production: `gunicorn 'mas.web:create_app()'` with MAS_ENV=production and the MAS_* settings.
A request's way: deny-by-default check → view parses → service (rules, events, outbox) →
one commit → redirect or page.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, g, render_template, request
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from mas.dates import utcnow
from mas.services import auth as auth_service
from mas.services import runtime
from mas.settings import Settings, load_settings
from mas.web import security
from mas.web.context import now as request_now
from mas.workflows import RECIPIENT_LABELS, ROLE_LABELS, WORKFLOW, Role, Workflow

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class LoginUser(UserMixin):
    """Flask-Login's user: its id is the session token, never the user id."""

    def __init__(self, session_user: auth_service.SessionUser):
        self.session_user = session_user

    def get_id(self) -> str:
        return self.session_user.token


def create_app(settings: Settings | None = None, *, clock: Callable = utcnow, require_totp: bool = True,
               workflow: Workflow = WORKFLOW) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__)
    secure = settings.base_url.startswith("https://")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="mas_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_DURATION=0,
        WTF_CSRF_TIME_LIMIT=None,  # the session's own timeouts bound the token
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    db = runtime.open_database(settings)
    app.extensions["mas"] = {
        "settings": settings,
        "context": runtime.open_context(settings, workflow),  # refuses to start on an invalid flow or calendar
        "db": db,
        "clock": clock,
        "require_totp": require_totp,
    }
    CSRFProtect(app)
    login = LoginManager(app)
    login.session_protection = "basic"

    @login.user_loader
    def _load(token: str):
        found = auth_service.load_session(db, token, request_now())
        return LoginUser(found) if found else None

    from mas.web import admin, auth, cases, overview, partner, public, team

    for module in (overview, auth, cases, partner, admin, team, public):
        app.register_blueprint(module.bp)
    from mas.web import api

    api.register(app)  # the JSON API: its blueprint, its token gate and its problem+json errors
    security.register_roles(app)

    @app.before_request
    def _deny_by_default():
        g.mas_user = current_user.session_user if current_user.is_authenticated else None
        return security.enforce()

    # The team's own word for the officer who directs a case (config: leerplichtambtenaar or
    # leerrechtondersteuner) wherever the UI names that role.
    role_labels = {**ROLE_LABELS, Role.CASUSREGISSEUR: settings.term("leerplichtambtenaar").capitalize()}

    @app.context_processor
    def _globals():
        return {"me": g.get("mas_user"), "term": settings.term, "settings": settings, "may": security.may_visit,
                "roles": Role, "role_labels": role_labels, "recipient_labels": RECIPIENT_LABELS,
                "workflow": app.extensions["mas"]["context"].workflow}

    @app.errorhandler(CSRFError)
    def _csrf(error):
        return render_template("error.html", title="Formulier verlopen",
                               message="Het formulier is verlopen of ongeldig. Laad de pagina opnieuw."), 400

    from mas.services.errors import NotFound as ServiceNotFound

    @app.errorhandler(404)
    @app.errorhandler(ServiceNotFound)
    def _not_found(error):
        if g.get("mas_user") is not None:
            from mas.services.audit import log_denied

            # Its own transaction: the request's own one was rolled back with the refusal.
            args = request.view_args or {}
            with db.begin() as conn:
                log_denied(conn, g.mas_user.actor, request_now(), path=request.path, method=request.method,
                           reference=args.get("reference"), step_id=args.get("step_id"))
        return render_template("error.html", title="Niet gevonden",
                               message="Deze pagina bestaat niet of u heeft er geen toegang toe."), 404

    @app.after_request
    def _security_headers(response):
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cache-Control"] = "no-store"
        if secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response

    from mas.web.filters import register_filters

    register_filters(app)
    return app
