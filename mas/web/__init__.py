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
from werkzeug.routing import BaseConverter, ValidationError

from mas.dates import utcnow
from mas.services import auth as auth_service
from mas.services import runtime
from mas.settings import Settings, load_settings
from mas.values import BadValue, parse_id
from mas.web import security
from mas.web.context import now as request_now
from mas.workflows import RECIPIENT_LABELS, ROLE_LABELS, WORKFLOW, Role, Workflow

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class StrictId(BaseConverter):
    """`<int:…>` in every route: ASCII digits only and no more than an integer column holds.
    Werkzeug's own would take Arabic-Indic digits (its `\\d` is Unicode's) and any length."""

    regex = r"[0-9]{1,10}"
    weight = 50
    part_isolating = True

    def to_python(self, value: str) -> int:
        try:
            return parse_id(value)
        except BadValue:
            raise ValidationError() from None

    def to_url(self, value) -> str:
        return str(int(value))


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
    if settings.login.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # The client's address as the trusted proxies saw it (the login limits count by it);
        # only as many hops as there really are proxies, or a client could pick its own.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.login.trusted_proxies, x_proto=0, x_host=0)
    db = runtime.open_database(settings)
    app.extensions["mas"] = {
        "settings": settings,
        "context": runtime.open_context(settings, workflow),  # refuses to start on an invalid flow or calendar
        "db": db,
        "clock": clock,
        "require_totp": require_totp,
    }
    app.url_map.converters["int"] = StrictId  # before any route: every <int:…> is a strict id

    @app.before_request
    def _body_limit():
        """A view that takes more than the app's limit (an upload page) names its own as
        `body_limit`: set here, before CSRF and the NUL check read the form and would refuse it."""
        limit = getattr(app.view_functions.get(request.endpoint), "body_limit", None)
        if limit is not None:
            request.max_content_length = limit()

    CSRFProtect(app)
    login = LoginManager(app)
    login.session_protection = "basic"

    @login.user_loader
    def _load(token: str):
        found = auth_service.load_session(db, token, request_now())
        return LoginUser(found) if found else None

    from mas.web import admin, auth, cases, figures, intake, overview, partner, public, reports, team

    for module in (overview, auth, cases, intake, partner, admin, team, public, figures, reports):
        app.register_blueprint(module.bp)
    from mas.web import api

    api.register(app)  # the JSON API: its blueprint, its token gate and its problem+json errors
    security.register_roles(app)

    @app.before_request
    def _deny_by_default():
        g.mas_user = current_user.session_user if current_user.is_authenticated else None
        return security.enforce()

    @app.before_request
    def _no_nul():
        """A NUL character is refused in every field and query parameter, on both databases
        alike (PostgreSQL cannot store it; SQLite would). Nothing a person types contains one."""
        if request.path.startswith("/api/"):
            return None  # the API's models refuse it per field (problem+json)
        for source in (request.args, request.form):
            for name, value in source.items(multi=True):
                if "\x00" in value or "\x00" in name:
                    return render_template("error.html", title="Ongeldig teken",
                                           message=f"Het veld '{name[:40]}' bevat een ongeldig teken (NUL). "
                                                   "Er is niets opgeslagen."), 400
        return None

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

    @app.errorhandler(405)
    def _method(error):
        return render_template("error.html", title="Kan zo niet",
                               message="Deze pagina kan niet op deze manier worden opgevraagd of verstuurd."), 405

    @app.errorhandler(413)
    def _too_large(error):
        # the form is read (CSRF) before login is: the view's own refusal only for whom it is open
        view = app.view_functions.get(request.endpoint)
        g.mas_user = current_user.session_user if current_user.is_authenticated else None
        if getattr(view, "too_large", None) is not None and security.may_visit(request.endpoint):
            return view.too_large()
        limit = request.max_content_length or app.config["MAX_CONTENT_LENGTH"]
        return render_template("error.html", title="Te veel tekst of een te groot bestand",
                               message=f"Wat u verstuurde is groter dan de grens van {limit // (1024 * 1024)} MB "
                                       f"en is niet opgeslagen. Ga terug met de knop Vorige van uw browser: "
                                       f"meestal staat wat u typte er nog. Maak de tekst korter en verstuur "
                                       f"opnieuw."), 413

    @app.errorhandler(500)
    def _internal(error):
        return render_template("error.html", title="Er ging iets mis",
                               message="Er ging iets mis aan onze kant; er is niets gewijzigd. Probeer het later "
                                       "opnieuw of meld het bij de beheerder."), 500

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
