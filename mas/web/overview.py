"""Public pages that show no case content: the flow and the number of cases per state.

Case pages arrive with logins (the browser UI issue); until then nothing personal is served.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from sqlalchemy import func, select

from mas.models import Case
from mas.workflows import to_mermaid

bp = Blueprint("overview", __name__)


@bp.get("/")
def index():
    mas = current_app.extensions["mas"]
    workflow = mas["context"].workflow
    case = Case.__table__
    with mas["db"].read() as conn:
        counts = dict(conn.execute(select(case.c.state, func.count()).group_by(case.c.state)).all())
    return render_template("overview.html", workflow=workflow, counts=counts, mermaid=to_mermaid(workflow),
                           settings=mas["settings"])


@bp.get("/healthz")
def healthz():
    with current_app.extensions["mas"]["db"].read() as conn:
        conn.execute(select(1))
    return {"status": "ok"}
