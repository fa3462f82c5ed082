"""Home (to each role's own start page), the workflow diagram, and the health check."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template

from mas.services import runtime
from mas.web import context as web
from mas.web.diagram import workflow_svg
from mas.web.security import roles
from mas.workflows import Role

bp = Blueprint("overview", __name__)


@bp.get("/")
@roles(*Role)
def index():
    from mas.web.auth import home_for

    return redirect(home_for(g.mas_user.actor.role))


@bp.get("/workflow")
@roles(*Role)
def workflow():
    wf = web.ctx().workflow
    return render_template("workflow.html", svg=workflow_svg(wf), workflow=wf)


@bp.get("/healthz")
def healthz():
    runtime.is_healthy(web.db())
    return {"status": "ok"}
