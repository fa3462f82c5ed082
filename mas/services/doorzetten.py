"""Doorzetten: the casusregisseur escalates a stuck step or case by hand.

A reason, a new short deadline with its own ladder, and the organisation's escalation
contact told at once (through the outbox, after commit).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from mas.clocks import rules as clocks
from mas.context import ServiceContext
from mas.dates import local_date
from mas.models import Organisation, Step, Team, User
from mas.notifications import outbox
from mas.services import deadlines, events
from mas.services.access import require_directs
from mas.services.actors import Actor
from mas.services.cases import get_case, require_open
from mas.services.errors import ValidationError
from mas.services.steps import get_step
from mas.workflows import Recipient

_st, _o, _t, _u = Step.__table__, Organisation.__table__, Team.__table__, User.__table__


def _target(conn: Connection, case, step_id: int | None):
    """The step (if any) and the organisation that is stuck."""
    if step_id is not None:
        step = get_step(conn, step_id, case.id)
        if step.status != "open":
            raise ValidationError("Alleen een openstaande stap kan worden doorgezet.", field="step_id")
        return step, step.organisation_id
    plan = case.maatwerkplan or {}
    return None, plan.get("responsible_organisation_id")


def _recipients(conn: Connection, case, organisation_id: int | None) -> list[tuple[str, str]]:
    found = []
    if organisation_id is not None:
        email = conn.execute(select(_o.c.escalation_email).where(_o.c.id == organisation_id)).scalar_one_or_none()
        if email:
            found.append((Recipient.ORGANISATION_ESCALATION, email))
    if not found:  # no organisation to press: the team's coordinator hears of it
        email = conn.execute(
            select(_u.c.email).select_from(_t.join(_u, _u.c.id == _t.c.coordinator_id)).where(_t.c.id == case.team_id)
        ).scalar_one_or_none()
        if email:
            found.append((Recipient.COORDINATOR, email))
    return found


def doorzetten(conn: Connection, ctx: ServiceContext, actor: Actor, case_id: int, *, reason: str, due_at: datetime,
               now: datetime, step_id: int | None = None) -> int:
    """Escalate by hand; returns the number of messages queued."""
    case = get_case(conn, case_id)
    require_directs(actor, case)
    require_open(case)
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = "Geef aan waarom u doorzet."
    if due_at.tzinfo is None or due_at <= now:
        errors["due_at"] = "De nieuwe termijn moet in de toekomst liggen."
    if errors:
        raise ValidationError("Doorzetten kan zo niet.", errors=errors)
    step, organisation_id = _target(conn, case, step_id)
    if step is not None:
        deadlines.close_step_clock(conn, step.id, now, f"doorgezet: {reason.strip()}")
        conn.execute(update(_st).where(_st.c.id == step.id).values(due_at=due_at, version=_st.c.version + 1))
    else:
        deadlines.close_clock(conn, case.id, ctx.workflow.doorzetten_clock, now,
                              f"opnieuw doorgezet: {reason.strip()}")
    computed = clocks.fixed_clock(ctx.workflow.doorzetten_clock, local_date(now), due_at, "doorgezet",
                                  reason=reason.strip(), set_by=actor.id)
    deadlines.start_generation(conn, ctx, computed, case.id, case.region, step_id, organisation_id)
    # Each doorzetten is its own message; the moment tells two apart.
    messages = [
        outbox.row(ctx, key=f"doorzetten:{case.id}:{step_id}:{now.isoformat()}:{address}", template="doorgezet",
                   recipient=address, case_id=case.id, now=now, not_before=ctx.ladders.window.next_opening(now, ctx.calendar),
                   context={"reference": case.reference, "what": ctx.workflow.clock_label(
                                ctx.workflow.step_clock if step else ctx.workflow.doorzetten_clock),
                            "due_at": due_at.isoformat(), "since": local_date(now).isoformat(),
                            "link": outbox.partner_link(ctx) if role.is_organisation else
                            outbox.case_link(ctx, case.reference)})
        for role, address in _recipients(conn, case, organisation_id)
    ]
    outbox.queue(conn, messages)
    events.record(conn, case.id, actor, "doorgezet", now, reason=reason.strip(),
                  data={"step_id": step_id, "organisation_id": organisation_id, "due_at": due_at,
                        "told": [m["recipient"] for m in messages]})
    return len(messages)
