"""The upload page of the verzuimmeldingen import (with a preview), its DUO export, and the
enrollment vangnet's lists. Parse, call a service, answer."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from mas.services import pending_uploads, verzuim_export, verzuim_import
from mas.services import vangnet as vangnet_service
from mas.services.csvfiles import FileProblem, read_bytes
from mas.services.errors import NotFound, ServiceError
from mas.web import context as web
from mas.web.bodies import body_limit
from mas.web.security import roles
from mas.workflows.roles import DIRECTORS
from mas.workflows.vocabulary import SIGNAL_KINDS

bp = Blueprint("intake", __name__, url_prefix="/import")
PREVIEW_ROWS = 10


def _page(status=200, **data):
    config = verzuim_import.load_config(web.ctx())
    return render_template("intake/upload.html", limit_mb=config.upload_limit_mb, errors=data.pop("errors", {}), kinds=SIGNAL_KINDS,
                           **data), status


def _run(data: bytes, *, dry_run: bool):
    actor = web.actor()
    return verzuim_import.import_meldingen(web.db(), web.ctx(), actor, read_bytes(data), team_id=actor.team_id,
                                           now=web.now(), dry_run=dry_run, preview=PREVIEW_ROWS)


@bp.get("/verzuim")
@roles(*DIRECTORS)
def upload_page():
    return _page()


def _upload_limit_mb() -> int:
    return verzuim_import.load_config(web.ctx()).upload_limit_mb


def _too_big():
    return _page(413, errors={"file": f"Het bestand is groter dan de grens van {_upload_limit_mb()} MB voor deze "
                                      "pagina. Splits het bestand, of importeer het met `mas import verzuim "
                                      "BESTAND` (daar geldt geen grens)."})


@bp.post("/verzuim")
@body_limit(_upload_limit_mb, _too_big)
@roles(*DIRECTORS)
def preview():
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:  # where CSRF is off, the form is first read here
        return _too_big()
    data = upload.read() if upload else b""
    if not upload or not upload.filename:
        return _page(422, errors={"file": "Kies een CSV-bestand."})
    try:
        report = _run(data, dry_run=True)
    except FileProblem as exc:
        return _page(422, errors={"file": str(exc)})
    if report.file_problem:
        return _page(422, errors={"file": report.file_problem})
    token = pending_uploads.keep(web.db(), web.actor(), data, web.now()) if report.imported else None
    return _page(report=report, token=token, filename=upload.filename)


@bp.post("/verzuim/bevestig")
@roles(*DIRECTORS)
def confirm():
    try:
        data = pending_uploads.take(web.db(), web.actor(), request.form.get("token", ""), web.now())
        report = _run(data, dry_run=False)
    except (ServiceError, FileProblem) as exc:
        message = getattr(exc, "message", None) or str(exc)
        return _page(422, errors={"file": message})
    flash(verzuim_import.describe(report)[0])
    return _page(report=report, done=True)


@bp.get("/verzuim/export.csv")
@roles(*DIRECTORS)
def export():
    with web.db().begin() as conn:
        text = verzuim_export.export_csv(conn, web.actor(), web.now())
    return Response(text, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=verzuimmeldingen-status.csv"})


@bp.get("/vangnet")
@roles(*DIRECTORS)
def vangnet_rounds():
    with web.db().read() as conn:
        rounds = vangnet_service.rounds(conn, web.actor())
    return render_template("intake/vangnet_rounds.html", rounds=rounds, labels=vangnet_service.STATUS_LABELS)


def _round(round_id: int, errors=None, status=200):
    with web.db().read() as conn:
        data = vangnet_service.round_page(conn, web.actor(), round_id)
    return render_template("intake/vangnet_round.html", errors=errors or {}, values=request.form, **data), status


@bp.get("/vangnet/<int:round_id>")
@roles(*DIRECTORS)
def vangnet_round(round_id: int):
    return _round(round_id)


@bp.post("/vangnet/<int:round_id>")
@roles(*DIRECTORS)
def vangnet_act(round_id: int):
    entry_ids = [int(v) for v in request.form.getlist("entry") if v.isdigit()]
    if not entry_ids:
        return _round(round_id, {"entry": "Kies een of meer jongeren op de lijst."}, 422)
    if request.form.get("action") == "close":
        try:
            with web.db().begin() as conn:
                for entry_id in entry_ids:
                    vangnet_service.close_entry(conn, web.actor(), entry_id, reason=request.form.get("reason", ""),
                                                now=web.now())
        except NotFound:
            raise
        except ServiceError as exc:
            return _round(round_id, exc.errors or {"form": exc.message}, 409 if exc.code == "conflict" else 422)
        flash(f"{len(entry_ids)} vermelding(en) gesloten.")
    else:
        result = vangnet_service.signal_entries(web.db(), web.ctx(), web.actor(), entry_ids, now=web.now())
        flash(f"{result['done']} signaal/signalen van absoluut verzuim gemaakt."
              + (f" {len(result['refused'])} niet: " + "; ".join(result["refused"].values()) if result["refused"] else ""))
    return redirect(url_for("intake.vangnet_round", round_id=round_id))
