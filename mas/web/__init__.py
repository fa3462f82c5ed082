"""The Flask app factory. It never starts a scheduler: every web worker would run one.

Production: `gunicorn 'mas.web:create_app()'` with MAS_ENV=production and the MAS_* settings.
"""

from __future__ import annotations

from flask import Flask

from mas.db import Database
from mas.services.context import make_context
from mas.settings import Settings, load_settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
    )
    app.extensions["mas"] = {
        "settings": settings,
        "context": make_context(settings),  # refuses to start on an invalid flow or calendar
        "db": Database(settings.database_url),
    }
    from mas.web.overview import bp as overview_bp

    app.register_blueprint(overview_bp)

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
        return response

    return app
