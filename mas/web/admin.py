"""Beheer: users, teams, organisations, mail health and undelivered mail, ladder coverage.

Admins see no case content: no youth, no journal; undelivered mail shows its reference-free
envelope (recipient, kind, error) only. Nor do they see anyone's password or two-factor
key: they invite a person, who sets both through a link sent to their own address.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from mas.services import accounts
from mas.services import admin as admin_service
from mas.services import tokens as token_service
from mas.services.errors import NotFound, ServiceError
from mas.values import optional_int
from mas.web import context as web
from mas.web.forms import FormReader, field_errors
from mas.web.security import roles
from mas.workflows import Role
from mas.workflows.vocabulary import ORGANISATION_KINDS

bp = Blueprint("beheer", __name__, url_prefix="/admin")


def _page(template: str, errors=None, status=200, **extra):
    with web.db().read() as conn:
        data = admin_service.overview(conn, web.actor())
    return render_template(template, errors=errors or {}, values=request.form if errors else {},
                           kinds=ORGANISATION_KINDS, **data, **extra), status


@bp.get("/users")
@roles(Role.ADMIN)
def users():
    return _page("admin/users.html")


@bp.post("/users")
@roles(Role.ADMIN)
def create_user():
    read = FormReader(request.form)
    team_id, org_id = read.integer("team_id"), read.integer("organisation_id")
    try:
        read.check()
        with web.db().begin() as conn:
            accounts.invite_user(conn, web.ctx(), web.actor(), email=request.form.get("email", ""),
                                 name=request.form.get("name", ""), role=request.form.get("role", ""), now=web.now(),
                                 team_id=team_id, organisation_id=org_id)
    except ServiceError as exc:
        return _page("admin/users.html", field_errors(exc), 422)
    flash("Account aangemaakt. De gebruiker krijgt een e-mail met een link om zelf een wachtwoord en "
          "tweestapsverificatie in te stellen.")
    return redirect(url_for("beheer.users"))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles(Role.ADMIN)
def edit_user(user_id: int):
    errors, status = {}, 200
    if request.method == "POST":
        read = FormReader(request.form)
        team_id, org_id = read.integer("team_id"), read.integer("organisation_id")
        try:
            read.check()
            with web.db().begin() as conn:
                accounts.change_user(conn, web.ctx(), web.actor(), user_id, name=request.form.get("name", ""),
                                     role=request.form.get("role", ""), now=web.now(), team_id=team_id,
                                     organisation_id=org_id)
        except NotFound:
            raise
        except ServiceError as exc:
            errors, status = field_errors(exc), 422
        else:
            flash("Account opgeslagen.")
            return redirect(url_for("beheer.users"))
    with web.db().read() as conn:
        data = admin_service.overview(conn, web.actor())
    account = next((u for u in data["users"] if u.id == user_id), None)
    if account is None:
        raise NotFound("Gebruiker niet gevonden.")
    values = request.form if errors else {k: v for k, v in account._mapping.items() if v is not None}
    return render_template("admin/user_edit.html", account=account, errors=errors, values=values,
                           teams=data["teams"], organisations=data["organisations"], now=web.now()), status


@bp.post("/users/<int:user_id>/reenrol")
@roles(Role.ADMIN)
def reenrol(user_id: int):
    try:
        with web.db().begin() as conn:
            accounts.reenrol(conn, web.ctx(), web.actor(), user_id, now=web.now())
    except NotFound:
        raise
    except ServiceError as exc:
        flash(exc.message)
        return redirect(url_for("beheer.users"))
    flash("Het wachtwoord en de sleutel werken niet meer; de gebruiker krijgt een e-mail met een nieuwe link.")
    return redirect(url_for("beheer.users"))


@bp.post("/users/<int:user_id>/unlock")
@roles(Role.ADMIN)
def unlock(user_id: int):
    try:
        with web.db().begin() as conn:
            accounts.unlock(conn, web.ctx(), web.actor(), user_id, now=web.now())
    except NotFound:
        raise
    except ServiceError as exc:
        flash(exc.message)
        return redirect(url_for("beheer.users"))
    flash("Het account is ontgrendeld; de gebruiker kan weer inloggen.")
    return redirect(url_for("beheer.edit_user", user_id=user_id))


@bp.post("/users/<int:user_id>/active")
@roles(Role.ADMIN)
def set_active(user_id: int):
    active = request.form.get("active") == "1"
    try:
        with web.db().begin() as conn:
            accounts.set_active(conn, web.ctx(), web.actor(), user_id, is_active=active, now=web.now())
    except ServiceError as exc:
        flash(exc.message)
        return redirect(url_for("beheer.users"))
    flash("Account ingeschakeld." if active else "Account uitgeschakeld; alle sessies zijn beëindigd.")
    return redirect(url_for("beheer.users"))


@bp.get("/teams")
@roles(Role.ADMIN)
def teams():
    return _page("admin/teams.html")


@bp.post("/teams")
@roles(Role.ADMIN)
def create_team():
    form = request.form
    try:
        with web.db().begin() as conn:
            admin_service.create_team(
                conn, web.actor(), name=form.get("name", ""), default_region=form.get("default_region", ""),
                municipalities=form.get("municipalities", "").split(","), now=web.now(),
                bestuurlijk_contact_name=form.get("bestuurlijk_contact_name") or None,
                bestuurlijk_contact_email=form.get("bestuurlijk_contact_email") or None)
    except ServiceError as exc:
        return _page("admin/teams.html", field_errors(exc), 422)
    flash("Team aangemaakt.")
    return redirect(url_for("beheer.teams"))


@bp.get("/organisations")
@roles(Role.ADMIN)
def organisations():
    return _page("admin/organisations.html")


@bp.post("/organisations")
@roles(Role.ADMIN)
def create_organisation():
    form = request.form
    fields = {k: form.get(k) for k in ("brin", "municipality", "contact_name", "contact_email", "escalation_name",
                                       "escalation_email")}
    try:
        with web.db().begin() as conn:
            admin_service.create_organisation(conn, web.actor(), name=form.get("name", ""), kind=form.get("kind", ""),
                                              now=web.now(), **fields)
    except ServiceError as exc:
        return _page("admin/organisations.html", field_errors(exc), 422)
    flash("Organisatie aangemaakt.")
    return redirect(url_for("beheer.organisations"))


@bp.route("/organisations/<int:org_id>", methods=["GET", "POST"])
@roles(Role.ADMIN)
def edit_organisation(org_id: int):
    errors, status = {}, 200
    if request.method == "POST":
        form = request.form
        try:
            with web.db().begin() as conn:
                admin_service.update_organisation(
                    conn, web.actor(), org_id, name=form.get("name", ""), kind=form.get("kind", ""),
                    is_active=form.get("is_active") == "1",
                    **{k: form.get(k) for k in ("brin", "municipality", "contact_name", "contact_email",
                                                "escalation_name", "escalation_email")})
        except NotFound:
            raise
        except ServiceError as exc:
            errors, status = field_errors(exc), 422
        else:
            flash("Organisatie opgeslagen.")
            return redirect(url_for("beheer.organisations"))
    with web.db().read() as conn:
        org = admin_service.get_organisation(conn, web.actor(), org_id)
    values = request.form if errors else {k: ("1" if v is True else v) for k, v in org._mapping.items() if v is not None}
    return render_template("admin/organisation_edit.html", org=org, errors=errors, values=values,
                           kinds=ORGANISATION_KINDS), status


@bp.route("/teams/<int:team_id>", methods=["GET", "POST"])
@roles(Role.ADMIN)
def edit_team(team_id: int):
    errors, status = {}, 200
    if request.method == "POST":
        read = FormReader(request.form)
        coordinator_id = read.integer("coordinator_id")
        try:
            read.check()
            with web.db().begin() as conn:
                admin_service.update_team(conn, web.actor(), team_id, coordinator_id=coordinator_id,
                                          bestuurlijk_contact_name=request.form.get("bestuurlijk_contact_name"),
                                          bestuurlijk_contact_email=request.form.get("bestuurlijk_contact_email"))
        except NotFound:
            raise
        except ServiceError as exc:
            errors, status = field_errors(exc), 422
        else:
            flash("Team opgeslagen.")
            return redirect(url_for("beheer.teams"))
    with web.db().read() as conn:
        team, coordinators = admin_service.get_team(conn, web.actor(), team_id)
    values = request.form if errors else {k: v for k, v in team._mapping.items() if v is not None}
    return render_template("admin/team_edit.html", team=team, coordinators=coordinators, errors=errors,
                           values=values), status


@bp.app_context_processor
def _mail_banner():
    """Admin pages warn when mail has been failing longer than the threshold."""
    from flask import g

    user = g.get("mas_user")
    if user is None or user.actor.role != Role.ADMIN or not request.blueprint == bp.name:
        return {}
    with web.db().read() as conn:
        return {"mail_alert": admin_service.mail_alert(conn, web.actor(), web.ctx(), web.now())}


def _page_number(text: str | None) -> int:
    return optional_int(text, 1, low=1, high=100_000)


@bp.get("/outbox")
@roles(Role.ADMIN)
def outbox():
    args = request.args
    with web.db().read() as conn:
        data = admin_service.mail_overview(conn, web.actor(), web.ctx(), web.now(), page=_page_number(args.get("pagina")),
                                           template=args.get("soort") or None, recipient=args.get("aan") or None)
    return render_template("admin/outbox.html", **data)


@bp.post("/outbox/<int:message_pk>/resend")
@roles(Role.ADMIN)
def resend(message_pk: int):
    with web.db().begin() as conn:
        admin_service.resend_mail(conn, web.actor(), web.ctx(), message_pk, web.now())
    flash("Het bericht staat weer in de wachtrij.")
    return redirect(url_for("beheer.outbox"))


@bp.post("/outbox/resend")
@roles(Role.ADMIN)
def resend_many():
    """Resend the ticked messages, or (alles=1) every message the filter shows."""
    form = request.form
    if form.get("alles") == "1":
        ids = None
    else:
        ids = [i for i in (optional_int(v, low=1) for v in form.getlist("bericht")) if i is not None]
    with web.db().begin() as conn:
        count = admin_service.resend_dead(conn, web.actor(), web.ctx(), web.now(), ids=ids,
                                          template=form.get("soort") or None, recipient=form.get("aan") or None)
    flash(f"{count} bericht(en) staan weer in de wachtrij." if count else "Er is geen bericht gekozen.")
    return redirect(url_for("beheer.outbox", soort=form.get("soort") or None, aan=form.get("aan") or None))


@bp.get("/bereikbaarheid")
@roles(Role.ADMIN)
def coverage():
    with web.db().read() as conn:
        gaps = admin_service.ladder_coverage(conn, web.actor(), web.ctx())
    return render_template("admin/coverage.html", gaps=gaps)


def _tokens_page(errors=None, status=200, made=None):
    with web.db().read() as conn:
        data = token_service.overview(conn, web.actor())
    return render_template("admin/tokens.html", errors=errors or {}, values=request.form if errors else {},
                           scopes=token_service.SCOPES, made=made, now=web.now(), **data), status


@bp.get("/tokens")
@roles(Role.ADMIN)
def tokens():
    return _tokens_page()


@bp.post("/tokens")
@roles(Role.ADMIN)
def create_token():
    """A token for an organisation's system; shown on this page once."""
    read = FormReader(request.form)
    organisation_id, days = read.integer("organisation_id", True, "De organisatie"), read.integer("days")
    try:
        read.check()
        with web.db().begin() as conn:
            made = token_service.create_service_token(
                conn, web.actor(), organisation_id=organisation_id, name=request.form.get("name", ""),
                scopes=request.form.getlist("scopes"), now=web.now(), days=days)
    except ServiceError as exc:
        return _tokens_page(field_errors(exc), 422)
    return _tokens_page(made=made)


@bp.post("/tokens/<int:token_id>/revoke")
@roles(Role.ADMIN)
def revoke_token(token_id: int):
    with web.db().begin() as conn:
        token_service.revoke_token(conn, web.actor(), token_id, now=web.now())
    flash("Het token is ingetrokken; het werkt niet meer.")
    return redirect(url_for("beheer.tokens"))
