"""Signals from outside a team: the JSON API's way in, over `cases.receive_signal`.

A signal goes to the team of the youth's residence municipality (the school's municipality
only sets the holiday region, which `receive_signal` does). The sender gets a receipt; the
case's reference only when the sender's own team directs that case. Whoever else sent it
(a school's service account, a team for a youth who lives elsewhere) learns no more than
"ontvangen": which team and which case it reached is for that team.

`_receive` is the one call into `receive_signal`: how a signal for a youth with an open case
of another team is handled is that function's business; this module answers the sender
with a receipt either way, and the reference only when the case is the sender's team's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from mas.context import ServiceContext
from mas.models import SignalReceipt, Team
from mas.services import cases, events
from mas.services.actors import SYSTEM, Actor
from mas.services.errors import NotFound, ValidationError
from mas.services.inputs import SignalInput, YouthInput
from mas.workflows import Role
from mas.workflows.roles import TEAM_ROLES

_t, _r = Team.__table__, SignalReceipt.__table__
SENDER_ROLES = (*TEAM_ROLES, Role.PARTNER)


@dataclass(frozen=True)
class Receipt:
    receipt_id: str
    received_at: datetime
    reference: str | None  # only when the sender's team directs the case


def team_of_residence(conn: Connection, municipality: str | None) -> int | None:
    """The team whose werkgebied holds this municipality (the first made, if two claim it)."""
    wanted = (municipality or "").strip().lower()
    if not wanted:
        return None
    for team_id, municipalities in conn.execute(select(_t.c.id, _t.c.municipalities).order_by(_t.c.id)):
        if any(wanted == (m or "").strip().lower() for m in municipalities or ()):
            return team_id
    return None


def _receive(conn: Connection, ctx: ServiceContext, actor: Actor, youth: YouthInput, signal: SignalInput, *,
             team_id: int, now: datetime, casusregisseur_id: int | None, first_absent_on: date | None):
    """The one adapter over `cases.receive_signal`: the signal is handed in through the intake
    (the system, as the scheduler and imports do), and the journal says who sent it. So a
    sender never meets another team's case: a youth whose open case another team directs is
    that team's to hear of, and the sender's answer is the same receipt as for any signal."""
    result = cases.receive_signal(conn, ctx, SYSTEM, youth, signal, team_id=team_id, now=now,
                                  casusregisseur_id=casusregisseur_id, first_absent_on=first_absent_on)
    if result.case_id is not None:  # a signal waiting for another team's decision is journalled there
        events.record(conn, result.case_id, actor, "signaal_ingezonden", now,
                      data={"kind": signal.kind, "source": signal.source})
    return result


def submit_signal(conn: Connection, ctx: ServiceContext, actor: Actor, youth: YouthInput, signal: SignalInput, *,
                  now: datetime, casusregisseur_id: int | None = None, first_absent_on: date | None = None) -> Receipt:
    """Receive a signal from a team member or a partner organisation's system; returns the receipt."""
    if actor.role not in SENDER_ROLES or actor.id is None:
        raise NotFound("Pagina niet gevonden.")
    team_id = team_of_residence(conn, youth.municipality)
    if team_id is None and actor.role in TEAM_ROLES:
        team_id = actor.team_id  # no team claims the municipality: the sender's own team takes it
    if team_id is None:
        raise ValidationError("Geen leerplichtteam werkt in deze woongemeente.", field="municipality")
    own_team = actor.role in TEAM_ROLES and actor.team_id == team_id
    if casusregisseur_id is not None and not own_team:
        raise ValidationError("Alleen het eigen team kiest een casusregisseur.", field="casusregisseur_id")
    if casusregisseur_id is None and own_team and actor.role == Role.CASUSREGISSEUR:
        casusregisseur_id = actor.id  # as through the form: a casusregisseur's own signal is their case
    result = _receive(conn, ctx, actor, youth, signal, team_id=team_id, now=now,
                      casusregisseur_id=casusregisseur_id, first_absent_on=first_absent_on)
    receipt_id = str(uuid.uuid4())
    if result.case_id is None:  # waiting for the decision of the team that directs the youth's case
        conn.execute(_r.insert(), {"receipt_id": receipt_id, "sender_id": actor.id, "team_id": team_id,
                                   "case_id": None, "received_at": now})
        return Receipt(receipt_id, now, None)
    case = cases.get_case(conn, result.case_id)
    conn.execute(_r.insert(), {"receipt_id": receipt_id, "sender_id": actor.id, "team_id": case.team_id,
                               "case_id": case.id, "received_at": now})
    ours = actor.role in TEAM_ROLES and actor.team_id == case.team_id
    return Receipt(receipt_id, now, case.reference if ours else None)
