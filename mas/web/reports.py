"""The documents that leave the team: the samenwerkingsverband's thuiszitters overview (its
rapporteur) and the yearly leerplicht report (the team's coordinator), as HTML, PDF, CSV and
XLSX. The figures and the logging are mas.services.figures.documents'; this module renders."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import Blueprint, Response, abort, render_template

from mas.dates import local_date
from mas.figures_config import figures_config
from mas.services.errors import ValidationError
from mas.services.figures import documents
from mas.services.figures.tables import suppressed, to_csv, to_xlsx
from mas.web import context as web
from mas.web.security import roles
from mas.workflows import Role

bp = Blueprint("rapportage", __name__, url_prefix="/rapportage")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_CSS = Path(__file__).resolve().parent / "static" / "report.css"


def _download(name: str, content: bytes, mimetype: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def render_document(document: documents.Document, *, for_pdf: bool = False) -> str:
    rows = {t.key: suppressed(t, document.small_count) for t in document.tables}
    return render_template("reports/document.html", document=document, rows=rows, cell=_cell, for_pdf=for_pdf,
                           css=REPORT_CSS.read_text() if for_pdf else None)


def pdf_of(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


@bp.get("/swv")
@roles(Role.SWV_RAPPORTEUR)
def swv():
    config = figures_config(web.ctx().settings)
    today = local_date(web.now())
    return render_template("reports/swv.html", peildata=[d for d in config.peildata if d <= today])


@bp.get("/swv/<peildatum>.<fmt>")
@roles(Role.SWV_RAPPORTEUR)
def swv_download(peildatum: str, fmt: str):
    try:
        day = date.fromisoformat(peildatum)
    except ValueError:
        abort(404)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    try:
        with web.db().begin() as conn:
            document = documents.swv_overview(conn, web.ctx(), web.actor(), day, web.now())
    except ValidationError:  # not one of the peildata, or one still to come
        abort(404)
    name = f"thuiszitters-swv-{day.isoformat()}.{fmt}"
    if fmt == "csv":
        return _download(name, ("\ufeff" + to_csv(document.tables[0], document.small_count)).encode(),
                         "text/csv; charset=utf-8")
    return _download(name, to_xlsx(document.tables, document.small_count, title=document.title), XLSX)


@bp.get("/jaarverslag")
@roles(Role.COORDINATOR)
def yearly():
    config = figures_config(web.ctx().settings)
    current = config.school_year_of(local_date(web.now()))
    first = int(current.split("-")[0])
    years = [f"{y}-{y + 1}" for y in range(first, first - 4, -1)]
    return render_template("reports/yearly.html", years=years)


@bp.get("/jaarverslag/<school_year>.<fmt>")
@roles(Role.COORDINATOR)
def yearly_download(school_year: str, fmt: str):
    if fmt not in ("html", "pdf", "xlsx"):
        abort(404)
    try:
        with web.db().begin() as conn:
            document = documents.yearly_report(conn, web.ctx(), web.actor(), school_year, web.now())
    except ValidationError:  # not a school year
        abort(404)
    if fmt == "html":
        return render_document(document)
    name = f"jaarverslag-leerplicht-{school_year}.{fmt}"
    if fmt == "pdf":
        return _download(name, pdf_of(render_document(document, for_pdf=True)), "application/pdf")
    return _download(name, to_xlsx(document.tables, document.small_count, title=document.title), XLSX)
