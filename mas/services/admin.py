"""Admins manage teams, organisations and users; they never read case content."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mas.context import ServiceContext
from mas.models import Organisation, Team, User, team_name_key
from mas.notifications import deadletters, outbox
from mas.services.actors import Actor
from mas.services.coverage import ladder_gaps
from mas.services.errors import Forbidden, NotFound, ValidationError
from mas.services.inputs import FIELD_LIMITS, email_error, text_errors
from mas.services.mail_status import mail_status
from mas.settings import REGIONS
from mas.workflows import Role
from mas.workflows.vocabulary import ORGANISATION_KINDS

_t, _o, _u = Team.__table__, Organisation.__table__, User.__table__


def require_admin(actor: Actor) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden("Alleen beheerders mogen dit doen.")


def create_team(conn: Connection, actor: Actor, *, name: str, default_region: str, municipalities: list[str],
                now: datetime, bestuurlijk_contact_name: str | None = None,
                bestuurlijk_contact_email: str | None = None) -> int:
    require_admin(actor)
    errors = {}
    if not (name or "").strip():
        errors["name"] = "Geef het team een naam."
    elif conn.execute(select(_t.c.id).where(_t.c.name_key == team_name_key(name))).first():
        errors["name"] = "Er is al een team met deze naam."
    if default_region not in REGIONS:
        errors["default_region"] = "Kies een vakantieregio."
    if email_error(bestuurlijk_contact_email):
        errors["bestuurlijk_contact_email"] = email_error(bestuurlijk_contact_email)
    errors.update({k: v for k, v in text_errors({"name": name, "bestuurlijk_contact_name": bestuurlijk_contact_name},
                                                 FIELD_LIMITS).items() if k not in errors})
    if errors:
        raise ValidationError("Het team kan zo niet worden aangemaakt.", errors=errors)
    try:
        return conn.execute(_t.insert().returning(_t.c.id), {
            "name": name.strip(), "name_key": team_name_key(name), "default_region": default_region,
            "municipalities": [m.strip() for m in municipalities if m.strip()],
            "bestuurlijk_contact_name": bestuurlijk_contact_name, "bestuurlijk_contact_email": bestuurlijk_contact_email,
            "created_at": now,
        }).scalar_one()
    except IntegrityError:  # the same name created at the same moment: the unique column decides
        raise ValidationError("Het team kan zo niet worden aangemaakt.",
                              errors={"name": "Er is al een team met deze naam."}) from None


def _organisation_errors(name: str, kind: str, fields: dict) -> dict:
    errors = {}
    if not (name or "").strip():
        errors["name"] = "Geef de organisatie een naam."
    if kind not in ORGANISATION_KINDS:
        errors["kind"] = "Kies een soort organisatie."
    for key in ("contact_email", "escalation_email"):
        if email_error(fields.get(key)):
            errors[key] = email_error(fields.get(key))
    texts = {"name": name, **{k: fields.get(k) for k in _ORGANISATION_FIELDS if not k.endswith("email")}}
    for key, message in text_errors(texts, FIELD_LIMITS).items():
        errors.setdefault(key, message)
    return errors


_ORGANISATION_FIELDS = ("brin", "municipality", "contact_name", "contact_email", "escalation_name", "escalation_email")


def update_organisation(conn: Connection, actor: Actor, organisation_id: int, *, name: str, kind: str,
                        is_active: bool, **fields) -> None:
    """Correct a partner's contacts (e.g. after undeliverable mail) or switch it off."""
    require_admin(actor)
    if not conn.execute(select(_o.c.id).where(_o.c.id == organisation_id)).first():
        raise NotFound("Organisatie niet gevonden.")
    errors = _organisation_errors(name, kind, fields)
    if errors:
        raise ValidationError("De organisatie kan zo niet worden opgeslagen.", errors=errors)
    values = {k: (fields.get(k) or "").strip() or None for k in _ORGANISATION_FIELDS}
    conn.execute(_o.update().where(_o.c.id == organisation_id).values(name=name.strip(), kind=kind,
                                                                      is_active=is_active, **values))


def update_team(conn: Connection, actor: Actor, team_id: int, *, coordinator_id: int | None,
                bestuurlijk_contact_name: str | None, bestuurlijk_contact_email: str | None) -> None:
    """Who the ladder reaches for this team: its coordinator and its bestuurlijk contact."""
    require_admin(actor)
    if not conn.execute(select(_t.c.id).where(_t.c.id == team_id)).first():
        raise NotFound("Team niet gevonden.")
    errors = {}
    if coordinator_id is not None and not conn.execute(select(_u.c.id).where(
            _u.c.id == coordinator_id, _u.c.team_id == team_id, _u.c.role == Role.COORDINATOR)).first():
        errors["coordinator_id"] = "Kies een coördinator uit dit team."
    if email_error(bestuurlijk_contact_email):
        errors["bestuurlijk_contact_email"] = email_error(bestuurlijk_contact_email)
    errors.update({k: v for k, v in text_errors({"bestuurlijk_contact_name": bestuurlijk_contact_name,
                                                 "bestuurlijk_contact_email": bestuurlijk_contact_email},
                                                FIELD_LIMITS).items() if k not in errors})
    if errors:
        raise ValidationError("Het team kan zo niet worden opgeslagen.", errors=errors)
    conn.execute(_t.update().where(_t.c.id == team_id).values(
        coordinator_id=coordinator_id, bestuurlijk_contact_name=(bestuurlijk_contact_name or "").strip() or None,
        bestuurlijk_contact_email=(bestuurlijk_contact_email or "").strip() or None))


def create_organisation(conn: Connection, actor: Actor, *, name: str, kind: str, now: datetime, **fields) -> int:
    require_admin(actor)
    errors = _organisation_errors(name, kind, fields)
    if errors:
        raise ValidationError("De organisatie kan zo niet worden aangemaakt.", errors=errors)
    values = {k: (v or "").strip() or None for k, v in fields.items() if k in _ORGANISATION_FIELDS}
    return conn.execute(_o.insert().returning(_o.c.id), {"name": name.strip(), "kind": kind, "is_active": True,
                                                         "created_at": now, **values}).scalar_one()


def is_empty(db) -> bool:
    """No team yet: a fresh installation (the demo fills one, `mas user create` starts one)."""
    with db.read() as conn:
        return conn.execute(select(_t.c.id).limit(1)).first() is None


def overview(conn: Connection, actor: Actor) -> dict:
    """The admin pages' lists: accounts, teams and organisations (never case content)."""
    require_admin(actor)
    return {
        # Never a password hash or a two-factor secret: only whether the person has enrolled.
        "users": conn.execute(select(_u.c.id, _u.c.name, _u.c.email, _u.c.role, _u.c.team_id, _u.c.organisation_id,
                                     _u.c.is_active, _u.c.password_hash.is_not(None).label("is_enrolled"),
                                     _u.c.locked_until)
                              .order_by(_u.c.role, _u.c.name)).all(),
        "teams": conn.execute(select(_t).order_by(_t.c.name)).all(),
        "organisations": conn.execute(select(_o).order_by(_o.c.kind, _o.c.name)).all(),
    }


def get_organisation(conn: Connection, actor: Actor, organisation_id: int):
    require_admin(actor)
    org = conn.execute(select(_o).where(_o.c.id == organisation_id)).one_or_none()
    if org is None:
        raise NotFound("Organisatie niet gevonden.")
    return org


def get_team(conn: Connection, actor: Actor, team_id: int) -> tuple:
    """The team and the coordinators it may choose from."""
    require_admin(actor)
    team = conn.execute(select(_t).where(_t.c.id == team_id)).one_or_none()
    if team is None:
        raise NotFound("Team niet gevonden.")
    coordinators = conn.execute(select(_u.c.id, _u.c.name).where(_u.c.team_id == team_id,
                                                                 _u.c.role == Role.COORDINATOR)).all()
    return team, coordinators


PAGE_SIZE = 50


def mail_overview(conn: Connection, actor: Actor, ctx: ServiceContext, now: datetime, *, page: int = 1,
                  template: str | None = None, recipient: str | None = None) -> dict:
    """Mail health and the dead letters, a page at a time, filtered by kind and recipient:
    envelope only (recipient, kind, error), never content."""
    require_admin(actor)
    template = template if template in outbox.TEMPLATES else None
    total = deadletters.count_dead(conn, template=template, recipient=recipient)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    return {
        "status": mail_status(conn, ctx, now), "total": total, "page": page, "pages": pages,
        "rows": deadletters.dead_messages(conn, PAGE_SIZE, (page - 1) * PAGE_SIZE, template=template,
                                         recipient=recipient),
        "template": template, "recipient": recipient or "", "kinds": outbox.TEMPLATE_LABELS,
    }


def mail_alert(conn: Connection, actor: Actor, ctx: ServiceContext, now: datetime):
    """The mail status when mail has been failing longer than the threshold (the banner), else None."""
    require_admin(actor)
    status = mail_status(conn, ctx, now)
    return status if status.is_alarming else None


def resend_mail(conn: Connection, actor: Actor, ctx: ServiceContext, message_pk: int, now: datetime) -> bool:
    require_admin(actor)
    return deadletters.resend(conn, message_pk, now, outbox.expires_at(ctx, now))


def resend_dead(conn: Connection, actor: Actor, ctx: ServiceContext, now: datetime, *, ids: list[int] | None = None,
                template: str | None = None, recipient: str | None = None) -> int:
    """Put dead letters back in the queue: the chosen ones, or every one the filters match.
    Each gets a fresh allowance of [mail] max_age_working_days."""
    require_admin(actor)
    template = template if template in outbox.TEMPLATES else None
    return deadletters.resend_many(conn, now, outbox.expires_at(ctx, now), ids=ids, template=template,
                                  recipient=recipient or None)


def ladder_coverage(conn: Connection, actor: Actor, ctx: ServiceContext) -> list:
    """Every team, organisation and rung that would reach nobody today (mas.services.coverage)."""
    require_admin(actor)
    return ladder_gaps(conn, ctx)
