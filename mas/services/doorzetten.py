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
from mas.models import Organisation, Step
from mas.notifications import outbox
from mas.services import deadlines, events
from mas.services.access import require_directs
from mas.services.actors import Actor
from mas.services.cases import get_case, require_open
from mas.services.errors import Conflict, ValidationError
from mas.services.recipients import Addressee, FallbackChain, team_coordinator
from mas.services.steps import get_step
from mas.workflows import Recipient

_st, _o = Step.__table__, Organisation.__table__


def _target(conn: Connection, case, step_id: int | None):
    """The step (if any) and the organisation that is stuck."""
    if step_id is not None:
        step = get_step(conn, step_id, case.id)
        if step.status != "open":
            raise ValidationError("Alleen een openstaande stap kan worden doorgezet.", field="step_id")
        return step, step.organisation_id
    plan = case.maatwerkplan or {}
    return None, plan.get("responsible_organisation_id")


def _recipients(conn: Connection, ctx: ServiceContext, case, organisation_id: int | None) -> list[Addressee]:
    """The organisation's escalation contact (an active organisation only); failing that the
    team's coordinator, then the rest of the fallback chain: a doorzetten always reaches someone
    if anyone can be reached."""
    if organisation_id is not None:
        row = conn.execute(select(_o.c.escalation_email).where(_o.c.id == organisation_id,
                                                               _o.c.is_active.is_(True))).one_or_none()
        if row is not None and row.escalation_email:
            return [Addressee(row.escalation_email, Recipient.ORGANISATION_ESCALATION,
                              organisation_id=organisation_id)]
    return FallbackChain(conn, ctx).resolve(team_coordinator(conn, case.team_id))


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
        # The version read above: a step completed (or moved) meanwhile is a conflict, not a ghost clock.
        if conn.execute(update(_st).where(_st.c.id == step.id, _st.c.version == step.version,
                                          _st.c.status == "open")
                        .values(due_at=due_at, version=_st.c.version + 1)).rowcount != 1:
            raise Conflict("De stap is intussen gewijzigd; bekijk hem opnieuw voordat u doorzet.",
                           current_version=step.version)
        deadlines.close_step_clock(conn, step.id, now, f"doorgezet: {reason.strip()}")
    else:
        deadlines.close_clock(conn, case.id, ctx.workflow.doorzetten_clock, now,
                              f"opnieuw doorgezet: {reason.strip()}")
    computed = clocks.fixed_clock(ctx.workflow.doorzetten_clock, local_date(now), due_at, "doorgezet",
                                  reason=reason.strip(), set_by=actor.id)
    deadlines.start_generation(conn, ctx, computed, case.id, case.region, step_id, organisation_id)
    # Each doorzetten is its own message; the moment tells two apart.
    messages = [
        outbox.row(ctx, key=f"doorzetten:{case.id}:{step_id}:{now.isoformat()}:{to.address}", template="doorgezet",
                   recipient=to.address, case_id=case.id, now=now,
                   not_before=ctx.ladders.window.next_opening(now, ctx.calendar),
                   context={"reference": case.reference, "what": ctx.workflow.clock_label(
                                ctx.workflow.step_clock if step else ctx.workflow.doorzetten_clock),
                            "due_at": due_at.isoformat(), "since": local_date(now).isoformat(),
                            "link": outbox.partner_link(ctx) if to.role.is_organisation else
                            outbox.case_link(ctx, case.reference)},
                   role=str(to.role), user_id=to.user_id, organisation_id=to.organisation_id, team_id=case.team_id)
        for to in _recipients(conn, ctx, case, organisation_id)
    ]
    outbox.queue(conn, messages)
    events.record(conn, case.id, actor, "doorgezet", now, reason=reason.strip(),
                  data={"step_id": step_id, "organisation_id": organisation_id, "due_at": due_at,
                        "told": [m["recipient"] for m in messages]})
    return len(messages)
