"""The model behind the stateful test of the services (test_stateful.py): what the database
holds, who may act, what a call must do, and what holds after every step.

* `Snapshot` / `snapshot`: every table of the case world, read in one go, so that a call's
  effect is the difference of two snapshots;
* who may act (`directs`, `access_errors`, `closed_errors`) and `Expect`, which builds the
  outcome a call must have, layer by layer, in the order the service checks;
* `guard_data`: valid data for each transition, or data missing or bad in one of a few ways;
* `check_refused` / `check_done`: what a refused call and a successful call must (not) change;
* `check_invariants`: the case invariants, checked against the database after every step.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, timedelta

from sqlalchemy import inspect, select, text, update

from mas.clocks.calendar import add_calendar_months
from mas.clocks.rules import COMPUTED_RULES, SCHOOL_DAY_RULES, recompute
from mas.dates import end_of_day
from mas.models import (
    Case,
    CaseEvent,
    Deadline,
    Guardian,
    ReferenceCounter,
    Signal,
    Step,
    Suspension,
    Youth,
)
from mas.services.actors import Actor
from mas.services.errors import (
    CaseClosed,
    Conflict,
    Forbidden,
    InvalidTransition,
    NotFound,
    ServiceError,
    ValidationError,
)
from mas.workflows.definition import OPEN_STATES, TRANSITIONS
from mas.workflows.vocabulary import CLOSING_REASONS, ROUTES

_c, _e, _d, _st, _s, _sig, _y, _g, _ref = (
    Case.__table__, CaseEvent.__table__, Deadline.__table__, Step.__table__, Suspension.__table__,
    Signal.__table__, Youth.__table__, Guardian.__table__, ReferenceCounter.__table__,
)

PACT_MONTHS = 3  # the Thuiszitterspact: three calendar months, national goal
TRANSITION_BY_TRIGGER = {t.trigger: t for t in TRANSITIONS}
FINAL = "afgesloten"
BEFORE_OFFER = ("signaal", "gesprek", "zorgtafel", "aanbod")  # states "not yet past aanbod"
MISSING = 987_654_321  # an id no row has
# What a call on a closed case may fail with (besides Forbidden for an actor who may not act
# on that case at all, closed or open).
CLOSED_ERRORS = (CaseClosed, InvalidTransition, ValidationError, NotFound)


# --- reading the whole case world --------------------------------------------------------

@dataclass(frozen=True)
class Snapshot:
    cases: dict
    events: dict  # case id -> number of events
    deadlines: dict
    steps: dict
    suspensions: dict
    signals: dict  # case id -> number of signals
    youths: dict
    guardians: int
    counters: dict
    others: dict  # table name -> number of rows, for every other table of the case world (outbox, …)


def _rows(conn, table):
    return {r.id: r._asdict() for r in conn.execute(select(table).order_by(table.c.id))}


# Tables the world (teams, organisations, users) lives in: kept between examples.
WORLD_TABLES = {"team", "organisation", "user", "alembic_version"}
OWN_TABLES = {t.name for t in (_c, _e, _d, _st, _s, _sig, _y, _g, _ref)}


def case_world_tables(db) -> list[str]:
    """Every table but the world's as the migrated database has them (mas grows tables: outbox,
    access log, …), children before parents."""
    inspector = inspect(db.engine)
    names = set(inspector.get_table_names()) - WORLD_TABLES
    parents = {n: {fk["referred_table"] for fk in inspector.get_foreign_keys(n)} & names - {n} for n in names}
    order: list[str] = []
    while parents:
        leaves = sorted(n for n in parents if not any(n in p for m, p in parents.items() if m != n))
        assert leaves, f"foreign-key cycle among {sorted(parents)}"
        order += leaves
        for n in leaves:
            del parents[n]
    return order


def clean_case_world(db, tables: list[str]) -> None:
    """Empty every table but the world's, children first."""
    with db.begin() as conn:
        conn.execute(update(_c).values(previous_case_id=None))
        for name in tables:
            conn.execute(text(f'DELETE FROM "{name}"'))


def _counts_query(others) -> str:
    """Events and signals per case, guardians, the reference counters and the row count of
    every other table, in one round trip."""
    parts = [
        "SELECT 'events' AS what, case_id AS k, count(*) AS n FROM case_event GROUP BY case_id",
        "SELECT 'signals', case_id, count(*) FROM signal GROUP BY case_id",
        "SELECT 'guardians', 0, count(*) FROM guardian",
        "SELECT 'counters', year, last FROM reference_counter",
        *(f"SELECT 'others', {i}, count(*) FROM \"{t}\"" for i, t in enumerate(others)),
    ]
    return " UNION ALL ".join(parts)


def snapshot(db, others=()) -> Snapshot:
    counts: dict[str, dict] = {"events": {}, "signals": {}, "guardians": {}, "counters": {}, "others": {}}
    with db.read() as conn:
        for what, key, n in conn.execute(text(_counts_query(others))):
            counts[what][others[key] if what == "others" else key] = n
        return Snapshot(
            cases=_rows(conn, _c), events=counts["events"], deadlines=_rows(conn, _d), steps=_rows(conn, _st),
            suspensions=_rows(conn, _s), signals=counts["signals"], youths=_rows(conn, _y),
            guardians=counts["guardians"].get(0, 0), counters=counts["counters"], others=counts["others"],
        )


def diff(before: Snapshot, after: Snapshot) -> str:
    out = []
    for f in fields(Snapshot):
        a, b = getattr(before, f.name), getattr(after, f.name)
        if a == b:
            continue
        if isinstance(a, dict):
            for key in sorted(set(a) | set(b), key=str):
                if a.get(key) != b.get(key):
                    out.append(f"{f.name}[{key}]: {a.get(key)!r} -> {b.get(key)!r}")
        else:
            out.append(f"{f.name}: {a!r} -> {b!r}")
    return "\n".join(out)


def _rows_of_case(snap: Snapshot, case_id: int) -> tuple:
    return (
        {k: v for k, v in snap.deadlines.items() if v["case_id"] == case_id},
        {k: v for k, v in snap.steps.items() if v["case_id"] == case_id},
        {k: v for k, v in snap.suspensions.items() if v["case_id"] == case_id},
        snap.signals.get(case_id, 0),
    )


def pact_rows(snap: Snapshot, case_id: int | None = None) -> dict:
    return {k: v for k, v in snap.deadlines.items()
            if v["kind"] == "thuiszitterspact" and (case_id is None or v["case_id"] == case_id)}


# --- who may act ---------------------------------------------------------------------------

def directs(actor: Actor, case: dict) -> bool:
    if actor.role == "casusregisseur":
        return actor.id == case["casusregisseur_id"]
    if actor.role == "coordinator":
        return actor.team_id == case["team_id"]
    return False


def access_errors(actor: Actor, case: dict | None):
    """The error classes an actor gets for touching `case` at all, or None when it directs it."""
    if case is None:
        return (NotFound,)
    if directs(actor, case):
        return None
    if actor.role in ("casusregisseur", "coordinator") and actor.team_id == case["team_id"]:
        return (Forbidden,)  # a colleague in the team: may read, not direct
    return (NotFound,)  # partner, admin, other team: not even told the case exists


def closed_errors(actor: Actor, case: dict, stale: bool = False):
    """A closed case accepts nothing but a new signal. A form read before a later change is a
    conflict first, as on an open case (the version is checked before the case's state)."""
    denied = access_errors(actor, case)
    return CLOSED_ERRORS + ((Conflict,) if stale else ()) + (denied or ())


class Expect:
    """Builds the expected outcome of a call layer by layer, in the order the service checks.

    The first layer that applies decides; the last layer (stale version and bad input) is a
    union, since the order of those two checks is the service's own business."""

    def __init__(self):
        self.errors: tuple | None = None
        self.final: tuple = ()

    def fail(self, condition: bool, *errors) -> Expect:
        if self.errors is None and condition:
            self.errors = errors
        return self

    def either(self, condition: bool, *errors) -> Expect:
        if condition:
            self.final += errors
        return self

    def outcome(self) -> tuple | None:
        if self.errors is not None:
            return self.errors
        return self.final or None


class Failed:
    def __init__(self, error: ServiceError):
        self.error = error


# --- what a call must do ----------------------------------------------------------------------

# The calls that take the version the form was read at.
VERSIONED = {"fire", "change_route", "hand_over", "reassign_step"}


def check_refused(op: str, err: ServiceError, expect, before: Snapshot, after: Snapshot, target: dict | None) -> None:
    """A refused call changed nothing at all, and was refused as the model expected."""
    assert after == before, f"{op} failed with {err!r} but changed:\n{diff(before, after)}"
    assert expect is not None, f"{op} should have succeeded, failed with {err!r} {err.errors}"
    assert isinstance(err, expect), f"{op}: expected one of {expect}, got {err!r} {err.errors}"
    if target is not None and target["state"] == FINAL:
        # A transition fired from a stale form is a conflict first: the case changed
        # (it was closed) since the form was read, and the form's text must be kept.
        allowed = CLOSED_ERRORS + (Forbidden,) + ((Conflict,) if op in VERSIONED else ())
        assert isinstance(err, allowed), err


def check_done(op: str, expect, before: Snapshot, after: Snapshot, target: dict | None, case_id: int, *,
               bump: bool) -> None:
    """A successful call was expected to succeed, added one event to its own case and touched no
    other, moved the version only when it `bump`s it, and moved no Thuiszitterspact deadline."""
    assert expect is None, (
        f"{op} should have failed with one of {expect} (case was "
        f"{target and target['state']}), but succeeded:\n{diff(before, after)}"
    )
    new_case = case_id not in before.cases
    # One event per change, on this case only; nothing else of any other case moves.
    for other in set(before.cases) | set(after.cases):
        added = after.events.get(other, 0) - before.events.get(other, 0)
        assert added == (1 if other == case_id else 0), f"{op}: case {other} got {added} events"
        if other != case_id:
            assert after.cases.get(other) == before.cases.get(other), f"{op} changed case {other}"
            assert _rows_of_case(after, other) == _rows_of_case(before, other), f"{op} touched case {other}"
    if new_case:
        assert after.cases[case_id]["version"] == 1
    else:
        old, new = before.cases[case_id], after.cases[case_id]
        assert new["version"] == old["version"] + (1 if bump else 0), (op, old["version"], new["version"])
        if op != "fire":
            assert new["state"] == old["state"]
    # No call ever moves a Thuiszitterspact deadline; only fire may stop or restart one.
    old_pact, new_pact = pact_rows(before), pact_rows(after)
    for row_id, row in old_pact.items():
        moved = new_pact[row_id]
        assert (moved["started_on"], moved["due_at"]) == (row["started_on"], row["due_at"]), (op, row, moved)
    if op != "fire" and not new_case:
        assert new_pact == old_pact, f"{op} changed a Thuiszitterspact row"


# --- the data a transition's guard gets ----------------------------------------------------------

def guard_data(today: date, organisations: tuple, trigger: str, case: dict | None, mode: str, offset: int,
               variant: int):
    """(data, reason, valid) for firing `trigger` on `case` on `today`: valid data, or data missing or
    bad in one of a few ways, and whether the guard must accept it."""
    first_absent_on = case["first_absent_on"] if case else today
    offer_on = case["offer_started_on"] if case and case["offer_started_on"] else first_absent_on
    span = lambda lo: today - timedelta(days=min(offset, max((today - lo).days, 0)))
    valid = {
        "plan_gesprek": ({"gesprek_on": today + timedelta(days=offset)} if variant % 2 else {}, None),
        "naar_zorgtafel": ({"gesprek_report": "Gesprek gevoerd met moeder en Sem.",
                            "route": sorted(ROUTES)[variant % len(ROUTES)]}, None),
        "maatwerkplan_vastgesteld": ({
            "offer": "Deeltijdrooster met begeleiding",
            "responsible_organisation_id": organisations[variant % 3],
            "planned_start_on": (today + timedelta(days=offset - 5)).isoformat(),
            **({"orientation_weeks": variant} if variant % 2 else {})}, None),
        "aanbod_gestart": ({"offer_started_on": span(first_absent_on)}, None),
        "aanbod_mislukt": ({}, "Plaatsing ging niet door."),
        "terugval": ({"home_again_on": span(offer_on).isoformat()}, "Weer thuis."),
        "nazorg_afgerond": ({"closing_reason": sorted(CLOSING_REASONS)[variant % len(CLOSING_REASONS)]}, None),
        "sluiten": ({"closing_reason": sorted(CLOSING_REASONS)[variant % len(CLOSING_REASONS)]}, "Verhuisd."),
        "bestaat_niet": ({}, None),
    }
    data, reason = valid[trigger]
    transition = TRANSITION_BY_TRIGGER.get(trigger)
    if mode == "valid" or transition is None:
        return data, reason, True
    if mode == "missing":
        needs = transition.needs_reason or any(f.required for f in transition.fields)
        return {}, None, not needs
    bad = {
        "plan_gesprek": [("gesprek_on", "31-02-2026")],
        "naar_zorgtafel": [("route", "onzin"), ("gesprek_report", "   ")],
        "maatwerkplan_vastgesteld": [("responsible_organisation_id", MISSING), ("planned_start_on", "morgen"),
                                     ("offer", ""), ("orientation_weeks", -1)],
        "aanbod_gestart": [("offer_started_on", today + timedelta(days=1 + offset)),
                           ("offer_started_on", first_absent_on - timedelta(days=1 + offset)),
                           ("offer_started_on", "gisteren")],
        "aanbod_mislukt": [("reason", "  ")],
        "terugval": [("home_again_on", today + timedelta(days=1)), ("reason", None),
                     ("home_again_on", offer_on - timedelta(days=1 + offset))],
        "nazorg_afgerond": [("closing_reason", "naar_mars"), ("closing_reason", None)],
        "sluiten": [("closing_reason", "zomaar"), ("reason", "")],
    }[trigger]
    name, value = bad[variant % len(bad)]
    data = dict(data)
    if name == "reason":
        reason = value
    else:
        data[name] = value
    return data, reason, False


# --- what holds after every step -----------------------------------------------------------------

def check_invariants(ctx, snap: Snapshot, case_ids: list[int], events: dict[int, int],
                     versions: dict[int, int]) -> None:
    """What holds of the whole database after every step, whatever the calls were; `case_ids`,
    `events` and `versions` are the model's own count of what the calls did."""
    assert sorted(snap.cases) == sorted(case_ids)
    assert {c: snap.events.get(c, 0) for c in snap.cases} == events, "events per case"
    assert {c: r["version"] for c, r in snap.cases.items()} == versions
    open_per_youth: dict[int, int] = {}
    for case in snap.cases.values():
        cid, state = case["id"], case["state"]
        mine = [d for d in snap.deadlines.values() if d["case_id"] == cid]
        live = [d for d in mine if d["status"] == "open"]
        suspensions = sorted((s["first_on"], s["last_on"]) for s in snap.suspensions.values()
                             if s["case_id"] == cid)
        assert case["has_suspensions"] == bool(suspensions)
        # Thuiszitterspact: three calendar months from its start, never paused, never moved.
        for d in mine:
            if d["kind"] == "thuiszitterspact":
                assert d["due_at"] == end_of_day(add_calendar_months(d["started_on"], PACT_MONTHS)), d
                assert d["step_id"] is None and d["rule"] == "calendar_months"
                if d["generation"] == 1:  # counted from the first day without education
                    assert d["started_on"] == case["first_absent_on"], d
        pact = [d for d in live if d["kind"] == "thuiszitterspact"]
        if state == FINAL:
            assert not live, f"closed case {cid} has open deadlines: {live}"
            assert not [t for t in snap.steps.values() if t["case_id"] == cid and t["status"] == "open"], (
                f"closed case {cid} has open steps")
            assert case["closed_at"] is not None and case["closing_reason"] in CLOSING_REASONS
            continue
        open_per_youth[case["youth_id"]] = open_per_youth.get(case["youth_id"], 0) + 1
        assert state in OPEN_STATES
        assert case["closed_at"] is None, f"open case {cid} has closed_at (the indexes' meaning of open)"
        if state in BEFORE_OFFER:
            assert len(pact) == 1, f"case {cid} in {state}: open Thuiszitterspact rows {pact}"
        else:
            assert state == "terugleiding"
            assert case["offer_started_on"] is not None, f"case {cid} in terugleiding without an offer start"
            assert not pact, "the offer started: the Thuiszitterspact clock stopped"
        # Exactly one open clock for the current state, none for any other state.
        own = [d for d in live if d["kind"] == state and d["step_id"] is None]
        assert len(own) == 1, f"case {cid} in {state}: open rows for its clock {own}"
        others = [d for d in live if d["kind"] in OPEN_STATES and d["kind"] != state]
        assert not others, f"case {cid} in {state} has clocks of other states open: {others}"
        assert len([d for d in live if d["kind"] == "lrv"]) <= 1
        for d in live:
            if d["due_at"] is None:  # paused: only by an open-ended suspension, only a school-day clock
                assert d["rule"] in SCHOOL_DAY_RULES and any(last is None for _, last in suspensions), d
            if d["rule"] in COMPUTED_RULES:  # what it says is what it is computed from
                again = recompute(ctx.calendar, ctx.rule_for(d["kind"]), d["inputs"], d["started_on"],
                                  case["region"], suspensions)
                assert again is not None and again.due_at == d["due_at"], (d, again)
        # Every open step of an open case has exactly one open clock, due when the step is.
        for step in snap.steps.values():
            if step["case_id"] != cid:
                continue
            clocks = [d for d in live if d["step_id"] == step["id"] and d["kind"] == "step"]
            if step["status"] == "open":
                assert len(clocks) == 1 and clocks[0]["due_at"] == step["due_at"], (step, clocks)
            else:
                assert not clocks, (step, clocks)
    assert all(n == 1 for n in open_per_youth.values()), open_per_youth
    # A reopened youth: the new case is linked to the youth's previous (closed) case.
    for case in snap.cases.values():
        previous = case["previous_case_id"]
        if previous is not None:
            assert previous < case["id"] and snap.cases[previous]["state"] == FINAL
            assert snap.cases[previous]["youth_id"] == case["youth_id"]
            assert not [c for c in snap.cases.values()
                        if c["youth_id"] == case["youth_id"] and previous < c["id"] < case["id"]]
