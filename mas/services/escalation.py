"""Doorzettingskracht: the sweep that climbs each overdue clock's ladder.

The sweep is level-triggered over an index range of due rows (`next_at <= now`), locks what
it takes (FOR UPDATE SKIP LOCKED on PostgreSQL; BEGIN IMMEDIATE serialises SQLite) and
writes each level reached as an event with a unique (deadline, rung name) key, so a late,
repeated or concurrent run does no harm.

Who hears of it:
- the recipients of the level, resolved now: active accounts and organisations only; a
  level whose recipients are all missing or switched off goes to the fallback chain
  (mas.services.recipients), and the journal names who was mailed, or that nobody could be;
- after downtime every level that was passed is recorded, and two are mailed: the highest
  (whoever must unblock it now) and the first rung (the assignee, who must act), so the
  organisation that holds a step is always told;
- one recipient gets one message per sweep batch: several rungs become one bundle that lists
  the references, each (deadline, generation, rung, recipient) still at most once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from mas.clocks.ladder import Ladder, Level
from mas.context import ServiceContext
from mas.models import DEADLINE_OPEN, Case, CaseEvent, Deadline, Organisation, Team, User
from mas.notifications import outbox
from mas.services.actors import SYSTEM
from mas.services.delivery import compose
from mas.services.recipients import Addressee, FallbackChain, from_due_row
from mas.workflows import Recipient

# How often `mas scheduler` sweeps (its --sweep-every default): a level passed longer ago than
# this when a sweep raised it was passed during an outage.
SWEEP_INTERVAL = timedelta(seconds=60)

_d, _c, _t, _o, _e = (Deadline.__table__, Case.__table__, Team.__table__, Organisation.__table__,
                      CaseEvent.__table__)
_regisseur = aliased(User.__table__, name="regisseur")
_coordinator = aliased(User.__table__, name="team_coordinator")

_DUE = (
    select(
        _d.c.id, _d.c.case_id, _d.c.kind, _d.c.generation, _d.c.started_on, _d.c.due_at, _d.c.rung,
        _c.c.reference, _c.c.region, _c.c.team_id, _t.c.name.label("team_name"),
        _regisseur.c.id.label("regisseur_id"), _regisseur.c.email.label("regisseur_email"),
        _regisseur.c.name.label("regisseur_name"),
        _coordinator.c.id.label("coordinator_id"), _coordinator.c.email.label("coordinator_email"),
        _coordinator.c.name.label("coordinator_name"),
        _t.c.bestuurlijk_contact_email.label("bestuurlijk_email"),
        _o.c.id.label("organisation_id"), _o.c.name.label("organisation_name"),
        _o.c.is_active.label("organisation_active"), _o.c.contact_email.label("organisation_contact_email"),
        _o.c.escalation_email.label("organisation_escalation_email"),
    )
    .select_from(
        _d.join(_c, _c.c.id == _d.c.case_id)
        .join(_t, _t.c.id == _c.c.team_id)
        # Switched-off accounts are nobody: they receive nothing.
        .outerjoin(_regisseur, and_(_regisseur.c.id == _c.c.casusregisseur_id, _regisseur.c.is_active.is_(True)))
        .outerjoin(_coordinator, and_(_coordinator.c.id == _t.c.coordinator_id, _coordinator.c.is_active.is_(True)))
        .outerjoin(_o, _o.c.id == _d.c.organisation_id)
    )
    .where(_d.c.status == DEADLINE_OPEN, _d.c.next_at.is_not(None), _d.c.next_at <= bindparam("now"))
    .order_by(_d.c.next_at)
    .limit(bindparam("batch"))
    .with_for_update(skip_locked=True, of=_d)
)
_CLIMB = (
    update(_d)
    .where(_d.c.id == bindparam("w_id"), _d.c.rung.is_not_distinct_from(bindparam("w_rung")),
           _d.c.status == DEADLINE_OPEN)
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
    fallbacks: int = 0  # levels whose recipients could not be reached: the fallback was mailed
    unreachable: int = 0  # levels that reached nobody at all (journalled as such)
    details: list = field(default_factory=list)

    def add(self, other: SweepResult) -> None:
        self.deadlines += other.deadlines
        self.levels_raised += other.levels_raised
        self.messages_queued += other.messages_queued
        self.recorded_only += other.recorded_only
        self.milestones += other.milestones
        self.fallbacks += other.fallbacks
        self.unreachable += other.unreachable
        self.details.extend(other.details)


def _climb(ctx: ServiceContext, levels: tuple[Level, ...], row, now: datetime,
           moments: dict | None = None) -> tuple[list[Level], datetime | None]:
    """The levels passed by `now`, and when the next one falls due (None: ladder done).

    Each moment is computed once (and kept in `moments` by level name): the first one not yet
    passed is the new next_at.
    """
    passed = []
    for level in levels:
        moment = ctx.ladders.moment(level, row.due_at, row.started_on, row.region, ctx.calendar)
        if moment > now:
            return passed, moment
        passed.append(level)
        if moments is not None:
            moments[level.name] = moment
    return passed, None


def raised_levels(conn: Connection, rows) -> dict[int, set[str]]:
    """The level names the journal recorded for these deadlines (when their stored level is no
    level of today's ladder any more). Reads the case_event index by case."""
    rows = list(rows)
    if not rows:
        return {}
    found = defaultdict(set)
    for deadline_id, rung in conn.execute(
        select(_e.c.deadline_id, _e.c.rung)
        .where(_e.c.case_id.in_({r.case_id for r in rows}), _e.c.deadline_id.in_({r.id for r in rows}))
    ):
        found[deadline_id].add(rung)
    return found


def remaining_levels(ladder: Ladder, reached: str | None, raised: set[str]) -> tuple[Level, ...]:
    """The levels still to come: after the one reached, or, when today's ladder no longer has
    that one, every level the journal has not recorded for this deadline."""
    found = ladder.after(reached)
    return found if found is not None else tuple(level for level in ladder.levels if level.name not in raised)


def _contact(row) -> str | None:
    """Whom a recipient without an account can call: the casusregisseur, else the coordinator."""
    if row.regisseur_email:
        return f"{row.regisseur_name} ({row.regisseur_email})"
    if row.coordinator_email:
        return f"{row.coordinator_name} ({row.coordinator_email})"
    return None


def _item(ctx: ServiceContext, row, level: Level) -> dict:
    """What a message says about one rung of one deadline: no personal data of the youth."""
    return {
        "reference": row.reference, "what": ctx.workflow.clock_label(row.kind), "kind": row.kind,
        "due_at": row.due_at.isoformat(), "since": row.started_on.isoformat(), "level": level.label,
        "rung": level.rung_number, "is_reminder": level.is_reminder, "organisation": row.organisation_name,
        "holder": row.organisation_name or row.team_name, "team": row.team_name, "contact": _contact(row),
        "deadline_id": row.id, "generation": row.generation,
    }


class _Mailbag:
    """Messages of one sweep batch, one per recipient: each rung an item of it."""

    def __init__(self, ctx: ServiceContext, now: datetime, chain: FallbackChain):
        self.ctx, self.now, self.chain = ctx, now, chain
        self.not_before = ctx.ladders.window.next_opening(now, ctx.calendar)
        self.by_recipient: dict[tuple, tuple[Addressee, int, list]] = {}

    def reach(self, row, level: Level) -> tuple[list[Addressee], list[str]]:
        """Who this level reaches for this deadline (or its fallback), and which roles nobody filled."""
        found, missing = [], []
        for role in level.recipients:
            to = from_due_row(row, role)
            if to is None:
                missing.append(str(role))
            elif to.address not in {a.address for a in found}:
                found.append(to)
        if not found:
            coordinator = from_due_row(row, Recipient.COORDINATOR)
            found = self.chain.resolve(coordinator)
        return found, missing

    def add(self, to: Addressee, team_id: int, row, level: Level) -> None:
        group = (to.address, str(to.role), to.user_id, to.organisation_id, team_id)
        entry = self.by_recipient.setdefault(group, (to, team_id, []))
        key = f"deadline:{row.id}:{row.generation}:{level.name}:{to.address}"
        entry[2].append((key, row, level))

    def messages(self) -> tuple[list[dict], list[dict]]:
        rows, items = [], []
        for to, team_id, rungs in self.by_recipient.values():
            first_key = rungs[0][0]
            message_key = first_key if len(rungs) == 1 else f"bundel:{first_key}"
            template, context = compose(self.ctx, to, [_item(self.ctx, row, level) for _key, row, level in rungs],
                                        self.now)
            rows.append(outbox.row(
                self.ctx, key=message_key, template=template, recipient=to.address, context=context,
                case_id=rungs[0][1].case_id if len(rungs) == 1 else None, now=self.now, not_before=self.not_before,
                role=str(to.role), user_id=to.user_id, organisation_id=to.organisation_id, team_id=team_id))
            items.extend(outbox.item(message_key=message_key, key=key, case_id=row.case_id, deadline_id=row.id,
                                     rung=level.name) for key, row, level in rungs)
        return rows, items


def _mailed_levels(ladder: Ladder, passed: list[Level]) -> list[Level]:
    """The highest level passed, and the first rung too when it was passed in the same sweep
    (caught up after downtime: the assignee must hear that it is their move)."""
    top = passed[-1]
    first = ladder.first_rung
    if first is not None and first is not top and first in passed:
        return [top, first]
    return [top]


def sweep_batch(conn: Connection, ctx: ServiceContext, now: datetime, batch: int = 1000,
                sweep_interval: timedelta = SWEEP_INTERVAL) -> SweepResult:
    """One batch of due deadlines, in the caller's transaction."""
    result = SweepResult()
    climbs, events = [], []
    bag = _Mailbag(ctx, now, FallbackChain(conn, ctx))
    rows = conn.execute(_DUE, {"now": now, "batch": batch}).all()
    unknown = [r for r in rows if r.rung is not None and (ladder := ctx.ladder_for(r.kind)) is not None
               and ladder.level(r.rung) is None]
    raised = raised_levels(conn, unknown)
    for row in rows:
        ladder = ctx.ladder_for(row.kind)
        levels = remaining_levels(ladder, row.rung, raised.get(row.id, set())) if ladder else ()
        moments: dict = {}
        passed, next_at = _climb(ctx, levels, row, now, moments)
        climbs.append({"w_id": row.id, "w_rung": row.rung, "rung": passed[-1].name if passed else row.rung,
                       "next_at": next_at})
        result.deadlines += 1
        if not passed:
            continue
        base = {"deadline_kind": row.kind, "generation": row.generation, "due_at": row.due_at.isoformat()}
        if ladder.is_milestone:
            # Reached, and recorded on the case: a milestone never reminds or escalates.
            events.extend({"case_id": row.case_id, "at": now, "kind": "mijlpaal", "deadline_id": row.id,
                           "rung": level.name, "data": base} for level in passed)
            result.milestones += len(passed)
            result.details.append((row.reference, row.kind, ["mijlpaal"] * len(passed)))
            continue
        mailed = _mailed_levels(ladder, passed)
        told: set[str] = set()
        data_of = {}
        for level in mailed:  # the highest first: whoever it reaches is not told twice
            to, missing = bag.reach(row, level)
            for addressee in to:
                if addressee.address not in told:
                    bag.add(addressee, row.team_id, row, level)
            told.update(a.address for a in to)
            data_of[level.name] = {"sent": bool(to), "recipients": [a.journal() for a in to], "missing": missing,
                                   "unreachable": not to}
            result.fallbacks += any(a.fallback for a in to)
            result.unreachable += not to
        for level in passed:
            # Passed beside a higher level: during an outage only if it fell due more than one sweep
            # interval before this sweep (else two levels merely fell within one interval).
            data = data_of.get(level.name, {"sent": False, "recorded_only": True,
                                            "during_outage": moments[level.name] < now - sweep_interval})
            events.append({"case_id": row.case_id, "at": now, "kind": "herinnering" if level.is_reminder else "escalatie",
                           "deadline_id": row.id, "rung": level.name, "data": {**base, "level": level.label, **data}})
        result.recorded_only += len(passed) - len(mailed)
        result.levels_raised += len(passed)
        result.details.append((row.reference, row.kind, [lv.label for lv in passed]))
    if climbs:
        if conn.execute(_CLIMB, climbs).rowcount != len(climbs):  # another sweeper moved a row we read: let it have the batch
            raise RuntimeError("deadline rows changed under the sweep; the batch is rolled back")
    if events:
        conn.execute(_INSERT_EVENT, events)
    messages, items = bag.messages()
    result.messages_queued = outbox.queue(conn, messages, items)
    return result


_ANY_DUE = (
    select(_d.c.id).where(_d.c.status == DEADLINE_OPEN, _d.c.next_at.is_not(None), _d.c.next_at <= bindparam("now")).limit(1)
)


def sweep(db, ctx: ServiceContext, now: datetime, batch: int = 1000,
          sweep_interval: timedelta = SWEEP_INTERVAL) -> SweepResult:
    """Every due deadline, batch by batch, each batch one transaction."""
    total = SweepResult()
    with db.read() as conn:  # a quiet tick reads one index entry and compiles nothing bigger
        if conn.execute(_ANY_DUE, {"now": now}).first() is None:
            return total
    while True:
        with db.begin() as conn:
            result = sweep_batch(conn, ctx, now, batch, sweep_interval)
            # A full batch may have left more; ask inside this transaction rather than open another.
            more = result.deadlines == batch and conn.execute(_ANY_DUE, {"now": now}).first() is not None
        total.add(result)
        if not more:
            return total

