"""A changed escalation ladder: what it does to open deadlines, said at start-up and applied by
`mas deadlines recompute`.

A deadline stores the name of the level it reached, so a change never makes it skip or
repeat a level by accident:
- a level added after the one reached is still to come; one added before it is passed over;
- a deadline standing on a level that was removed (or renamed) climbs every level the journal
  has not recorded for it yet, in today's order;
- moved or changed levels apply from the next one on. The moment of the next level (next_at)
  was computed with the old ladder, so `mas deadlines recompute` computes it again; until
  then a level that moved earlier is raised late (one that moved later is found on time).

The ladders last applied are kept in runtime_state; `mas scheduler`, `mas tick` and `mas
check` compare them with config/escalation.toml at start-up and report a difference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from mas.context import ServiceContext
from mas.models import DEADLINE_OPEN, Case, Deadline, RuntimeState
from mas.services.escalation import raised_levels, remaining_levels

_d, _c, _s = Deadline.__table__, Case.__table__, RuntimeState.__table__
KEY = "ladders"


@dataclass
class LadderChange:
    """How today's ladders differ from the ones last applied."""

    removed: dict[str, list[str]] = field(default_factory=dict)  # ladder -> level names
    added: dict[str, list[str]] = field(default_factory=dict)
    changed: dict[str, list[str]] = field(default_factory=dict)  # moved, other offset or recipients
    standing_on_removed: dict[str, int] = field(default_factory=dict)  # ladder -> open deadlines
    open_on_changed: dict[str, int] = field(default_factory=dict)  # ladder -> open deadlines

    def lines(self) -> list[str]:
        out = []
        for name in sorted(set(self.removed) | set(self.added) | set(self.changed)):
            parts = []
            if self.removed.get(name):
                parts.append(f"verwijderd: {', '.join(self.removed[name])}")
            if self.added.get(name):
                parts.append(f"toegevoegd: {', '.join(self.added[name])}")
            if self.changed.get(name):
                parts.append(f"gewijzigd of verplaatst: {', '.join(self.changed[name])}")
            out.append(f"ladder {name}: {'; '.join(parts)}.")
            if self.standing_on_removed.get(name):
                out.append(f"  {self.standing_on_removed[name]} open termijn(en) staan op een verwijderde trede: zij "
                           "beklimmen de treden die hun journaal nog niet heeft, in de nieuwe volgorde.")
            if self.open_on_changed.get(name):
                out.append(f"  {self.open_on_changed[name]} open termijn(en) gebruiken deze ladder: hun volgende trede "
                           "wordt bij `mas deadlines recompute` opnieuw berekend; tot dan kan een vervroegde trede "
                           "te laat komen.")
        return out


def applied(conn: Connection) -> dict | None:
    return conn.execute(select(_s.c.value).where(_s.c.key == KEY)).scalar_one_or_none()


def record_applied(conn: Connection, ctx: ServiceContext, now: datetime, *, only_if_missing: bool = False) -> None:
    """Keep today's ladders as the ones applied (an upsert: two processes starting at once agree)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    value = ctx.ladders.describe()
    statement = insert(_s).values(key=KEY, value=value, updated_at=now)
    if only_if_missing:
        statement = statement.on_conflict_do_nothing(index_elements=[_s.c.key])
    else:
        statement = statement.on_conflict_do_update(index_elements=[_s.c.key],
                                                    set_={"value": value, "updated_at": now})
    conn.execute(statement)


def _kinds_of(ctx: ServiceContext, ladder_name: str) -> list[str]:
    return [c.name for c in ctx.workflow.clocks if c.ladder == ladder_name and not c.milestone]


def compare(conn: Connection, ctx: ServiceContext) -> LadderChange | None:
    """None when today's ladders are the ones last applied (or none were recorded yet)."""
    before = applied(conn)
    now = ctx.ladders.describe()
    if before is None or before == now:
        return None
    change = LadderChange()
    for name in sorted(set(before) | set(now)):
        old = {level["name"]: (n, level) for n, level in enumerate(before.get(name, []))}
        new = {level["name"]: (n, level) for n, level in enumerate(now.get(name, []))}
        removed = [n for n in old if n not in new]
        added = [n for n in new if n not in old]
        kept_old = [n for n in old if n in new]
        kept_new = [n for n in new if n in old]
        changed = [n for n in kept_new if old[n][1] != new[n][1] or kept_old.index(n) != kept_new.index(n)]
        if not (removed or added or changed):
            continue
        change.removed[name], change.added[name], change.changed[name] = removed, added, changed
        kinds = _kinds_of(ctx, name)
        if kinds:
            base = select(func.count()).select_from(_d).where(_d.c.status == DEADLINE_OPEN, _d.c.kind.in_(kinds))
            change.open_on_changed[name] = conn.execute(base).scalar_one()
            if removed:
                change.standing_on_removed[name] = conn.execute(base.where(_d.c.rung.in_(removed))).scalar_one()
    return change


def note_at_start(db, ctx: ServiceContext, now: datetime) -> LadderChange | None:
    """Start-up: record the ladders the first time; report a change since they were last applied."""
    with db.read() as conn:
        if applied(conn) is not None:
            return compare(conn, ctx)
    with db.begin() as conn:
        record_applied(conn, ctx, now, only_if_missing=True)
    return None


_OPEN = (
    select(_d.c.id, _d.c.case_id, _d.c.kind, _d.c.rung, _d.c.next_at, _d.c.due_at, _d.c.started_on, _c.c.region,
           _c.c.reference)
    .select_from(_d.join(_c, _c.c.id == _d.c.case_id))
)


def rearm_all(db, ctx: ServiceContext, now: datetime, batch: int = 500) -> list[dict]:
    """Compute every open deadline's next level with today's ladders; record them as applied.

    Returns the deadlines whose next moment changed (with the level they stand on and the
    next one). One transaction per batch; a row the sweep moved meanwhile is left alone.
    """
    changes, last = [], 0
    while True:
        with db.begin() as conn:
            rows = conn.execute(_OPEN.where(_d.c.status == DEADLINE_OPEN, _d.c.id > last).order_by(_d.c.id)
                                .limit(batch)).all()
            if not rows:
                break
            last = rows[-1].id
            unknown = [r for r in rows if r.rung is not None and (lad := ctx.ladder_for(r.kind)) is not None
                       and lad.level(r.rung) is None]
            raised = raised_levels(conn, unknown)
            for row in rows:
                ladder = ctx.ladder_for(row.kind)
                if ladder is None or row.due_at is None:
                    continue
                remaining = remaining_levels(ladder, row.rung, raised.get(row.id, set()))
                next_at = ctx.ladders.moment(remaining[0], row.due_at, row.started_on, row.region,
                                             ctx.calendar) if remaining else None
                if next_at == row.next_at:
                    continue
                moved = conn.execute(update(_d).where(_d.c.id == row.id, _d.c.status == DEADLINE_OPEN,
                                                      _d.c.rung.is_not_distinct_from(row.rung),
                                                      _d.c.next_at.is_not_distinct_from(row.next_at))
                                     .values(next_at=next_at)).rowcount
                if moved:
                    changes.append({"case_id": row.case_id, "reference": row.reference, "kind": row.kind,
                                    "rung": row.rung, "on_removed_level": row in unknown,
                                    "next_level": remaining[0].name if remaining else None,
                                    "old_next_at": row.next_at.isoformat() if row.next_at else None,
                                    "new_next_at": next_at.isoformat() if next_at else None})
    with db.begin() as conn:
        record_applied(conn, ctx, now)
    return changes
