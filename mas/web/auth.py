"""Log in (password + TOTP code), log out (POST), change password, enrol through an invitation link."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import login_user, logout_user

from mas.services import accounts
from mas.services import auth as auth_service
from mas.services.errors import NotFound, ValidationError
from mas.web import context as web
from mas.web.forms import field_errors
from mas.web.security import roles, safe_next
from mas.workflows import Role

bp = Blueprint("auth", __name__)


def home_for(role: str) -> str:
    return {Role.PARTNER: url_for("partners.steps"), Role.ADMIN: url_for("beheer.users"),
            Role.SWV_RAPPORTEUR: url_for("rapportage.swv")}.get(role, url_for("cases.index"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    require_totp = current_app.extensions["mas"]["require_totp"]
    if request.method == "GET":
        return render_template("auth/login.html", require_totp=require_totp, email="", error=None,
                               next=safe_next(request.args.get("next")))
    email = request.form.get("email", "")
    target = safe_next(request.form.get("next"))
    settings = current_app.extensions["mas"]["settings"]
    try:  # each attempt is counted in the service's own transaction, committed even on failure
        user_id = auth_service.authenticate(web.db(), email=email, password=request.form.get("password", ""),
                                            code=request.form.get("code"), now=web.now(), address=request.remote_addr,
                                            require_totp=require_totp, limits=settings.login)
    except auth_service.LoginFailed as failed:
        error = failed.message
        user_id = None
    else:
        with web.db().begin() as conn:
            token = auth_service.start_session(conn, user_id, web.now())
    if user_id is None:
        return render_template("auth/login.html", require_totp=require_totp, email=email, error=error,
                               next=target), 401
    session.clear()  # a fresh session at login
    found = auth_service.load_session(web.db(), token, web.now())
    from mas.web import LoginUser

    login_user(LoginUser(found), remember=False)
    return redirect(target or home_for(found.actor.role))


@bp.post("/logout")
@roles(*Role)
def logout():
    from flask import g

    with web.db().begin() as conn:
        auth_service.end_session(conn, g.mas_user.token, web.now())
    logout_user()
    session.clear()
    flash("U bent uitgelogd.")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@roles(*Role)
def account():
    errors = {}
    if request.method == "POST":
        try:
            with web.db().begin() as conn:
                auth_service.change_password(conn, web.actor().id, current=request.form.get("current", ""),
                                             new=request.form.get("new", ""), now=web.now())
        except ValidationError as exc:
            errors = exc.errors or {"new": exc.message}
        else:
            logout_user()
            session.clear()
            flash("Uw wachtwoord is gewijzigd. Log opnieuw in; al uw sessies zijn beëindigd.")
            return redirect(url_for("auth.login"))
    return render_template("auth/account.html", errors=errors), (422 if errors else 200)


def _enrol_page(token: str, errors: dict, status: int):
    try:
        with web.db().read() as conn:
            found = accounts.open_enrolment(conn, token, web.now())
    except NotFound as exc:
        return render_template("error.html", title="Link werkt niet", message=exc.message), 404
    return render_template("auth/enrol.html", found=found, uri=accounts.provisioning_uri(found), errors=errors,
                           require_totp=current_app.extensions["mas"]["require_totp"]), status


@bp.route("/enrol/<token>", methods=["GET", "POST"])
def enrol(token: str):
    """Public: the invitation link. The person sets a password and sees their two-factor key
    here, and nowhere else; the link works once and expires."""
    if request.method == "GET":
        return _enrol_page(token, {}, 200)
    errors = {}
    if request.form.get("password", "") != request.form.get("password_again", ""):
        errors["password_again"] = "De twee wachtwoorden zijn niet gelijk."
    try:
        if errors:
            raise ValidationError("Uw account is nog niet klaar.", errors=errors)
        with web.db().begin() as conn:
            accounts.enrol(conn, web.ctx(), token, password=request.form.get("password", ""),
                           code=request.form.get("code"), now=web.now(),
                           require_totp=current_app.extensions["mas"]["require_totp"])
    except NotFound as exc:
        return render_template("error.html", title="Link werkt niet", message=exc.message), 404
    except ValidationError as exc:
        return _enrol_page(token, field_errors(exc), 422)
    session.clear()
    flash("Uw account is klaar. Log in met uw wachtwoord en een code uit uw app.")
    return redirect(url_for("auth.login"))
