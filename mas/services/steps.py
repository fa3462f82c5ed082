"""Steps: tasks within a case, assigned to a partner organisation, each with its own clock.

A step has its own version: a partner finishing a step does not change the case's version,
so the casusregisseur's open form stays valid.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from mas.clocks import rules as clocks
from mas.context import ServiceContext
from mas.dates import local_date
from mas.models import Organisation, Step
from mas.notifications import outbox
from mas.services import deadlines, events
from mas.services.access import require_directs
from mas.services.actors import Actor
from mas.services.cases import get_case, require_open
from mas.services.errors import Conflict, NotFound, ValidationError
from mas.services.inputs import case_date_bounds, check_texts
from mas.settings import InputSettings
from mas.workflows import Recipient, Role

_st = Step.__table__
_org = Organisation.__table__
_SELECT_STEP = select(_st).where(_st.c.id == bindparam("step_id"))


def get_step(conn: Connection, step_id: int, case_id: int | None = None):
    """The step; NotFound as well when it is not part of `case_id` (a URL naming another case)."""
    row = conn.execute(_SELECT_STEP, {"step_id": step_id}).one_or_none()
    if row is None or (case_id is not None and row.case_id != case_id):
        raise NotFound("Stap niet gevonden.")
    return row


_ACTIVE_ORGANISATION = select(_org.c.id).where(_org.c.id == bindparam("org_id"), _org.c.is_active.is_(True))


def require_active_partner(conn: Connection, actor: Actor) -> None:
    """A partner of a switched-off organisation sees nothing and does nothing (as if unknown)."""
    if actor.role == Role.PARTNER and conn.execute(_ACTIVE_ORGANISATION, {"org_id": actor.organisation_id}).first() is None:
        raise NotFound("Stap niet gevonden.")


def _check_org(conn: Connection, organisation_id):
    found = conn.execute(
        select(_org.c.id, _org.c.contact_email).where(_org.c.id == organisation_id, _org.c.is_active.is_(True))
    ).one_or_none()
    if found is None:
        raise ValidationError("Kies een bestaande organisatie.", field="organisation_id")
    return found


def _tell_organisation(conn: Connection, ctx: ServiceContext, org, case, step_id: int, due_at: datetime,
                       now: datetime, generation_key: str) -> None:
    """The organisation's contact hears of a new step (reference, due date, link; nothing personal)."""
    if not org.contact_email:
        return
    outbox.queue(conn, [outbox.row(
        ctx, key=f"step:{step_id}:{generation_key}:{org.contact_email}", template="step_assigned",
        recipient=org.contact_email, case_id=case.id, now=now,
        not_before=ctx.ladders.window.next_opening(now, ctx.calendar),
        role=Recipient.ORGANISATION_CONTACT, organisation_id=org.id, team_id=case.team_id,
        context={"reference": case.reference, "due_at": due_at.isoformat(), "since": local_date(now).isoformat(),
                 "link": outbox.partner_link(ctx)},
    )])


def _check_due(due_at: datetime, now: datetime, limits: InputSettings) -> None:
    if due_at.tzinfo is None:
        raise ValidationError("De uiterste datum heeft geen tijdzone.", field="due_at")
    if due_at <= now:
        raise ValidationError("De uiterste datum moet in de toekomst liggen.", field="due_at")
    latest = case_date_bounds(limits, local_date(now))[1]
    if local_date(due_at) > latest:
        raise ValidationError(f"Een uiterste datum kan niet na {latest.strftime('%d-%m-%Y')} liggen.", field="due_at")


def _bump_step(conn: Connection, step, expected_version: int | None, **values) -> None:
    if expected_version is not None and expected_version != step.version:
        raise Conflict("De stap is intussen gewijzigd.", current_version=step.version)
    result = conn.execute(
        update(_st).where(_st.c.id == step.id, _st.c.version == step.version)
        .values(version=_st.c.version + 1, **values)
    )
    if result.rowcount != 1:
        raise Conflict("De stap is intussen gewijzigd.")


def _open_case_for(conn, actor, case_id):
    case = get_case(conn, case_id)
    require_directs(actor, case)
    require_open(case)
    return case


def assign_step(conn: Connection, ctx: ServiceContext, actor: Actor, case_id: int, *, organisation_id: int,
                title: str, due_at: datetime, now: datetime, description: str | None = None) -> int:
    case = _open_case_for(conn, actor, case_id)
    if not (title or "").strip():
        raise ValidationError("Geef de stap een omschrijving.", field="title")
    check_texts("De stap kan zo niet worden toegewezen.", title=title, description=description)
    org = _check_org(conn, organisation_id)
    _check_due(due_at, now, ctx.settings.input)
    step_id = conn.execute(_st.insert().returning(_st.c.id), {
        "case_id": case.id, "organisation_id": organisation_id, "title": title.strip(),
        "description": (description or "").strip() or None, "due_at": due_at, "status": "open",
        "version": 1, "created_by_id": actor.id, "created_at": now,
    }).scalar_one()
    deadlines.start_generation(
        conn, ctx, clocks.fixed_clock(ctx.workflow.step_clock, local_date(now), due_at, "uiterste datum van de stap", set_by=actor.id),
        case.id, case.region, step_id, organisation_id,
    )
    _tell_organisation(conn, ctx, org, case, step_id, due_at, now, "1")
    events.record(conn, case.id, actor, "stap_toegewezen", now,
                  data={"step_id": step_id, "organisation_id": organisation_id, "title": title.strip(), "due_at": due_at})
    return step_id


def complete_step(conn: Connection, actor: Actor, step_id: int, *, now: datetime,
                  expected_version: int | None, note: str | None = None) -> None:
    """The assigned organisation (or the case's director) marks a step done."""
    step = get_step(conn, step_id)
    case = get_case(conn, step.case_id)
    if actor.role == Role.PARTNER:
        if actor.organisation_id != step.organisation_id:
            raise NotFound("Stap niet gevonden.")
        require_active_partner(conn, actor)
    else:
        require_directs(actor, case)
    require_open(case)
    check_texts("De stap kan zo niet worden afgerond.", note=note)
    if step.status != "open":
        raise ValidationError("Deze stap is al afgerond of vervallen.", field="status")
    _bump_step(conn, step, expected_version, status="done", completed_at=now, completed_by_id=actor.id,
               completion_note=(note or "").strip() or None)
    deadlines.close_step_clock(conn, step.id, now, "stap afgerond", status="met")
    events.record(conn, case.id, actor, "stap_afgerond", now, data={"step_id": step.id, "note": (note or "").strip() or None})


def reassign_step(conn: Connection, ctx: ServiceContext, actor: Actor, step_id: int, *, organisation_id: int,
                  now: datetime, expected_version: int | None, due_at: datetime | None = None,
                  reason: str | None = None, case_id: int | None = None) -> None:
    step = get_step(conn, step_id, case_id)
    case = _open_case_for(conn, actor, step.case_id)
    if step.status != "open":
        raise ValidationError("Alleen een openstaande stap kan worden overgedragen.", field="status")
    org = _check_org(conn, organisation_id)
    due = due_at or step.due_at
    if due_at is not None:
        _check_due(due_at, now, ctx.settings.input)
    _bump_step(conn, step, expected_version, organisation_id=organisation_id, due_at=due)
    # A new assignee starts with a fresh ladder.
    deadlines.close_step_clock(conn, step.id, now, "stap overgedragen")
    deadlines.start_generation(
        conn, ctx, clocks.fixed_clock(ctx.workflow.step_clock, local_date(now), due, "uiterste datum van de stap", set_by=actor.id),
        case.id, case.region, step.id, organisation_id,
    )
    _tell_organisation(conn, ctx, org, case, step.id, due, now, f"v{step.version + 1}")
    events.record(conn, case.id, actor, "stap_overgedragen", now, reason=(reason or "").strip() or None, data={
        "step_id": step.id, "from_organisation_id": step.organisation_id, "to_organisation_id": organisation_id,
        "due_at": due,
    })
