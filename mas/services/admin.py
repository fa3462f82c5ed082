"""Admins manage teams, organisations and users; they never read case content."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from mas.models import Organisation, Team
from mas.services.actors import Actor
from mas.services.errors import Forbidden, ValidationError
from mas.settings import REGIONS

_t, _o = Team.__table__, Organisation.__table__
ORGANISATION_KINDS = {
    "school": "School", "swv": "Samenwerkingsverband", "ggd": "GGD", "wijkteam": "Wijkteam / jeugdhulp",
    "zorgaanbieder": "Zorgaanbieder", "halt": "Halt", "rvdk": "Raad voor de Kinderbescherming", "om": "OM",
    "ervaringsdeskundige": "Ervaringsdeskundige", "overig": "Overig",
}


def require_admin(actor: Actor) -> None:
    if actor.role != "admin":
        raise Forbidden("Alleen beheerders mogen dit doen.")


def create_team(conn: Connection, actor: Actor, *, name: str, default_region: str, municipalities: list[str],
                now: datetime, bestuurlijk_contact_name: str | None = None,
                bestuurlijk_contact_email: str | None = None) -> int:
    require_admin(actor)
    errors = {}
    if not (name or "").strip():
        errors["name"] = "Geef het team een naam."
    elif conn.execute(select(_t.c.id).where(func.lower(_t.c.name) == name.strip().lower())).first():
        errors["name"] = "Er is al een team met deze naam."
    if default_region not in REGIONS:
        errors["default_region"] = "Kies een vakantieregio."
    if bestuurlijk_contact_email and "@" not in bestuurlijk_contact_email:
        errors["bestuurlijk_contact_email"] = "Vul een geldig e-mailadres in."
    if errors:
        raise ValidationError("Het team kan zo niet worden aangemaakt.", errors=errors)
    return conn.execute(_t.insert().returning(_t.c.id), {
        "name": name.strip(), "default_region": default_region, "municipalities": [m.strip() for m in municipalities if m.strip()],
        "bestuurlijk_contact_name": bestuurlijk_contact_name, "bestuurlijk_contact_email": bestuurlijk_contact_email,
        "created_at": now,
    }).scalar_one()


def create_organisation(conn: Connection, actor: Actor, *, name: str, kind: str, now: datetime, **fields) -> int:
    require_admin(actor)
    errors = {}
    if not (name or "").strip():
        errors["name"] = "Geef de organisatie een naam."
    if kind not in ORGANISATION_KINDS:
        errors["kind"] = "Kies een soort organisatie."
    for key in ("contact_email", "escalation_email"):
        if fields.get(key) and "@" not in fields[key]:
            errors[key] = "Vul een geldig e-mailadres in."
    if errors:
        raise ValidationError("De organisatie kan zo niet worden aangemaakt.", errors=errors)
    allowed = {"brin", "municipality", "contact_name", "contact_email", "escalation_name", "escalation_email"}
    values = {k: (v or "").strip() or None for k, v in fields.items() if k in allowed}
    return conn.execute(_o.insert().returning(_o.c.id), {"name": name.strip(), "kind": kind, "is_active": True,
                                                         "created_at": now, **values}).scalar_one()
