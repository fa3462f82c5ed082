"""A partner asks for more time on its step; the case's director approves or refuses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mas.context import ServiceContext
from mas.dates import local_date
from mas.models import DEADLINE_OPEN, Deadline, ExtensionRequest
from mas.services import events
from mas.services.access import require_directs
from mas.services.actors import Actor
from mas.services.cases import get_case, require_open
from mas.services.errors import NotFound, ValidationError
from mas.services.inputs import case_date_bounds, check_texts
from mas.services.steps import get_step, require_active_partner
from mas.services.timekeeping import extend_deadline
from mas.settings import InputSettings
from mas.workflows import Role

_x, _d = ExtensionRequest.__table__, Deadline.__table__


def request_extension(conn: Connection, actor: Actor, step_id: int, *, reason: str,
                      proposed_due_at: datetime, now: datetime) -> int:
    step = get_step(conn, step_id)
    if actor.role != Role.PARTNER or actor.organisation_id != step.organisation_id:
        raise NotFound("Stap niet gevonden.")
    require_active_partner(conn, actor)
    require_open(get_case(conn, step.case_id))
    errors = {}
    if step.status != "open":
        errors["step_id"] = "Deze stap is al afgerond."
    if not (reason or "").strip():
        errors["reason"] = "Geef een reden voor het uitstel."
    check_texts("Het verzoek om uitstel kan zo niet worden ingediend.", reason=reason)
    latest = case_date_bounds(InputSettings(), local_date(now))[1]
    if proposed_due_at.tzinfo is None or proposed_due_at <= max(now, step.due_at):
        errors["proposed_due_at"] = "De voorgestelde datum moet na de huidige uiterste datum liggen."
    elif local_date(proposed_due_at) > latest:
        errors["proposed_due_at"] = f"Een voorgestelde datum kan niet na {latest.strftime('%d-%m-%Y')} liggen."
    already = "Er loopt al een verzoek om uitstel voor deze stap."
    if conn.execute(select(_x.c.id).where(_x.c.step_id == step.id, _x.c.status == "open")).first():
        errors["step_id"] = already
    if errors:
        raise ValidationError("Het verzoek om uitstel kan zo niet worden ingediend.", errors=errors)
    try:  # uq_extension_request_open_step: one open request per step, also for two at the same moment
        request_id = conn.execute(_x.insert().returning(_x.c.id), {
            "step_id": step.id, "requested_by_id": actor.id, "reason": reason.strip(),
            "proposed_due_at": proposed_due_at, "status": "open", "created_at": now,
        }).scalar_one()
    except IntegrityError:
        raise ValidationError("Het verzoek om uitstel kan zo niet worden ingediend.",
                              errors={"step_id": already}) from None
    events.record(conn, step.case_id, actor, "uitstel_gevraagd", now, reason=reason.strip(),
                  data={"step_id": step.id, "request_id": request_id, "proposed_due_at": proposed_due_at})
    return request_id


def decide_extension(conn: Connection, ctx: ServiceContext, actor: Actor, request_id: int, *, approve: bool,
                     now: datetime, note: str | None = None, case_id: int | None = None) -> None:
    request = conn.execute(select(_x).where(_x.c.id == request_id)).one_or_none()
    if request is None:
        raise NotFound("Verzoek niet gevonden.")
    step = get_step(conn, request.step_id, case_id)
    case = get_case(conn, step.case_id)
    require_directs(actor, case)
    decided = "Over dit verzoek is al besloten."
    if request.status != "open":
        raise ValidationError(decided, field="request_id")
    if not approve and not (note or "").strip():
        raise ValidationError("Geef aan waarom het uitstel wordt geweigerd.", field="note")
    check_texts("Het besluit kan zo niet worden opgeslagen.", note=note)
    claimed = conn.execute(update(_x).where(_x.c.id == request.id, _x.c.status == "open").values(
        status="approved" if approve else "refused", decided_by_id=actor.id, decided_at=now,
        decision_note=(note or "").strip() or None)).rowcount
    if claimed != 1:  # decided by someone else at the same moment: one decision only
        raise ValidationError(decided, field="request_id")
    if approve:
        deadline_id = conn.execute(select(_d.c.id).where(_d.c.step_id == step.id, _d.c.status == DEADLINE_OPEN)
                                   .order_by(_d.c.id.desc())).scalars().first()
        if deadline_id is None:
            raise ValidationError("Deze stap heeft geen lopende termijn meer.", field="request_id")
        extend_deadline(conn, ctx, actor, deadline_id, due_at=request.proposed_due_at,
                        reason=f"uitstel toegestaan: {request.reason}", now=now, case_id=case.id)
    else:
        events.record(conn, case.id, actor, "uitstel_geweigerd", now, reason=note.strip(),
                      data={"step_id": step.id, "request_id": request.id})
