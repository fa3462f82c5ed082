"""Accounts that admins manage without ever seeing a password or a two-factor secret.

An admin invites a person: the account has no password and no secret until the person
follows a single-use link that expires (sent by e-mail through the outbox), sets a password
and sees the TOTP key on that page alone. Re-enrolment works the same way: the old password
and key stop working at once. `mas user create` (mas.services.auth.create_user) stays for
the first admin, at the console.

Every creation or change of an account is logged (account_event) for the team it concerns,
and that team's coordinator hears of it by e-mail: an account with a team role reads the
team's cases, so an admin cannot give anyone that access unseen.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from mas.context import ServiceContext
from mas.models import AccountEvent, Enrolment, Team, User
from mas.notifications import links, outbox
from mas.services import auth
from mas.services.actors import Actor
from mas.services.admin import require_admin
from mas.services.errors import Forbidden, NotFound, ValidationError
from mas.services.inputs import FIELD_LIMITS, text_errors
from mas.services.team_contacts import coordinator_recipients
from mas.workflows import ROLE_LABELS, Role
from mas.workflows.roles import TEAM_ROLES

ENROLMENT_VALID = timedelta(days=3)
_u, _en, _ae, _t = User.__table__, Enrolment.__table__, AccountEvent.__table__, Team.__table__


def _team_of(role: str, team_id: int | None) -> int | None:
    return team_id if role in TEAM_ROLES else None


def _record(conn: Connection, ctx: ServiceContext, actor: Actor | None, user, kind: str, teams, now: datetime,
            data: dict | None = None, tell: bool = True) -> None:
    """One log row per team the change concerns (or one without a team), and each team's
    coordinator told by e-mail; never the account itself about itself."""
    for team_id in sorted({t for t in teams if t is not None}) or [None]:
        event_id = conn.execute(_ae.insert().returning(_ae.c.id), {
            "at": now, "actor_id": actor.id if actor else None, "user_id": user.id, "team_id": team_id, "kind": kind,
            "data": data,
        }).scalar_one()
        if team_id is None or not tell:
            continue
        context = {"change": kind.replace("_", " "), "role": ROLE_LABELS.get(data.get("role"), "") if data else "",
                   "date": now.isoformat(), "link": outbox.team_link(ctx)}
        outbox.queue(conn, [
            outbox.row(ctx, key=f"account:{event_id}:{to.address}", template="account_changed", recipient=to.address,
                       context=context, case_id=None, now=now, not_before=now, role=str(to.role), user_id=to.user_id,
                       team_id=team_id)
            for to in coordinator_recipients(conn, team_id, leave_out=user.id)
        ])


def _send_link(conn: Connection, ctx: ServiceContext, actor: Actor | None, user, now: datetime, *,
               is_renewal: bool) -> None:
    """A fresh link (older ones stop working) and the secret the user will see on its page."""
    conn.execute(update(_en).where(_en.c.user_id == user.id, _en.c.used_at.is_(None)).values(used_at=now))
    nonce = secrets.token_urlsafe(16)
    token = links.enrolment_token(ctx.settings.secret_key, nonce)
    expires_at = now + ENROLMENT_VALID
    enrolment_id = conn.execute(_en.insert().returning(_en.c.id), {
        "user_id": user.id, "token_hash": links.token_hash(token), "totp_secret": pyotp.random_base32(),
        "created_by_id": actor.id if actor else None, "created_at": now, "expires_at": expires_at, "used_at": None,
    }).scalar_one()
    outbox.queue(conn, [outbox.row(
        ctx, key=f"enrolment:{enrolment_id}", template="enrolment", recipient=user.email, case_id=None, now=now,
        not_before=now, user_id=user.id,  # for this account only: dropped if it is switched off before it leaves
        context={"enrolment_nonce": nonce, "valid_until": expires_at.isoformat(), "is_renewal": is_renewal},
    )])


def _user(conn: Connection, user_id: int):
    row = conn.execute(select(_u).where(_u.c.id == user_id)).one_or_none()
    if row is None:
        raise NotFound("Gebruiker niet gevonden.")
    return row


def invite_user(conn: Connection, ctx: ServiceContext, actor: Actor, *, email: str, name: str, role: str,
                now: datetime, team_id: int | None = None, organisation_id: int | None = None) -> int:
    """An account without password or secret, and an enrolment link to the person's own address."""
    require_admin(actor)
    email = (email or "").strip().lower()
    errors = auth.account_errors(conn, email=email, role=role, team_id=team_id, organisation_id=organisation_id)
    if not (name or "").strip():
        errors["name"] = "Vul een naam in."
    errors.update({k: v for k, v in text_errors({"name": name}, FIELD_LIMITS).items() if k not in errors})
    if errors:
        raise ValidationError("Het account kan zo niet worden aangemaakt.", errors=errors)
    user_id = auth.insert_user(conn, {
        "email": email, "name": name.strip(), "role": role, "team_id": team_id, "organisation_id": organisation_id,
        "password_hash": None, "totp_secret": None, "failed_logins": 0, "is_active": True, "created_at": now,
    })
    user = _user(conn, user_id)
    _send_link(conn, ctx, actor, user, now, is_renewal=False)
    _record(conn, ctx, actor, user, "aangemaakt", [_team_of(role, team_id)], now,
            {"role": role, "team_id": team_id, "organisation_id": organisation_id})
    return user_id


def record_console_account(conn: Connection, ctx: ServiceContext, user_id: int, now: datetime) -> None:
    """`mas user create` made an account at the console: logged and told like any other."""
    user = _user(conn, user_id)
    _record(conn, ctx, None, user, "aangemaakt", [_team_of(user.role, user.team_id)], now,
            {"role": user.role, "team_id": user.team_id, "organisation_id": user.organisation_id, "console": True})


def reenrol(conn: Connection, ctx: ServiceContext, actor: Actor, user_id: int, *, now: datetime) -> None:
    """The password and key stop working now; the person sets new ones through a fresh link."""
    require_admin(actor)
    user = _user(conn, user_id)
    if user.id == actor.id:
        raise ValidationError("U kunt uzelf niet opnieuw laten inschrijven; vraag een andere beheerder.", field="form")
    if not user.is_active:
        raise ValidationError("Schakel het account eerst in.", field="form")
    conn.execute(update(_u).where(_u.c.id == user.id).values(password_hash=None, totp_secret=None, totp_last_step=None))
    auth.end_all_sessions(conn, user.id, now, "opnieuw uitgenodigd")
    _send_link(conn, ctx, actor, user, now, is_renewal=True)
    _record(conn, ctx, actor, user, "opnieuw_uitgenodigd", [_team_of(user.role, user.team_id)], now,
            {"role": user.role})


def change_user(conn: Connection, ctx: ServiceContext, actor: Actor, user_id: int, *, name: str, role: str,
                now: datetime, team_id: int | None = None, organisation_id: int | None = None) -> None:
    """An admin changes an account's name, role, team or organisation (not its address: that
    is who receives the enrolment links). Both the old and the new team hear of it."""
    require_admin(actor)
    user = _user(conn, user_id)
    errors = auth.account_errors(conn, email=user.email, role=role, team_id=team_id, organisation_id=organisation_id,
                                 user_id=user.id)
    if not (name or "").strip():
        errors["name"] = "Vul een naam in."
    if user.id == actor.id and role != user.role:
        errors["role"] = "U kunt uw eigen rol niet wijzigen; vraag een andere beheerder."
    if errors:
        raise ValidationError("Het account kan zo niet worden opgeslagen.", errors=errors)
    before = {"role": user.role, "team_id": user.team_id, "organisation_id": user.organisation_id}
    after = {"role": role, "team_id": team_id, "organisation_id": organisation_id}
    if before == after and name.strip() == user.name:
        raise ValidationError("Er is niets gewijzigd.", field="form")
    conn.execute(update(_u).where(_u.c.id == user.id).values(name=name.strip(), **after))
    still = team_id if role == Role.COORDINATOR else None  # the team it may still coordinate
    conn.execute(update(_t).where(_t.c.coordinator_id == user.id, _t.c.id != (still or 0)).values(coordinator_id=None))
    _record(conn, ctx, actor, user, "gewijzigd", [_team_of(user.role, user.team_id), _team_of(role, team_id)], now,
            {**after, "before": before})


def set_active(conn: Connection, ctx: ServiceContext, actor: Actor, user_id: int, *, is_active: bool,
               now: datetime) -> None:
    """Switch an account on or off (mas.services.auth.set_active), logged and told."""
    user = _user(conn, user_id) if actor.role == Role.ADMIN else None
    auth.set_active(conn, actor, user_id, is_active=is_active, now=now)
    if user is not None and user.is_active != is_active:
        _record(conn, ctx, actor, user, "ingeschakeld" if is_active else "uitgeschakeld",
                [_team_of(user.role, user.team_id)], now, {"role": user.role})


def unlock(conn: Connection, ctx: ServiceContext, actor: Actor, user_id: int, *, now: datetime) -> None:
    """Lift a login lock before it runs out (mas.services.auth.unlock), logged."""
    user = _user(conn, user_id) if actor.role == Role.ADMIN else None
    auth.unlock(conn, actor, user_id)
    if user is not None:
        _record(conn, ctx, actor, user, "ontgrendeld", [_team_of(user.role, user.team_id)], now, {"role": user.role},
                tell=False)


# -- the person's own side ----------------------------------------------------------------

_ENROLMENT = (select(_en.c.id, _en.c.totp_secret, _en.c.expires_at, _u.c.id.label("user_id"), _u.c.email, _u.c.name,
                     _u.c.role, _u.c.team_id)
              .join(_u, _u.c.id == _en.c.user_id))


def open_enrolment(conn: Connection, token: str, now: datetime):
    """The enrolment a link names, if it is unused, unexpired and its account is on; else NotFound
    (one answer for every reason: a link that does not work says nothing about the account)."""
    row = conn.execute(_ENROLMENT.where(_en.c.token_hash == links.token_hash(token or ""), _en.c.used_at.is_(None),
                                        _en.c.expires_at > now, _u.c.is_active.is_(True))).one_or_none()
    if row is None:
        raise NotFound("Deze link werkt niet (meer). Vraag de beheerder om een nieuwe.")
    return row


def enrol(conn: Connection, ctx: ServiceContext, token: str, *, password: str, code: str | None, now: datetime,
          require_totp: bool = True) -> int:
    """The person sets their password and confirms the key with a code; the link is used up."""
    found = open_enrolment(conn, token, now)
    errors = {}
    try:
        auth.check_password_strength(password)
    except ValidationError as exc:
        errors.update(exc.errors)
    step = auth._totp_step(found.totp_secret, code or "", now)
    if require_totp and step is None:
        errors["code"] = "Deze code klopt niet. Voer de zes cijfers in die uw app nu toont."
    if errors:
        raise ValidationError("Uw account is nog niet klaar.", errors=errors)
    claimed = conn.execute(update(_en).where(_en.c.id == found.id, _en.c.used_at.is_(None), _en.c.expires_at > now)
                           .values(used_at=now)).rowcount
    if claimed != 1:
        raise NotFound("Deze link werkt niet (meer). Vraag de beheerder om een nieuwe.")
    conn.execute(update(_u).where(_u.c.id == found.user_id).values(
        password_hash=auth._hasher.hash(password), totp_secret=found.totp_secret, totp_last_step=step))
    auth.end_all_sessions(conn, found.user_id, now, "ingeschreven")
    user = _user(conn, found.user_id)
    _record(conn, ctx, Actor(id=user.id, role=user.role, team_id=user.team_id, organisation_id=user.organisation_id),
            user, "ingeschreven", [_team_of(user.role, user.team_id)], now, {"role": user.role}, tell=False)
    return found.user_id


def provisioning_uri(found) -> str:
    return auth.provisioning_uri(found.totp_secret, found.email)


# -- the coordinator's view of the team -----------------------------------------------------

def team_accounts(conn: Connection, actor: Actor, limit: int = 200) -> dict:
    """Who has access to the team's cases, and every change to those accounts (newest first)."""
    if actor.role != Role.COORDINATOR or actor.team_id is None:
        raise Forbidden("Alleen de coördinator van het team ziet dit.")
    actor_user = User.__table__.alias("actor_user")
    members = conn.execute(select(_u.c.id, _u.c.name, _u.c.email, _u.c.role, _u.c.is_active,
                                  _u.c.password_hash.is_not(None).label("is_enrolled"))
                           .where(_u.c.team_id == actor.team_id, _u.c.role.in_(list(TEAM_ROLES)))
                           .order_by(_u.c.role, _u.c.name)).all()
    total = conn.execute(select(func.count()).select_from(_ae).where(_ae.c.team_id == actor.team_id)).scalar_one()
    events = conn.execute(
        select(_ae.c.at, _ae.c.kind, _ae.c.data, _u.c.name.label("account"), _u.c.email,
               actor_user.c.name.label("by"))
        .select_from(_ae.join(_u, _u.c.id == _ae.c.user_id).outerjoin(actor_user, actor_user.c.id == _ae.c.actor_id))
        .where(_ae.c.team_id == actor.team_id).order_by(_ae.c.at.desc(), _ae.c.id.desc()).limit(limit)).all()
    return {"members": members, "events": events, "total": total}
