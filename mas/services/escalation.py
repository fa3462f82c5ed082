"""Doorzettingskracht: the sweep that climbs each overdue clock's ladder, and "doorzetten"
by hand.

The sweep is level-triggered over an index range of due rows (`next_at <= now`), locks what
it takes (FOR UPDATE SKIP LOCKED on PostgreSQL; BEGIN IMMEDIATE serialises SQLite) and
writes each level reached as an event with a unique (deadline, rung) key, so a late,
repeated or concurrent run does no harm. After downtime every level that was passed is
recorded, but only the highest one sends its e-mails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from mas.clocks.ladder import Ladder, Level
from mas.context import ServiceContext
from mas.models import (
    DEADLINE_OPEN,
    Case,
    CaseEvent,
    Deadline,
    Organisation,
    Team,
    User,
)
from mas.notifications import outbox
from mas.services.actors import SYSTEM
from mas.workflows import Recipient

_d, _c, _t, _o, _e = (Deadline.__table__, Case.__table__, Team.__table__, Organisation.__table__,
                      CaseEvent.__table__)
_regisseur = aliased(User.__table__, name="regisseur")
_coordinator = aliased(User.__table__, name="team_coordinator")

_DUE = (
    select(
        _d.c.id, _d.c.case_id, _d.c.kind, _d.c.generation, _d.c.started_on, _d.c.due_at, _d.c.rung,
        _c.c.reference, _c.c.region, _regisseur.c.email.label(Recipient.CASUSREGISSEUR),
        _coordinator.c.email.label(Recipient.COORDINATOR), _t.c.bestuurlijk_contact_email.label(Recipient.BESTUURLIJK),
        _o.c.name.label("organisation_name"), _o.c.contact_email.label(Recipient.ORGANISATION_CONTACT),
        _o.c.escalation_email.label(Recipient.ORGANISATION_ESCALATION),
    )
    .select_from(
        _d.join(_c, _c.c.id == _d.c.case_id)
        .join(_t, _t.c.id == _c.c.team_id)
        .outerjoin(_regisseur, _regisseur.c.id == _c.c.casusregisseur_id)
        .outerjoin(_coordinator, _coordinator.c.id == _t.c.coordinator_id)
        .outerjoin(_o, _o.c.id == _d.c.organisation_id)
    )
    .where(_d.c.status == DEADLINE_OPEN, _d.c.next_at.is_not(None), _d.c.next_at <= bindparam("now"))
    .order_by(_d.c.next_at)
    .limit(bindparam("batch"))
    .with_for_update(skip_locked=True, of=_d)
)
_CLIMB = (
    update(_d)
    .where(_d.c.id == bindparam("w_id"), _d.c.rung == bindparam("w_rung"), _d.c.status == DEADLINE_OPEN)
    .values(rung=bindparam("rung"), next_at=bindparam("next_at"))
)
# Constant columns live in the statement, so each row binds only what varies.
_INSERT_EVENT = (
    _e.insert().values(actor_id=None, actor_role=SYSTEM.role, reason=None, from_state=None, to_state=None)
)


@dataclass
class SweepResult:
    deadlines: int = 0
    levels_raised: int = 0
    messages_queued: int = 0
    recorded_only: int = 0  # levels passed during downtime: recorded, not sent
    milestones: int = 0  # milestones reached (recorded, never sent)
    details: list = field(default_factory=list)

    def add(self, other: SweepResult) -> None:
        self.deadlines += other.deadlines
        self.levels_raised += other.levels_raised
        self.messages_queued += other.messages_queued
        self.recorded_only += other.recorded_only
        self.milestones += other.milestones
        self.details.extend(other.details)


def _climb(ctx: ServiceContext, ladder: Ladder, row, now: datetime) -> tuple[list[Level], datetime | None]:
    """The levels passed by `now`, and when the next one falls due (None: ladder done).

    Each moment is computed once: the first one not yet passed is the new next_at.
    """
    passed = []
    for level in ladder.levels[row.rung:]:
        moment = ctx.ladders.moment(level, row.due_at, row.started_on, row.region, ctx.calendar)
        if moment > now:
            return passed, moment
        passed.append(level)
    return passed, None


def _messages(ctx: ServiceContext, row, level: Level, now: datetime, not_before: datetime,
              partner_link: str) -> list[dict]:
    rows, seen = [], set()
    base = None
    for role in level.recipients:
        address = getattr(row, role)
        if not address or address in seen:
            continue
        seen.add(address)
        if base is None:  # shared by this level's recipients
            base = {
                "reference": row.reference, "what": ctx.workflow.clock_label(row.kind), "kind": row.kind,
                "due_at": row.due_at.isoformat(), "since": row.started_on.isoformat(), "level": level.label,
                "rung": level.rung_number, "is_reminder": level.is_reminder, "organisation": row.organisation_name,
            }
        link = partner_link if role.is_organisation else outbox.case_link(ctx, row.reference)
        key = f"deadline:{row.id}:{row.generation}:{level.number}:{address}"
        rows.append(outbox.row(ctx, key=key, template="reminder" if level.is_reminder else "rung", recipient=address,
                               context={**base, "link": link}, case_id=row.case_id, now=now, not_before=not_before))
    return rows


def sweep_batch(conn: Connection, ctx: ServiceContext, now: datetime, batch: int = 1000) -> SweepResult:
    """One batch of due deadlines, in the caller's transaction."""
    result = SweepResult()
    climbs, events, messages = [], [], []
    not_before = ctx.ladders.window.next_opening(now, ctx.calendar)
    partner_link = outbox.partner_link(ctx)
    for row in conn.execute(_DUE, {"now": now, "batch": batch}).all():
        ladder = ctx.ladder_for(row.kind)
        passed, next_at = _climb(ctx, ladder, row, now) if ladder else ([], None)
        new_rung = row.rung + len(passed)
        climbs.append({"w_id": row.id, "w_rung": row.rung, "rung": new_rung, "next_at": next_at})
        result.deadlines += 1
        if ladder is not None and ladder.is_milestone:
            # Reached, and recorded on the case: a milestone never reminds or escalates.
            events.extend({"case_id": row.case_id, "at": now, "kind": "mijlpaal", "deadline_id": row.id,
                           "rung": level.number, "data": {"deadline_kind": row.kind, "generation": row.generation,
                                                          "due_at": row.due_at.isoformat()}} for level in passed)
            result.milestones += len(passed)
            result.details.append((row.reference, row.kind, ["mijlpaal"] * len(passed)))
            continue
        for level in passed:
            is_top = level is passed[-1]
            events.append({
                "case_id": row.case_id, "at": now, "kind": "herinnering" if level.is_reminder else "escalatie",
                "deadline_id": row.id, "rung": level.number,
                "data": {"deadline_kind": row.kind, "generation": row.generation, "level": level.label,
                         "due_at": row.due_at.isoformat(), "recipients": list(level.recipients), "sent": is_top},
            })
            if is_top:
                messages.extend(_messages(ctx, row, level, now, not_before, partner_link))
            else:
                result.recorded_only += 1
        result.levels_raised += len(passed)
        result.details.append((row.reference, row.kind, [lv.label for lv in passed]))
    if climbs:
        if conn.execute(_CLIMB, climbs).rowcount != len(climbs):  # another sweeper moved a row we read: let it have the batch
            raise RuntimeError("deadline rows changed under the sweep; the batch is rolled back")
    if events:
        conn.execute(_INSERT_EVENT, events)
    result.messages_queued = outbox.queue(conn, messages)
    return result


_ANY_DUE = (
    select(_d.c.id).where(_d.c.status == DEADLINE_OPEN, _d.c.next_at.is_not(None), _d.c.next_at <= bindparam("now")).limit(1)
)


def sweep(db, ctx: ServiceContext, now: datetime, batch: int = 1000) -> SweepResult:
    """Every due deadline, batch by batch, each batch one transaction."""
    total = SweepResult()
    while True:
        with db.begin() as conn:
            result = sweep_batch(conn, ctx, now, batch)
            # A full batch may have left more; ask inside this transaction rather than open another.
            more = result.deadlines == batch and conn.execute(_ANY_DUE, {"now": now}).first() is not None
        total.add(result)
        if not more:
            return total

