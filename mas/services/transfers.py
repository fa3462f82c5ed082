"""Overdracht to another team, and the signals other teams sent for a case this team directs.

Data reaches another team only through an explicit hand-over: the directing team hands the
case with a reason; the receiving team directs it from then on with its own copy of the
youth's record; the handing team keeps read-only, logged access to what it entered itself
(mas.services.queries). A signal another team entered for a youth whose open case this team
directs waits here for a decision: join it to the case, or return it with a reason. The
sending team is told neither.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from mas.context import ServiceContext
from mas.models import CaseEvent, CaseTransfer, Signal, Team
from mas.notifications import outbox
from mas.services import events, youth_records
from mas.services.access import require_directs
from mas.services.actors import Actor
from mas.services.cases import bump, check_version, earlier_first_day, get_case, require_open
from mas.services.errors import Conflict, NotFound, ValidationError
from mas.services.inputs import FIELD_LIMITS, check_texts, text_errors
from mas.services.team_contacts import coordinator_recipients

_t, _sig, _tr, _e = Team.__table__, Signal.__table__, CaseTransfer.__table__, CaseEvent.__table__
_INSERT_EVENT = _e.insert().returning(_e.c.id)


def transfer_case(conn: Connection, ctx: ServiceContext, actor: Actor, case_id: int, to_team_id: int, *,
                  reason: str, now: datetime, expected_version: int | None) -> int:
    """Hand the case to another team; returns the hand-over's id.

    The receiving team's coordinator assigns a casusregisseur (the case arrives without one)
    and is told by e-mail (reference and link only).
    """
    case = get_case(conn, case_id)
    require_directs(actor, case)
    check_version(conn, case, expected_version, actor)
    require_open(case)
    errors = {}
    if to_team_id == case.team_id:
        errors["to_team_id"] = "De zaak is al van dit team."
    elif not conn.execute(select(_t.c.id).where(_t.c.id == to_team_id)).first():
        errors["to_team_id"] = "Kies een bestaand team."
    if not (reason or "").strip():
        errors["reason"] = "Geef een reden voor de overdracht."
    errors.update({k: v for k, v in text_errors({"reason": reason}, FIELD_LIMITS).items() if k not in errors})
    if errors:
        raise ValidationError("De zaak kan zo niet worden overgedragen.", errors=errors)
    new_record = youth_records.copy_record(conn, case.record_id, to_team_id, now)
    bump(conn, case, {"team_id": to_team_id, "casusregisseur_id": None, "record_id": new_record, "updated_at": now},
         actor)
    event_id = conn.execute(_INSERT_EVENT, {
        "case_id": case.id, "at": now, "actor_id": actor.id, "actor_role": actor.role, "kind": "overgedragen_aan_team",
        "from_state": None, "to_state": None, "reason": reason.strip(),
        "data": {"from_team_id": case.team_id, "to_team_id": to_team_id,
                 "from_casusregisseur_id": case.casusregisseur_id},
    }).scalar_one()
    transfer_id = conn.execute(_tr.insert().returning(_tr.c.id), {
        "case_id": case.id, "from_team_id": case.team_id, "to_team_id": to_team_id,
        "from_record_id": case.record_id, "to_record_id": new_record, "event_id": event_id, "by_user_id": actor.id,
        "reason": reason.strip(), "at": now,
    }).scalar_one()
    outbox.queue(conn, [outbox.row(
        ctx, key=f"transfer:{transfer_id}:{to.address}", template="case_received", recipient=to.address,
        case_id=case.id, now=now, not_before=now, role=str(to.role), user_id=to.user_id, team_id=to_team_id,
        context={"reference": case.reference, "since": now.isoformat(), "link": outbox.case_link(ctx, case.reference)},
    ) for to in coordinator_recipients(conn, to_team_id)])
    return transfer_id


def decide_signal(conn: Connection, actor: Actor, case_id: int, signal_id: int, *, join: bool, now: datetime,
                  reason: str | None = None) -> None:
    """The directing team joins a waiting signal to its case, or returns it with a reason."""
    case = get_case(conn, case_id)
    require_directs(actor, case)
    row = conn.execute(select(_sig.c.id, _sig.c.case_id, _sig.c.status, _sig.c.kind, _sig.c.source, _sig.c.team_id,
                              _sig.c.period_first_on).where(_sig.c.id == signal_id)).one_or_none()
    if row is None or row.case_id != case.id:
        raise NotFound("Signaal niet gevonden.")
    if row.status != "pending":
        raise Conflict("Over dit signaal is al besloten.")
    reason = (reason or "").strip() or None
    check_texts("Het signaal kan zo niet worden afgehandeld.", reason=reason)
    if join:
        require_open(case)
    elif reason is None:
        raise ValidationError("Geef een reden waarom het signaal niet bij deze zaak hoort.", field="reason")
    status = "joined" if join else "returned"
    decided = conn.execute(
        update(_sig).where(_sig.c.id == row.id, _sig.c.status == "pending")
        .values(status=status, decided_at=now, decided_by_id=actor.id, decision_reason=reason)
    ).rowcount
    if decided != 1:
        raise Conflict("Over dit signaal is al besloten.")
    data = {"signal_id": row.id, "kind": row.kind, "source": row.source, "from_team_id": row.team_id}
    earlier = earlier_first_day(conn, case.id, row.period_first_on) if join else None
    if earlier is not None:  # a routed signal too may report an earlier first day: proposed, never applied
        data["earlier_first_absent_on"] = earlier
    events.record(conn, case.id, actor, "signaal_toegevoegd" if join else "signaal_teruggestuurd", now, reason=reason,
                  data=data)
