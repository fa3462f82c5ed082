"""The casusregisseur's pages: werkvoorraad, new signal, the case page and its actions.

Views parse, call one service inside one transaction, and redirect; on a refused action the
case page is shown again with the errors beside the fields and what was typed kept.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from mas.dates import local_date
from mas.services import cases as case_service
from mas.services import doorzetten as dz
from mas.services import extension_requests, queries, steps, timekeeping, transfers, youth_records
from mas.services.audit import log_denied, who_looked
from mas.services.errors import Conflict, Forbidden, NotFound, ServiceError, ValidationError
from mas.services.inputs import GuardianInput, SignalInput, YouthInput, validate_signal
from mas.values import optional_int
from mas.web import context as web
from mas.web.forms import FormReader, field_errors
from mas.web.security import roles
from mas.workflows import DIRECTORS, Role
from mas.workflows.vocabulary import SIGNAL_KINDS, SIGNAL_SOURCES

bp = Blueprint("cases", __name__, url_prefix="/cases")


def _filters() -> queries.Filters:
    args = request.args
    return queries.Filters(scope=args.get("scope", "mine"), state=args.get("state") or None,
                         school_id=optional_int(args.get("school"), low=1), overdue=args.get("overdue") == "1",
                         q=(args.get("q") or "").strip()[:200] or None,
                         page=optional_int(args.get("page"), 1, low=1, high=100_000))


@bp.get("")
@roles(*DIRECTORS)
def index():
    filters = _filters()
    # Only a search is logged (a write); the plain list is read without taking the write lock.
    with (web.db().begin() if filters.q else web.db().read()) as conn:
        data = queries.werkvoorraad(conn, web.ctx(), web.actor(), filters, web.now())
    return render_template("cases/list.html", filters=filters, workflow=web.ctx().workflow, **data)


def _signal_from_form(form) -> tuple[YouthInput, SignalInput, dict]:
    read = FormReader(form)
    guardians = ()
    if read.text("guardian_name"):
        guardians = (GuardianInput(name=read.text("guardian_name"), relation=read.text("guardian_relation") or "ouder",
                                   phone=read.text("guardian_phone"), email=read.text("guardian_email"),
                                   has_custody=form.get("guardian_custody") == "1"),)
    youth = YouthInput(
        given_name=read.text("given_name") or "", family_name=read.text("family_name") or "",
        birth_on=read.date("birth_on", True, "Geboortedatum"), bsn=read.text("bsn"),
        onderwijsnummer=read.text("onderwijsnummer"), municipality=read.text("municipality"),
        school_id=read.integer("school_id"), education_kind=read.text("education_kind"),
        education_level=read.text("education_level"), guardians=guardians,
    )
    signal = SignalInput(
        kind=form.get("kind", ""), source=form.get("source", ""), reporter_name=read.text("reporter_name"),
        reporter_function=read.text("reporter_function"), reporter_phone=read.text("reporter_phone"),
        reporter_email=read.text("reporter_email"), period_first_on=read.date("period_first_on"),
        period_last_on=read.date("period_last_on"), hours_missed=read.number("hours_missed"),
        description=read.text("description"),
    )
    extra = {"first_absent_on": read.date("first_absent_on"), "casusregisseur_id": read.integer("casusregisseur_id")}
    # Every wrong field at once: what could not be read, and what the youth and melding rules refuse.
    validate_signal(youth, signal, local_date(web.now()), extra["first_absent_on"], errors=read.errors,
                    limits=web.ctx().settings.input)
    return youth, signal, extra


@bp.route("/new", methods=["GET", "POST"])
@roles(*DIRECTORS)
def new():
    errors, status = {}, 200
    if request.method == "POST":
        try:
            youth, signal, extra = _signal_from_form(request.form)
            with web.db().begin() as conn:
                result = case_service.receive_signal(
                    conn, web.ctx(), web.actor(), youth, signal, team_id=web.actor().team_id, now=web.now(),
                    casusregisseur_id=extra["casusregisseur_id"], first_absent_on=extra["first_absent_on"])
        except ServiceError as exc:
            errors, status = field_errors(exc), 422
        else:
            if result.routed:  # another team's case: the sender learns nothing of it
                flash("Het signaal is ontvangen.")
                return redirect(url_for("cases.index"))
            flash(f"Het signaal is toegevoegd aan de lopende zaak {result.reference}." if result.joined
                  else f"Zaak {result.reference} is geopend.")
            return redirect(url_for("cases.show", reference=result.reference))
    with web.db().read() as conn:
        choices = queries.new_signal_choices(conn, web.actor())
    return render_template("cases/new.html", errors=errors, values=request.form, kinds=SIGNAL_KINDS,
                           sources=SIGNAL_SOURCES, **choices), status


def _render_case(reference: str, *, errors=None, form=None, values=None, conflict=None, status=200):
    with web.db().begin() as conn:
        data = queries.case_page(conn, web.ctx(), web.actor(), reference, web.now())
    if data.get("handed_over"):  # a team that handed the case over reads what it entered, nothing else
        return render_template("cases/handed_over.html", kinds=SIGNAL_KINDS, sources=SIGNAL_SOURCES, **data), status
    return render_template("cases/show.html", errors=errors or {}, open_form=form, values=values or {},
                           conflict=conflict, ctx=web.ctx(), now=web.now(), kinds=SIGNAL_KINDS, sources=SIGNAL_SOURCES,
                           **data), status


@bp.get("/<reference>")
@roles(*DIRECTORS)
def show(reference: str):
    return _render_case(reference)


def _act(reference: str, form_name: str, action, done: str, then: str | None = None):
    """Run one service action on the case; on refusal show the page again with the form kept.
    Afterwards the case page, or `then`."""
    case_id = None
    try:
        with web.db().begin() as conn:
            case_id = case_service.case_id_for(conn, reference)
            action(conn, case_id)
    except NotFound:
        raise
    except Conflict as exc:
        seen = request.form.get("seen_event_id", "0")
        with web.db().read() as conn:
            changes = queries.changes_since(conn, web.actor(), case_id, optional_int(seen, 0))
        return _render_case(reference, form=form_name, values=request.form, status=409,
                            conflict={"message": exc.message, "changes": changes})
    except ServiceError as exc:
        if isinstance(exc, Forbidden):  # a colleague who may read the case but not direct it: logged with it
            with web.db().begin() as conn:
                log_denied(conn, web.actor(), web.now(), path=request.path, method=request.method,
                           reference=reference, step_id=(request.view_args or {}).get("step_id"))
        return _render_case(reference, form=form_name, values=request.form, status=422,
                            errors=field_errors(exc))
    flash(done)
    return redirect(then or url_for("cases.show", reference=reference))



def _version() -> int | None:
    return optional_int(request.form.get("version"), low=1)


@bp.post("/<reference>/transition/<trigger>")
@roles(*DIRECTORS)
def transition(reference: str, trigger: str):
    def run(conn, case_id):
        if _version() is None:
            raise ValidationError("Het formulier mist de versie van de zaak; laad de pagina opnieuw.", field="form")
        case_service.fire(conn, web.ctx(), web.actor(), case_id, trigger, now=web.now(), expected_version=_version(),
                          data=request.form.to_dict(), reason=request.form.get("reason"))
    return _act(reference, f"t-{trigger}", run, "De zaak is bijgewerkt.")


@bp.post("/<reference>/notes")
@roles(*DIRECTORS)
def note(reference: str):
    return _act(reference, "note", lambda conn, case_id: case_service.add_note(
        conn, web.actor(), case_id, request.form.get("text", ""), now=web.now()), "Notitie toegevoegd.")


@bp.post("/<reference>/route")
@roles(*DIRECTORS)
def route(reference: str):
    def run(conn, case_id):
        read = FormReader(request.form)
        pv_on = read.date("pv_on", False, "De datum van het proces-verbaal")
        read.check()
        case_service.change_route(conn, web.ctx(), web.actor(), case_id, request.form.get("route", ""),
                                  now=web.now(), expected_version=_version(), reason=request.form.get("reason", ""),
                                  pv_on=pv_on)
    return _act(reference, "route", run, "De route is gewijzigd.")


@bp.post("/<reference>/handover")
@roles(*DIRECTORS)
def handover(reference: str):
    def run(conn, case_id):
        read = FormReader(request.form)
        to_user = read.integer("to_user_id", True, "De nieuwe casusregisseur")
        read.check()
        case_service.hand_over(conn, web.actor(), case_id, to_user, now=web.now(),
                               expected_version=_version(), reason=request.form.get("reason"))
    return _act(reference, "handover", run, "De zaak is overgedragen.")


@bp.post("/<reference>/steps")
@roles(*DIRECTORS)
def assign_step(reference: str):
    def run(conn, case_id):
        read = FormReader(request.form)
        org = read.integer("organisation_id", True, "De organisatie")
        due = read.end_of("due_on", True, "De uiterste datum")
        read.check()
        steps.assign_step(conn, web.ctx(), web.actor(), case_id, organisation_id=org, title=request.form.get("title", ""),
                          description=request.form.get("description"), due_at=due, now=web.now())
    return _act(reference, "assign-step", run, "De stap is toegewezen.")


@bp.post("/<reference>/steps/<int:step_id>/reassign")
@roles(*DIRECTORS)
def reassign_step(reference: str, step_id: int):
    def run(conn, case_id):
        read = FormReader(request.form)
        org = read.integer("organisation_id", True, "De organisatie")
        due = read.end_of("due_on", False)
        version = read.integer("step_version", True, "De versie van de stap")
        read.check()
        steps.reassign_step(conn, web.ctx(), web.actor(), step_id, organisation_id=org, due_at=due, now=web.now(),
                            expected_version=version, reason=request.form.get("reason"), case_id=case_id)
    return _act(reference, f"reassign-{step_id}", run, "De stap is overgedragen.")



@bp.post("/<reference>/deadlines/<int:deadline_id>/extend")
@roles(*DIRECTORS)
def extend(reference: str, deadline_id: int):
    def run(conn, case_id):
        read = FormReader(request.form)
        due = read.end_of("due_on", True, "De nieuwe datum")
        read.check()
        timekeeping.extend_deadline(conn, web.ctx(), web.actor(), deadline_id, due_at=due,
                                    reason=request.form.get("reason", ""), now=web.now(), case_id=case_id)
    return _act(reference, f"extend-{deadline_id}", run, "De termijn is verlengd.")



@bp.post("/<reference>/first-day")
@roles(*DIRECTORS)
def correct_first_day(reference: str):
    def run(conn, case_id):
        read = FormReader(request.form)
        day = read.date("first_absent_on", True, "De eerste dag zonder onderwijs")
        read.check()
        timekeeping.correct_first_day(conn, web.ctx(), web.actor(), case_id, first_absent_on=day,
                                      reason=request.form.get("reason", ""), now=web.now(),
                                      expected_version=_version())
    return _act(reference, "first-day", run, "De eerste dag zonder onderwijs is gecorrigeerd; de klokken zijn "
                                             "herberekend.")


@bp.post("/<reference>/suspensions")
@roles(*DIRECTORS)
def suspend(reference: str):
    def run(conn, case_id):
        read = FormReader(request.form)
        first = read.date("first_on", True, "De begindatum")
        last = read.date("last_on")
        read.check()
        timekeeping.suspend(conn, web.ctx(), web.actor(), case_id, first_on=first, last_on=last,
                            reason=request.form.get("reason", ""), now=web.now())
    return _act(reference, "suspend", run, "De opschorting is vastgelegd.")


@bp.post("/<reference>/suspensions/<int:suspension_id>/resume")
@roles(*DIRECTORS)
def resume(reference: str, suspension_id: int):
    def run(conn, case_id):
        read = FormReader(request.form)
        last = read.date("last_on", True, "De laatste opgeschorte dag")
        read.check()
        timekeeping.resume(conn, web.ctx(), web.actor(), suspension_id, last_on=last, now=web.now(), case_id=case_id)
    return _act(reference, f"resume-{suspension_id}", run, "De opschorting is beëindigd.")


@bp.post("/<reference>/doorzetten")
@roles(*DIRECTORS)
def doorzetten(reference: str):
    def run(conn, case_id):
        read = FormReader(request.form)
        due = read.end_of("due_on", True, "De nieuwe termijn")
        step_id = read.integer("step_id")
        read.check()
        dz.doorzetten(conn, web.ctx(), web.actor(), case_id, reason=request.form.get("reason", ""), due_at=due,
                      now=web.now(), step_id=step_id)
    return _act(reference, "dz", run, "Doorgezet: de escalatiecontactpersoon krijgt direct bericht.")


@bp.post("/<reference>/extension-requests/<int:request_id>")
@roles(*DIRECTORS)
def decide_extension(reference: str, request_id: int):
    approve = request.form.get("decision") == "approve"
    return _act(reference, f"request-{request_id}", lambda conn, case_id: extension_requests.decide_extension(
        conn, web.ctx(), web.actor(), request_id, approve=approve, now=web.now(), note=request.form.get("note"),
        case_id=case_id),
        "Uitstel toegestaan." if approve else "Uitstel geweigerd.")


@bp.post("/<reference>/transfer")
@roles(*DIRECTORS)
def transfer(reference: str):
    def run(conn, case_id):
        read = FormReader(request.form)
        team = read.integer("to_team_id", True, "Het team")
        read.check()
        transfers.transfer_case(conn, web.ctx(), web.actor(), case_id, team, reason=request.form.get("reason", ""),
                                now=web.now(), expected_version=_version())
    # Afterwards the werkvoorraad: the case page now shows only what this team entered.
    return _act(reference, "transfer", run, "De zaak is overgedragen aan het andere team.", url_for("cases.index"))


@bp.post("/<reference>/signals/<int:signal_id>")
@roles(*DIRECTORS)
def decide_signal(reference: str, signal_id: int):
    join = request.form.get("decision") == "join"
    return _act(reference, f"signal-{signal_id}", lambda conn, case_id: transfers.decide_signal(
        conn, web.actor(), case_id, signal_id, join=join, now=web.now(), reason=request.form.get("reason")),
        "Het signaal is aan de zaak toegevoegd." if join else "Het signaal is teruggestuurd.")


@bp.post("/<reference>/youth")
@roles(*DIRECTORS)
def correct_youth(reference: str):
    def run(conn, case_id):
        read = FormReader(request.form)
        changes = {"given_name": read.text("given_name"), "family_name": read.text("family_name"),
                   "birth_on": read.date("birth_on", True, "Geboortedatum"), "municipality": read.text("municipality"),
                   "school_id": read.integer("school_id"), "education_kind": read.text("education_kind"),
                   "education_level": read.text("education_level"),
                   "startkwalificatie_on": read.date("startkwalificatie_on"),
                   "school_years_completed": read.integer("school_years_completed")}
        guardian = None
        if read.text("guardian_name"):
            guardian = GuardianInput(name=read.text("guardian_name"), relation=read.text("guardian_relation") or "ouder",
                                     phone=read.text("guardian_phone"), email=read.text("guardian_email"),
                                     has_custody=request.form.get("guardian_custody") == "1")
        read.check()
        youth_records.correct_youth(conn, web.ctx(), web.actor(), case_service.get_case(conn, case_id), changes,
                                    now=web.now(), guardian=guardian)
    return _act(reference, "youth", run, "De gegevens van de jongere zijn bijgewerkt.")


@bp.get("/<reference>/access-log")
@roles(Role.COORDINATOR)
def access_log(reference: str):
    page = optional_int(request.args.get("page"), 1, low=1, high=100_000)
    with web.db().begin() as conn:
        data = queries.case_page(conn, web.ctx(), web.actor(), reference, web.now())
        if data.get("handed_over"):  # the log is the directing team's
            raise NotFound("Zaak niet gevonden.")
        log = who_looked(conn, data["case"].id, page)
    return render_template("cases/access_log.html", case=data["case"], **log)
