"""Home (to each role's own start page), the workflow diagram, and the health check."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template
from sqlalchemy import select

from mas.web import context as web
from mas.web.diagram import workflow_svg
from mas.web.security import roles

bp = Blueprint("overview", __name__)


@bp.get("/")
@roles("casusregisseur", "coordinator", "partner", "admin")
def index():
    from mas.web.auth import home_for

    return redirect(home_for(g.mas_user.actor.role))


@bp.get("/workflow")
@roles("casusregisseur", "coordinator", "partner", "admin")
def workflow():
    wf = web.ctx().workflow
    return render_template("workflow.html", svg=workflow_svg(wf), workflow=wf)


@bp.get("/healthz")
def healthz():
    with web.db().read() as conn:
        conn.execute(select(1))
    return {"status": "ok"}
