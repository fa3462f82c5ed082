"""The dashboard (coordinators: their team; casusregisseurs: their own cases), its exports, and
the participants and leavers file. Figures come from mas.services.figures, scoped there."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from mas.services import figures
from mas.services.errors import ServiceError
from mas.services.figures import facts
from mas.services.figures.tables import shown
from mas.web import context as web
from mas.web.charts import chart_uri
from mas.web.security import roles
from mas.workflows import DIRECTORS, Role

bp = Blueprint("figures", __name__, url_prefix="/dashboard")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _period_args() -> dict:
    return {"first": request.args.get("van") or None, "last": request.args.get("tot") or None}


@bp.get("")
@roles(*DIRECTORS)
def index():
    _keep_facts()
    with web.db().read() as conn:
        dashboard = figures.build_dashboard(conn, web.ctx(), web.actor(), web.now(), **_period_args())
    charts = {t.key: chart_uri(t) for t in dashboard.tables}
    return render_template("figures/dashboard.html", dashboard=dashboard, charts=charts, shown=shown,
                           is_coordinator=web.actor().role == Role.COORDINATOR, errors={}, values={})


def _keep_facts() -> None:
    """A coordinator's team figures are summed from facts per case: make those that are missing or stale first."""
    actor = web.actor()
    if actor.role == Role.COORDINATOR and actor.team_id is not None:
        facts.keep(web.db(), web.ctx(), (actor.team_id,), web.now())


def _download(name: str, content: bytes, mimetype: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/export/<key>.<fmt>")
@roles(*DIRECTORS)
def export_table(key: str, fmt: str):
    _keep_facts()
    with web.db().begin() as conn:  # the export is logged in the same transaction
        name, content = figures.export_dashboard_table(conn, web.ctx(), web.actor(), key, fmt, web.now(),
                                                       **_period_args())
    return _download(name, content, "text/csv; charset=utf-8" if fmt == "csv" else XLSX)


@bp.get("/export.xlsx")
@roles(*DIRECTORS)
def export_all():
    _keep_facts()
    with web.db().begin() as conn:
        name, content = figures.export_dashboard_workbook(conn, web.ctx(), web.actor(), web.now(), **_period_args())
    return _download(name, content, XLSX)


@bp.post("/scholen")
@roles(Role.COORDINATOR)
def import_schools():
    upload = request.files.get("file")
    school_year = (request.form.get("school_year") or "").strip()
    text = upload.read().decode("utf-8-sig", errors="replace") if upload else ""
    try:
        if not text.strip():
            raise ServiceError("Kies een bestand.", field="file")
        with web.db().begin() as conn:
            count = figures.import_school_figures(conn, web.actor(), web.actor().team_id, school_year, text,
                                                  now=web.now())
    except ServiceError as exc:
        with web.db().read() as conn:
            dashboard = figures.build_dashboard(conn, web.ctx(), web.actor(), web.now())
        charts = {t.key: chart_uri(t) for t in dashboard.tables}
        return render_template("figures/dashboard.html", dashboard=dashboard, charts=charts, shown=shown,
                               is_coordinator=True, errors=exc.errors or {"file": exc.message},
                               values={"school_year": school_year}), 422
    flash(f"Het bestand is ingelezen: {count} regels voor schooljaar {school_year}.")
    return redirect(url_for("figures.index"))
