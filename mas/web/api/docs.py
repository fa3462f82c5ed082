"""The OpenAPI document, the human-readable API page, and GET /me.

The page is Swagger UI from a Python package (flask-swagger-ui ships its dist files), served
by this app: it works without internet, and its start-up script is a file of ours
(static/api-docs.js) so the page keeps the app's CSP (script-src 'self', no inline script).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from flask import abort, g, jsonify, render_template, send_from_directory, url_for

from mas.web import context as web
from mas.web.api import bp
from mas.web.api.openapi import document, operation
from mas.web.api.schemas import MeOut
from mas.workflows import Role, Workflow

SWAGGER_FILES = frozenset({"swagger-ui-bundle.js", "swagger-ui.css"})


@cache
def _document(workflow: Workflow, title: str) -> dict:
    return document(workflow, title=title)


def _swagger_dir() -> str:
    return str(files("flask_swagger_ui") / "dist")


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(_document(web.ctx().workflow, "mas: casusregie leerplicht en thuiszitters"))


@bp.get("/docs")
def docs():
    return render_template("api/docs.html", spec_url=url_for("api.openapi_document"),
                           asset=lambda name: url_for("api.docs_asset", filename=name))


@bp.get("/docs/assets/<filename>")
def docs_asset(filename: str):
    if filename not in SWAGGER_FILES:
        abort(404)
    response = send_from_directory(_swagger_dir(), filename, max_age=3600)
    return response


@operation(bp, "GET", "/me", summary="Wie ben ik", tag="Account", roles=tuple(Role), response=MeOut)
def me():
    """Het account van dit token, zijn rol, team of organisatie, scopes en vervaldatum: een eerste aanroep."""
    user = web.actor()
    token = g.api_user
    return MeOut(name=token.name, email=token.email, role=user.role, team_id=user.team_id,
                 organisation_id=user.organisation_id, is_service_account=token.is_service_account,
                 scopes=sorted(token.scopes), token_expires_at=token.expires_at)
