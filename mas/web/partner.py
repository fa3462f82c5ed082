"""Partner agencies: only the steps assigned to their own organisation."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from mas.services import extension_requests, queries
from mas.services import steps as step_service
from mas.services.errors import NotFound, ServiceError
from mas.web import context as web
from mas.web.forms import FormReader, field_errors
from mas.web.security import roles
from mas.workflows import Role

bp = Blueprint("partners", __name__, url_prefix="/partner")


def _render(errors=None, open_form=None, status=200):
    with web.db().begin() as conn:
        rows = queries.partner_steps(conn, web.actor(), web.now())
    return render_template("partner/steps.html", rows=rows, errors=errors or {}, open_form=open_form,
                           values=request.form if errors else {}, now=web.now()), status


@bp.get("")
@roles(Role.PARTNER)
def steps():
    return _render()


def _act(form_name: str, action, done: str):
    """One service call in one transaction; a refusal shows the page again with the form kept.
    NotFound (someone else's step) is a 404 and is logged by the app's handler."""
    try:
        with web.db().begin() as conn:
            action(conn)
    except NotFound:
        raise
    except ServiceError as exc:
        return _render(field_errors(exc), form_name, 409 if exc.code == "conflict" else 422)
    flash(done)
    return redirect(url_for("partners.steps"))


@bp.post("/steps/<int:step_id>/done")
@roles(Role.PARTNER)
def done(step_id: int):
    def run(conn):
        read = FormReader(request.form)
        version = read.integer("version", True, "De versie")
        read.check()
        step_service.complete_step(conn, web.actor(), step_id, now=web.now(), expected_version=version,
                                   note=request.form.get("note"))
    return _act(f"done-{step_id}", run, "De stap is afgerond. Dank u wel.")


@bp.post("/steps/<int:step_id>/extension")
@roles(Role.PARTNER)
def extension(step_id: int):
    def run(conn):
        read = FormReader(request.form)
        due = read.end_of("due_on", True, "De voorgestelde datum")
        read.check()
        extension_requests.request_extension(conn, web.actor(), step_id,
                                             reason=request.form.get("reason", ""), proposed_due_at=due, now=web.now())
    return _act(f"ext-{step_id}", run, "Uw verzoek om uitstel is verstuurd naar de casusregisseur.")
