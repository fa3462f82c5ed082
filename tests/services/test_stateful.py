"""Random sequences of service calls on the real database, with the case invariants checked
against the database after every step (Hypothesis stateful testing).

The machine drives the REAL service layer (mas.services.cases / steps / timekeeping) on the
REAL database of the `db` fixture (SQLite and PostgreSQL), one `with db.begin()` transaction
per call, exactly as the web app does. Each Hypothesis example starts from a clean database:
the case tables are emptied in the machine's __init__; teams, organisations and users from
`world` stay.

For every call the machine predicts, from the database as it was before the call, whether it
must succeed or which ServiceError(s) it may fail with; it then checks what the call changed:

* a failed call changes nothing at all (every table of the case world identical);
* a successful call adds exactly one event to its case and none to any other;
* the version goes up by exactly one on a transition, a route change and a hand-over, and
  stays put on notes, steps, suspensions, extensions and signals that join a case;
* no call moves a Thuiszitterspact deadline; only the offer starting stops it;
* a closed case accepts nothing but a new signal, which opens a new, linked case.

After every step the database as a whole must satisfy the invariants in `check_database`.

This file holds the rules (which calls, with which inputs, expecting what); the model they
check against (snapshots, who may act, the expected outcome of a call, the invariants) is
stateful_model.py.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import fields
from datetime import date, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from mas.dates import local_date
from mas.models import Case
from mas.services import cases, steps, timekeeping
from mas.services.actors import Actor
from mas.services.errors import (
    CaseClosed,
    Conflict,
    Forbidden,
    GuardDataError,
    InvalidTransition,
    NotFound,
    ServiceError,
    ValidationError,
)
from mas.workflows.definition import TRANSITIONS
from mas.workflows.vocabulary import ROUTES
from tests.factories import fire, open_case, signal, valid_bsn, youth
from tests.services.helpers import count, events_of
from tests.services.stateful_model import (
    CLOSED_ERRORS,
    FINAL,
    MISSING,
    OWN_TABLES,
    PACT_MONTHS,
    TRANSITION_BY_TRIGGER,
    Expect,
    Failed,
    access_errors,
    case_world_tables,
    check_done,
    check_invariants,
    check_refused,
    clean_case_world,
    closed_errors,
    guard_data,
    pact_rows,
    snapshot,
)

# A small pool of youths, so that signals join open cases and reopen closed ones.
BSNS = tuple(valid_bsn(seed) for seed in (31_000_000, 32_000_000, 33_000_000, 34_000_000))
HAPPY_PATH = ("plan_gesprek", "naar_zorgtafel", "maatwerkplan_vastgesteld", "aanbod_gestart", "nazorg_afgerond")
JUMPS = (date(2026, 3, 6), date(2026, 4, 3), date(2026, 4, 24), date(2026, 4, 27), date(2026, 5, 5),
         date(2026, 5, 14), date(2026, 7, 17), date(2026, 10, 16), date(2026, 12, 18), date(2027, 2, 12),
         date(2027, 4, 27), date(2027, 7, 9), date(2027, 12, 24))
TRIGGERS = tuple(t.trigger for t in TRANSITIONS) + ("bestaat_niet",)
ACTOR_KEYS = ("director",) * 6 + ("coordinator_a", "coordinator_a", "regisseur_a", "regisseur_a2", "regisseur_b",
                                  "coordinator_b", "partner_wijkteam", "partner_ggd", "admin")


# --- the machine ---------------------------------------------------------------------------

def make_machine(db, ctx, world, start: datetime, stats: Counter | None = None):
    pact_rule = ctx.settings.clocks["thuiszitterspact"]
    assert (pact_rule.unit, pact_rule.amount) == ("calendar_months", PACT_MONTHS)
    actors = {f.name: getattr(world, f.name) for f in fields(world) if isinstance(getattr(world, f.name), Actor)}
    by_id = {a.id: a for a in actors.values()}
    team_coordinator = {world.team_a: world.coordinator_a, world.team_b: world.coordinator_b}
    # (actor, team the signal is entered for, casusregisseur_id for a new case)
    signal_entries = (
        ("regisseur_a", world.team_a, None), ("regisseur_a", world.team_a, world.regisseur_a.id),
        ("coordinator_a", world.team_a, world.regisseur_a.id), ("coordinator_a", world.team_a, None),
        ("regisseur_a2", world.team_a, world.regisseur_a.id), ("regisseur_b", world.team_b, None),
        ("coordinator_a", world.team_a, world.regisseur_b.id), ("partner_wijkteam", world.team_a, None),
        ("regisseur_a", world.team_b, None), ("admin", world.team_a, None),
    )
    organisations = (world.wijkteam, world.ggd, world.school, MISSING)
    tables = case_world_tables(db)
    others = [t for t in tables if t not in OWN_TABLES]
    take = lambda: snapshot(db, others)
    stats = Counter() if stats is None else stats

    class CaseMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            clean_case_world(db, tables)  # a clean case world per example; the `world` stays
            stats["examples"] += 1
            self.now = start
            self.case_ids: list[int] = []
            self.step_ids: list[int] = []
            self.suspension_ids: list[int] = []
            self.events: dict[int, int] = {}  # the model's own count of events per case
            self.versions: dict[int, int] = {}
            self.snap = self.before = take()

        # -- helpers ------------------------------------------------------------------
        @property
        def today(self) -> date:
            return local_date(self.now)

        def pick(self, ids: list[int], index: int) -> int:
            return MISSING if index < 0 or not ids else ids[index % len(ids)]

        def actor(self, key: str, case: dict | None) -> Actor:
            if key != "director":
                return actors[key]
            if case is None:
                return world.regisseur_a
            if case["casusregisseur_id"] is not None:
                return by_id[case["casusregisseur_id"]]
            return team_coordinator[case["team_id"]]

        def version(self, case: dict | None, which: str) -> int | None:
            if which == "none":
                return None
            current = case["version"] if case else 1
            return current if which == "current" else (current - 1 if current > 1 else current + 1)

        def run(self, op: str, case_id: int | None, expect, call, *, bump: bool = False):
            """Run one service call in its own transaction; check its outcome and its effect."""
            before = self.snap  # the database as read right after the previous call
            target = before.cases.get(case_id) if case_id is not None else None
            try:
                with db.begin() as conn:
                    result = call(conn)
            except ServiceError as err:
                check_refused(op, err, expect, before, take(), target)
                stats[op, type(err).__name__] += 1
                return Failed(err)
            after = take()
            self.before, self.snap = before, after
            if case_id is None:  # receive_signal: the target is known only now
                case_id = result.case_id
            check_done(op, expect, before, after, target, case_id, bump=bump)
            stats[op, "ok"] += 1
            # The model's own count of what the calls did, held against the database by check_database.
            self.events[case_id] = self.events.get(case_id, 0) + 1
            if case_id not in before.cases:
                self.case_ids.append(case_id)
                self.versions[case_id] = 1
            else:
                self.versions[case_id] += 1 if bump else 0
            return result

        @initialize(depths=st.lists(st.integers(0, 6), min_size=1, max_size=len(BSNS)), backdate=st.integers(0, 60),
                    with_steps=st.booleans(), suspended=st.sampled_from((None, 3, 8)))
        def open_cases(self, depths, backdate, with_steps, suspended):
            """Every example starts with a few cases, each taken some way along the flow (so that
            every rule meets cases in every state, closed ones included, whatever rules Hypothesis
            switches off for the example): 0-4 transitions on the happy path; 5: through nazorg to
            closed; 6: closed at once."""
            for who, depth in enumerate(depths):
                self.receive_signal(who, 0, backdate + who)
                index = len(self.case_ids) - 1
                if with_steps:
                    self.assign_step(index, "director", who % 2, 24 * (who + 3), 1)
                if suspended is not None and who % 2 == 0:  # since a few days, open-ended or not
                    self.suspend(index, "director", -suspended, None if suspended == 3 else 4, 1)
                path = ("sluiten",) if depth == 6 else HAPPY_PATH[:depth]
                for trigger in path:
                    self._fire(self.case_ids[index], trigger, "director", "valid", "current", who, who)
            assert len(self.case_ids) == len(depths)

        # -- rules: signals -------------------------------------------------------------
        @rule(who=st.integers(0, len(BSNS) - 1), entry=st.integers(0, len(signal_entries) - 1),
              backdate=st.integers(-2, 60), explicit=st.booleans())
        def receive_signal(self, who, entry, backdate, explicit=False):
            """A signal for one of a few youths: joins the open case, or opens a (linked) new one.
            The first day without education comes from the signal's period, or is given explicitly."""
            key, team_id, casusregisseur_id = signal_entries[entry]
            actor = actors[key]
            bsn = BSNS[who]
            first_absent_on = self.today - timedelta(days=backdate)
            youth_row = next((y for y in self.snap.youths.values() if y["bsn"] == bsn), None)
            latest = None
            if youth_row is not None:
                mine = [c for c in self.snap.cases.values() if c["youth_id"] == youth_row["id"]]
                latest = max(mine, key=lambda c: c["id"]) if mine else None
            joins = latest is not None and latest["state"] != FINAL
            # Another team's open case: the signal waits there for that team's decision, and the
            # sender is told nothing of the case.
            other_team = joins and latest["team_id"] != team_id
            regisseur = casusregisseur_id
            if regisseur is None and actor.role == "casusregisseur":
                regisseur = actor.id
            bad_regisseur = regisseur is not None and (by_id[regisseur].role not in ("casusregisseur", "coordinator")
                                                       or by_id[regisseur].team_id != team_id)
            expect = (Expect()
                      .fail(not (actor.role in ("casusregisseur", "coordinator") and actor.team_id == team_id),
                            Forbidden)
                      .fail(first_absent_on > self.today, ValidationError)
                      .fail(not joins and bad_regisseur, ValidationError)
                      .outcome())
            result = self.run("receive_signal", latest["id"] if other_team else None, expect, lambda conn: cases.receive_signal(
                conn, ctx, actor, youth(bsn=bsn), signal(period_first_on=first_absent_on), team_id=team_id,
                now=self.now, casusregisseur_id=casusregisseur_id,
                first_absent_on=first_absent_on if explicit else None))
            if isinstance(result, Failed):
                return
            before, after = self.before, self.snap
            assert result.routed == other_team and result.joined == (joins and not other_team)
            if other_team:
                assert result.case_id is None and result.reference is None  # nothing of the case
                assert after.signals[latest["id"]] == before.signals.get(latest["id"], 0) + 1  # kept, not lost
                assert after.cases[latest["id"]] == latest
                return
            assert after.signals[result.case_id] == before.signals.get(result.case_id, 0) + 1  # never lost
            if joins:
                assert result.case_id == latest["id"]
            else:
                new = after.cases[result.case_id]
                assert (new["state"], new["version"], new["team_id"]) == ("signaal", 1, team_id)
                assert new["first_absent_on"] == first_absent_on
                assert new["casusregisseur_id"] == regisseur
                assert result.previous_case_id == (latest["id"] if latest else None) == new["previous_case_id"]
                [pact] = pact_rows(after, result.case_id).values()
                assert (pact["started_on"], pact["status"]) == (first_absent_on, "open")
                if latest is not None:  # a closed case is never reopened: a new one is linked to it
                    assert after.cases[latest["id"]] == latest and new["youth_id"] == latest["youth_id"]

        # -- rules: transitions ---------------------------------------------------------
        @precondition(lambda self: self.case_ids)
        @rule(index=st.integers(-1, 10), trigger=st.sampled_from(TRIGGERS), who=st.sampled_from(ACTOR_KEYS),
              mode=st.sampled_from(("valid",) * 5 + ("missing", "bad")),
              which=st.sampled_from(("current",) * 5 + ("stale", "none")),
              offset=st.integers(0, 40), variant=st.integers(0, 11))
        def fire(self, index, trigger, who, mode, which, offset, variant):
            """Any transition of the flow on any case: valid or not, by anyone, with any data."""
            self._fire(self.pick(self.case_ids, index), trigger, who, mode, which, offset, variant)

        @precondition(lambda self: self.case_ids)
        @rule(index=st.integers(0, 10), choice=st.integers(0, 3), offset=st.integers(0, 40), variant=st.integers(0, 11))
        def progress(self, index, choice, offset, variant):
            """A transition the case's director may fire now, with valid data: moves cases along."""
            case_id = self.pick(self.case_ids, index)
            state = self.snap.cases[case_id]["state"]
            possible = [t.trigger for t in TRANSITIONS if state in t.sources and t.trigger != "sluiten"] or ["sluiten"]
            self._fire(case_id, possible[choice % len(possible)], "director", "valid", "current", offset, variant)

        def _fire(self, case_id, trigger, who, mode, which, offset, variant):
            case = self.snap.cases.get(case_id)
            actor = self.actor(who, case)
            data, reason, valid = guard_data(self.today, organisations, trigger, case, mode, offset, variant)
            transition = TRANSITION_BY_TRIGGER.get(trigger)
            expected_version = self.version(case, which)
            # The service's order: the case, the actor's access, the version seen (a stale form is
            # a conflict whatever it asks), the transition, a closed case, the state, the data.
            denied = access_errors(actor, case) if case is not None else None
            expect = (Expect()
                      .fail(case is None, NotFound)
                      .fail(denied is not None, *(denied or ()))
                      .fail(which == "stale", Conflict)
                      .fail(transition is None, InvalidTransition)
                      .fail(bool(case) and case["state"] == FINAL, CaseClosed)
                      .fail(bool(case) and transition is not None and case["state"] not in transition.sources,
                            InvalidTransition)
                      .either(not valid, GuardDataError)
                      .outcome())
            result = self.run("fire", case_id, expect, lambda conn: cases.fire(
                conn, ctx, actor, case_id, trigger, now=self.now, expected_version=expected_version,
                data=data, reason=reason), bump=True)
            if isinstance(result, Failed):
                return
            after = self.snap.cases[case_id]
            assert result == after["state"] == transition.dest
            if transition.dest == FINAL:
                assert after["closed_at"] == self.now and after["closing_reason"] == data["closing_reason"]
            if trigger == "aanbod_gestart":
                started = data["offer_started_on"]
                started = started if isinstance(started, date) else date.fromisoformat(started)
                assert after["offer_started_on"] == started
                assert not [r for r in pact_rows(self.snap, case_id).values() if r["status"] == "open"]
            pact_before, pact_after = pact_rows(self.before, case_id), pact_rows(self.snap, case_id)
            if trigger == "terugval":  # home again: the pact clock starts afresh from that day
                assert after["offer_started_on"] is None
                [running] = [r for r in pact_after.values() if r["status"] == "open"]
                assert running["started_on"] == date.fromisoformat(data["home_again_on"])
                assert {k: v for k, v in pact_after.items() if k in pact_before} == pact_before
            elif transition.dest != FINAL and trigger != "aanbod_gestart":
                # Including aanbod_mislukt: the offer never started, so the clock runs on untouched.
                assert pact_after == pact_before, trigger

        # -- rules: notes, route, hand-over -----------------------------------------------
        @precondition(lambda self: self.case_ids)
        @rule(index=st.integers(-1, 10), who=st.sampled_from(ACTOR_KEYS), blank=st.booleans())
        def add_note(self, index, who, blank):
            case_id = self.pick(self.case_ids, index)
            case = self.snap.cases.get(case_id)
            actor = self.actor(who, case)
            text = "   " if blank else "Moeder gebeld; gesprek donderdag."
            if case is not None and case["state"] == FINAL:
                expect = closed_errors(actor, case)
            else:
                expect = Expect().fail(True, *access_errors(actor, case)) if access_errors(actor, case) else (
                    Expect().fail(blank, ValidationError))
                expect = expect.outcome()
            self.run("add_note", case_id, expect,
                     lambda conn: cases.add_note(conn, actor, case_id, text, now=self.now))

        @precondition(lambda self: self.case_ids)
        @rule(index=st.integers(-1, 10), who=st.sampled_from(ACTOR_KEYS),
              route=st.sampled_from(tuple(ROUTES) + ("onzin",)), blank=st.booleans(),
              which=st.sampled_from(("current",) * 3 + ("stale", "none")))
        def change_route(self, index, who, route, blank, which):
            case_id = self.pick(self.case_ids, index)
            case = self.snap.cases.get(case_id)
            actor = self.actor(who, case)
            reason = "" if blank else "Halt past beter."
            expected_version = self.version(case, which)
            if case is not None and case["state"] == FINAL:
                expect = closed_errors(actor, case, stale=which == "stale")
            else:
                access = access_errors(actor, case)
                expect = (Expect().fail(access is not None, *(access or ()))
                          .either(which == "stale", Conflict)
                          .either(route not in ROUTES or blank, ValidationError).outcome())
            result = self.run("change_route", case_id, expect, lambda conn: cases.change_route(
                conn, ctx, actor, case_id, route, now=self.now, expected_version=expected_version, reason=reason),
                bump=True)
            if not isinstance(result, Failed):
                assert self.snap.cases[case_id]["route"] == route

        @precondition(lambda self: self.case_ids)
        @rule(index=st.integers(-1, 10), who=st.sampled_from(ACTOR_KEYS),
              to=st.sampled_from(("regisseur_a", "regisseur_a2", "regisseur_a2", "regisseur_b", "coordinator_a",
                                  "partner_wijkteam", "missing")),
              which=st.sampled_from(("current",) * 3 + ("stale", "none")))
        def hand_over(self, index, who, to, which):
            case_id = self.pick(self.case_ids, index)
            case = self.snap.cases.get(case_id)
            actor = self.actor(who, case)
            to_user = actors[to] if to != "missing" else None
            to_id = to_user.id if to_user else MISSING
            expected_version = self.version(case, which)
            if case is not None and case["state"] == FINAL:
                expect = closed_errors(actor, case, stale=which == "stale")
            else:
                access = access_errors(actor, case)
                bad_target = case is not None and (to_user is None or to_user.role != "casusregisseur"
                              or to_user.team_id != case["team_id"] or to_id == case["casusregisseur_id"])
                expect = (Expect().fail(access is not None, *(access or ()))
                          .either(which == "stale", Conflict)
                          .either(bad_target, ValidationError).outcome())
            result = self.run("hand_over", case_id, expect, lambda conn: cases.hand_over(
                conn, actor, case_id, to_id, now=self.now, expected_version=expected_version, reason="Verlof"),
                bump=True)
            if not isinstance(result, Failed):
                assert self.snap.cases[case_id]["casusregisseur_id"] == to_id

        # -- rules: steps ---------------------------------------------------------------
        @precondition(lambda self: self.case_ids)
        @rule(index=st.integers(-1, 10), who=st.sampled_from(ACTOR_KEYS), org=st.integers(0, 6),
              hours=st.integers(-24, 24 * 30), blank=st.integers(0, 9))
        def assign_step(self, index, who, org, hours, blank):
            case_id = self.pick(self.case_ids, index)
            case = self.snap.cases.get(case_id)
            actor = self.actor(who, case)
            organisation_id = organisations[min(org, 3)]
            due_at = self.now + timedelta(hours=hours)
            blank = blank == 0
            title = " " if blank else "Intake jeugdarts"
            if case is not None and case["state"] == FINAL:
                expect = closed_errors(actor, case)
            else:
                access = access_errors(actor, case)
                expect = (Expect().fail(access is not None, *(access or ()))
                          .either(blank or organisation_id == MISSING or hours <= 0, ValidationError).outcome())
            result = self.run("assign_step", case_id, expect, lambda conn: steps.assign_step(
                conn, ctx, actor, case_id, organisation_id=organisation_id, title=title, due_at=due_at, now=self.now))
            if not isinstance(result, Failed):
                self.step_ids.append(result)
                step = self.snap.steps[result]
                assert (step["status"], step["organisation_id"], step["due_at"]) == ("open", organisation_id, due_at)

        def _step_case(self, step_id):
            step = self.snap.steps.get(step_id)
            return step, (self.snap.cases[step["case_id"]] if step else None)

        @precondition(lambda self: self.step_ids)
        @rule(index=st.integers(-1, 10),
              who=st.sampled_from(("assignee", "assignee", "assignee", "partner_wijkteam", "partner_ggd", "director",
                                   "coordinator_a", "regisseur_b", "admin")),
              which=st.sampled_from(("current",) * 3 + ("stale", "none")))
        def complete_step(self, index, who, which):
            step_id = self.pick(self.step_ids, index)
            step, case = self._step_case(step_id)
            if who == "assignee":  # a partner of the step's own organisation (the school has none: wijkteam)
                who = "partner_ggd" if step and step["organisation_id"] == world.ggd else "partner_wijkteam"
            actor = self.actor(who, case)
            expected_version = None if which == "none" or step is None else (
                step["version"] if which == "current" else step["version"] + 1)
            if step is None:
                expect = (NotFound,)
            else:
                if actor.role == "partner":
                    access = None if actor.organisation_id == step["organisation_id"] else (NotFound,)
                else:
                    access = access_errors(actor, case)
                if case["state"] == FINAL:
                    expect = CLOSED_ERRORS + (access or ())
                else:
                    expect = (Expect().fail(access is not None, *(access or ()))
                              .either(step["status"] != "open", ValidationError)
                              .either(which == "stale", Conflict).outcome())
            case_id = step["case_id"] if step else None
            result = self.run("complete_step", case_id if case_id else MISSING, expect,
                              lambda conn: steps.complete_step(conn, actor, step_id, now=self.now,
                                                               expected_version=expected_version, note="Gedaan."))
            if not isinstance(result, Failed):
                done = self.snap.steps[step_id]
                assert (done["status"], done["version"]) == ("done", step["version"] + 1)
                assert not [d for d in self.snap.deadlines.values()
                            if d["step_id"] == step_id and d["status"] == "open"]

        @precondition(lambda self: self.step_ids)
        @rule(index=st.integers(-1, 10), who=st.sampled_from(ACTOR_KEYS), org=st.integers(0, 3),
              hours=st.one_of(st.none(), st.integers(-24, 24 * 30)),
              which=st.sampled_from(("current",) * 3 + ("stale", "none")))
        def reassign_step(self, index, who, org, hours, which):
            step_id = self.pick(self.step_ids, index)
            step, case = self._step_case(step_id)
            actor = self.actor(who, case)
            organisation_id = organisations[org]
            due_at = None if hours is None else self.now + timedelta(hours=hours)
            expected_version = None if which == "none" or step is None else (
                step["version"] if which == "current" else step["version"] + 1)
            if step is None:
                expect = (NotFound,)
            elif case["state"] == FINAL:
                expect = closed_errors(actor, case, stale=which == "stale")
            else:
                access = access_errors(actor, case)
                expect = (Expect().fail(access is not None, *(access or ()))
                          .either(step["status"] != "open" or organisation_id == MISSING
                                  or (hours is not None and hours <= 0), ValidationError)
                          .either(which == "stale", Conflict).outcome())
            result = self.run("reassign_step", step["case_id"] if step else MISSING, expect,
                              lambda conn: steps.reassign_step(
                                  conn, ctx, actor, step_id, organisation_id=organisation_id, now=self.now,
                                  expected_version=expected_version, due_at=due_at, reason="Andere partner"))
            if not isinstance(result, Failed):
                moved = self.snap.steps[step_id]
                assert moved["organisation_id"] == organisation_id
                assert moved["due_at"] == (due_at or step["due_at"])

        # -- rules: suspensions and extensions ------------------------------------------
        @precondition(lambda self: self.case_ids)
        @rule(index=st.integers(-1, 10), who=st.sampled_from(ACTOR_KEYS), start=st.integers(-20, 10),
              length=st.one_of(st.none(), st.integers(-3, 25), st.integers(0, 10)), blank=st.integers(0, 9))
        def suspend(self, index, who, start, length, blank):
            case_id = self.pick(self.case_ids, index)
            case = self.snap.cases.get(case_id)
            actor = self.actor(who, case)
            first_on = self.today + timedelta(days=start)
            last_on = None if length is None else first_on + timedelta(days=length)
            reason = "" if blank == 0 else "Ziekenhuisopname"
            if case is not None and case["state"] == FINAL:
                expect = closed_errors(actor, case)
            else:
                access = access_errors(actor, case)
                overlaps = any(
                    (s["last_on"] is None or first_on <= s["last_on"]) and (last_on is None or s["first_on"] <= last_on)
                    for s in self.snap.suspensions.values() if s["case_id"] == case_id)
                expect = (Expect().fail(access is not None, *(access or ()))
                          .either(reason == "" or (last_on is not None and last_on < first_on) or overlaps,
                                  ValidationError).outcome())
            result = self.run("suspend", case_id, expect, lambda conn: timekeeping.suspend(
                conn, ctx, actor, case_id, first_on=first_on, last_on=last_on, reason=reason, now=self.now))
            if not isinstance(result, Failed):
                self.suspension_ids.append(result)
                assert self.snap.cases[case_id]["has_suspensions"]

        @precondition(lambda self: self.suspension_ids)
        @rule(index=st.integers(-1, 10), running=st.sampled_from((True, True, True, False)),
              who=st.sampled_from(ACTOR_KEYS),
              anchor=st.sampled_from(("first", "today", "today")), days=st.integers(-2, 20))
        def resume(self, index, running, who, anchor, days):
            pool = [i for i in self.suspension_ids if self.snap.suspensions[i]["last_on"] is None] if running else []
            suspension_id = self.pick(pool or self.suspension_ids, index)
            row = self.snap.suspensions.get(suspension_id)
            case = self.snap.cases[row["case_id"]] if row else None
            actor = self.actor(who, case)
            if anchor == "first" and row is not None:
                last_on = row["first_on"] + timedelta(days=days)  # its last suspended day
            elif row is not None and days >= 0:  # some day between its start and today
                last_on = self.today - timedelta(days=min(days, max((self.today - row["first_on"]).days, 0)))
            else:
                last_on = self.today - timedelta(days=days)
            if row is None:
                expect = (NotFound,)
            elif case["state"] == FINAL:
                expect = closed_errors(actor, case)
            else:
                access = access_errors(actor, case)
                expect = (Expect().fail(access is not None, *(access or ()))
                          .either(row["last_on"] is not None or last_on < row["first_on"] or last_on > self.today,
                                  ValidationError).outcome())
            result = self.run("resume", row["case_id"] if row else MISSING, expect, lambda conn: timekeeping.resume(
                conn, ctx, actor, suspension_id, last_on=last_on, now=self.now))
            if not isinstance(result, Failed):
                assert self.snap.suspensions[suspension_id]["last_on"] == last_on

        @precondition(lambda self: self.case_ids)
        @rule(index=st.integers(-1, 40), open_only=st.booleans(), who=st.sampled_from(ACTOR_KEYS),
              base=st.sampled_from(("due", "now")), hours=st.integers(-48, 24 * 40), blank=st.integers(0, 9))
        def extend_deadline(self, index, open_only, who, base, hours, blank):
            rows = [r for r in self.snap.deadlines.values() if r["status"] == "open" or not open_only]
            deadline_id = self.pick([r["id"] for r in rows], index)
            row = self.snap.deadlines.get(deadline_id)
            case = self.snap.cases[row["case_id"]] if row else None
            actor = self.actor(who, case)
            anchor = row["due_at"] if row and row["due_at"] and base == "due" else self.now
            due_at = anchor + timedelta(hours=hours)
            reason = "" if blank == 0 else "Ouders op vakantie"
            if row is None:
                expect = (NotFound,)
            elif case["state"] == FINAL:
                expect = closed_errors(actor, case)
            else:
                access = access_errors(actor, case)
                too_early = due_at <= self.now or (row["due_at"] is not None and due_at <= row["due_at"])
                expect = (Expect().fail(access is not None, *(access or ()))
                          .either(row["status"] != "open" or not ctx.clock(row["kind"]).extendable or too_early
                                  or reason == "", ValidationError).outcome())
            result = self.run("extend_deadline", row["case_id"] if row else MISSING, expect,
                              lambda conn: timekeeping.extend_deadline(conn, ctx, actor, deadline_id, due_at=due_at,
                                                                       reason=reason, now=self.now))
            if not isinstance(result, Failed):
                assert self.snap.deadlines[deadline_id]["status"] == "closed"
                [new] = [r for r in self.snap.deadlines.values() if r["status"] == "open" and r["kind"] == row["kind"]
                         and r["case_id"] == row["case_id"] and r["step_id"] == row["step_id"]]
                assert new["due_at"] == due_at and new["rule"] == "fixed"
                if row["step_id"] is not None:
                    assert self.snap.steps[row["step_id"]]["due_at"] == due_at

        # -- rules: time ----------------------------------------------------------------
        @rule(hours=st.sampled_from((1, 7, 15, 24, 49, 72, 24 * 5, 24 * 7, 24 * 14, 24 * 21)),
              jump=st.one_of(st.none(), st.sampled_from(JUMPS)), hour=st.sampled_from((0, 9, 22, 23)))
        def time_passes(self, hours, jump, hour):
            """By hours to weeks, or to the next of a few awkward days (a Friday before a holiday,
            a public holiday, the end of a school year) at the edges of a local day (UTC hours)."""
            stats["time_passes"] += 1
            if jump is not None:
                later = [d for d in JUMPS[JUMPS.index(jump):] + JUMPS if d > self.today]
                if later:
                    moment = datetime.combine(later[0], datetime.min.time(), tzinfo=self.now.tzinfo)
                    self.now = max(self.now + timedelta(hours=1), moment + timedelta(hours=hour))
                    return
            self.now += timedelta(hours=hours)

        # -- invariants -----------------------------------------------------------------
        @invariant()
        def check_database(self):
            stats["steps"] += 1
            # read from the database right after the last call (rules without one change nothing)
            check_invariants(ctx, self.snap, self.case_ids, self.events, self.versions)

    return CaseMachine


@pytest.mark.slow
def test_random_sequences_of_service_calls_keep_the_invariants(db, ctx, world, now):
    stats = Counter()
    machine = make_machine(db, ctx, world, now, stats)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=50, stateful_step_count=40, deadline=None, database=None, print_blob=True,
    ))
    print(sorted(stats.items(), key=str))


# --- the bugs this machine found (fixed in 498ed34), kept as plain regression tests -----------

def test_a_closed_case_takes_no_notes(db, ctx, world, now):
    case_id = open_case(db, ctx, world, now).case_id
    fire(db, ctx, world, case_id, "sluiten", now)
    before = events_of(db, case_id)
    with pytest.raises(CaseClosed), db.begin() as conn:
        cases.add_note(conn, world.regisseur_a, case_id, "Na sluiting nog gebeld.", now=now)
    assert events_of(db, case_id) == before


@pytest.mark.parametrize("explicit", [False, True])
def test_a_signal_whose_first_day_is_tomorrow_is_refused(db, ctx, world, now, explicit):
    """Whether the first day without education is given or taken from the melding's period."""
    tomorrow = local_date(now) + timedelta(days=1)
    with pytest.raises(ValidationError) as err, db.begin() as conn:
        cases.receive_signal(conn, ctx, world.regisseur_a, youth(), signal(period_first_on=tomorrow),
                             team_id=world.team_a, now=now, first_absent_on=tomorrow if explicit else None)
    assert {"first_absent_on", "period_first_on"} & set(err.value.errors)
    assert count(db, Case.__table__) == 0
