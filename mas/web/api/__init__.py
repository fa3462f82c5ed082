"""The JSON API under /api/v1: schools' administration packages and partner systems.

Every route calls the same service functions as the browser's pages (receive a signal, fire
a transition, assign and complete steps, ask for more time, the read models), so the rules
between teams, joining an open case and the clocks are the same whichever way a request came
in. This package parses, calls one service, and answers; it holds no rules of its own.

- gate.py: bearer tokens, scopes, the routes' roles (deny by default), the size limit;
- schemas.py: the pydantic models of requests and answers;
- openapi.py: operations declared once, routed, parsed, and assembled into OpenAPI 3.1;
- problems.py: errors as application/problem+json (RFC 9457);
- signals.py, cases.py, steps.py, docs.py: the operations and the human-readable page.
"""

from __future__ import annotations

from flask import Blueprint

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)


def register(app) -> None:
    """Route the API, exempt it from CSRF (it reads no cookie), and put its gate in front."""
    from mas.web import security
    from mas.web.api import cases, docs, gate, problems, signals, steps  # noqa: F401  (they declare the routes)

    if not getattr(bp, "mas_handlers", False):
        problems.register_handlers(bp)
        bp.mas_handlers = True
    app.register_blueprint(bp)
    app.extensions["csrf"].exempt(bp)
    security.GATES["/api/"] = gate.enforce
    app.after_request(gate.log_use)
