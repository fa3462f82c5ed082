"""The case engine against its floors and against SpiffWorkflow, on SQLite.

    python bench/engine.py              # full run: N = 2,000 cases, 5 interleaved rounds
    python bench/engine.py --quick      # CI: N = 200, 3 rounds (the JSON says "quick": true)
    python bench/engine.py --n 5000 --rounds 3
    python bench/engine.py --profile    # cProfile of the engine arm only, then exit

One lifecycle: open a case from a signal, then the five transitions of the happy path
(plan_gesprek, naar_zorgtafel, maatwerkplan_vastgesteld, aanbod_gestart, nazorg_afgerond).
Every step is its own transaction (BEGIN IMMEDIATE … COMMIT) with its events and deadline rows.

The arms, each on its own copy of one template file (migrated by mas.db.upgrade, so tables
and indexes are identical; the same seeded world), WAL and synchronous=NORMAL throughout:

  engine  mas.services.cases.receive_signal / fire, each inside mas.db.Database.begin()
  core    the floor of the stack: the same statements as prebuilt SQLAlchemy Core
          statements on the mas tables, through the same kind of Database (one pooled
          connection checkout per transaction, as a web request has, BEGIN IMMEDIATE),
          each run with Connection.execute. The engine runs its hot statements through
          mas.prepared (compiled once, executed on the driver inside the same kind of
          transaction), so it can come in under this floor: the ratio says by how much.
  raw     the raw floor: the same SQL text through plain sqlite3 on one connection
  spiff   SpiffWorkflow running the equivalent five-user-task BPMN process (bench/spiff)

Honesty checks, both fatal (exit 2): before timing, every arm runs a few lifecycles with
SQLite's statement trace on and must send the same statements, transaction by transaction
(so a change to the engine's SQL shows up here instead of skewing the ratios); after every
round, engine, core and raw must have written identical rows to every table, and each arm
must hold N + warm-up closed cases. SQLite's trace shows the SQL with its values expanded,
so the first check also compares parameters; the second catches anything at full scale.

Timing (the machine is shared and noisy): in every round each arm gets a fresh copy of the
template and runs a few untimed warm-up lifecycles; then the arms take turns, in chunks of
CHUNK lifecycles and in rotating order, until each has run N timed ones, so that a burst of
load elsewhere falls on all arms alike. The figures are medians of the per-round times.

Peak RSS of the engine arm at N and at 4N is measured each in a fresh child process
(`--child-rss`, on a copy of the parent's template, so migrations never count), as VmHWM on
Linux (see bench.common.peak_rss_mb for why not ru_maxrss).

The floors mirror the engine's statements by hand; when the engine changes what it sends,
the checks above stop the bench and name the first differing statement: update the floors.
The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import itertools
import os
import platform
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

if __package__ in (None, ""):  # run as `python bench/engine.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy
from sqlalchemy import bindparam, event, func, select, update

from bench.common import checkpoint, current_rss_mb, json_line, median, peak_rss_mb, rotated, run_child, table
from mas.dates import local_date
from mas.db import Database, json_dumps, upgrade
from mas.models import (
    DEADLINE_OPEN,
    Case,
    CaseEvent,
    Deadline,
    Guardian,
    Organisation,
    ReferenceCounter,
    Signal,
    Team,
    User,
    Youth,
)
from mas.models import Step as TaskStep  # a task within a case (this module's Step is a lifecycle step)
from mas.settings import load_settings

FULL_N, QUICK_N = 2_000, 200
FULL_ROUNDS, QUICK_ROUNDS = 5, 3
WARMUP = 20  # untimed lifecycles per arm and round: compiled-statement caches, calendar windows, page cache
TRACE_CASES = 3
CHUNK = 100  # lifecycles per arm between switches of arm within a round
ARMS = ("raw", "core", "engine", "spiff")
MAS_ARMS = ("raw", "core", "engine")

# Targets of the issue (judged on the full run; never asserted in a test).
TARGET_SPEEDUP_VS_SPIFF = 2.5
TARGET_RATIO_TO_CORE = 1.5
TARGET_RSS_GROWTH = 1.10

# --- the lifecycle ------------------------------------------------------------------------

NOW = datetime(2026, 3, 3, 9, 0, tzinfo=timezone.utc)  # a Tuesday in term time, 10:00 in Amsterdam
YEAR = 2026
FIRST_ABSENT_ON = date(2026, 2, 2)
BIRTH_ON = date(2012, 5, 14)
YOUTH = dict(given_name="Sem", family_name="de Vries", birth_on=BIRTH_ON, municipality="Utrecht")
GUARDIAN = dict(name="Anna de Vries", relation="moeder", phone="0612345678", email=None, has_custody=True)
SIGNAL = dict(kind="lrv", source="school", reporter_name="M. Jansen", reporter_function="zorgcoördinator",
              reporter_phone=None, reporter_email=None, period_first_on=FIRST_ABSENT_ON, period_last_on=None,
              hours_missed=64.0, description="Al vier weken niet op school.")
ROLE = "casusregisseur"
REGION = "midden"  # the team's default vakantieregio (the youth has no school, so the case takes it)
INITIAL = "signaal"
FINAL = "afgesloten"
ORG_PLACEHOLDER = object()  # the seeded wijkteam's id, filled in per world


@dataclass(frozen=True)
class Step:
    trigger: str
    source: str
    dest: str
    form: dict  # what the user submits (strings, as a form or the API sends them)


STEPS = (
    Step("plan_gesprek", "signaal", "gesprek", {}),
    Step("naar_zorgtafel", "gesprek", "zorgtafel", {"gesprek_report": "Gesprek gevoerd.", "route": "vrijwillig"}),
    Step("maatwerkplan_vastgesteld", "zorgtafel", "aanbod",
         {"offer": "Deeltijdrooster", "responsible_organisation_id": ORG_PLACEHOLDER,
          "planned_start_on": "2026-03-23"}),
    Step("aanbod_gestart", "aanbod", "terugleiding", {"offer_started_on": "2026-03-02"}),
    Step("nazorg_afgerond", "terugleiding", FINAL, {"closing_reason": "terug_naar_school"}),
)


def bsns(start: int = 20_000_000) -> Iterator[str]:
    """Distinct BSNs passing the elfproef, the same sequence for every arm (test data only)."""
    for n in itertools.count(start):
        digits = f"{n:08d}"
        check = sum(int(d) * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2))) % 11
        if check < 10:
            yield digits + str(check)


# --- the seeded world and the template file ------------------------------------------------


@dataclass(frozen=True)
class World:
    team_id: int
    user_id: int  # the casusregisseur who does everything
    organisation_id: int  # the wijkteam responsible for the maatwerkplan

    def form(self, step: Step) -> dict:
        return {k: (self.organisation_id if v is ORG_PLACEHOLDER else v) for k, v in step.form.items()}


def make_template(directory: Path) -> tuple[Path, World]:
    """A migrated file with one team, its casusregisseur, three organisations and this year's
    reference counter (so that every lifecycle, the first included, takes the same path)."""
    path = directory / "template.sqlite3"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    t, o, u = Team.__table__, Organisation.__table__, User.__table__
    with db.begin() as conn:
        team_id = conn.execute(t.insert().returning(t.c.id), dict(
            name="Leerplicht Utrecht", municipalities=["Utrecht"], default_region=REGION, created_at=NOW,
        )).scalar_one()
        orgs = {}
        for name, kind, extra in (("Het Baken College", "school", {"brin": "12AB", "municipality": "Utrecht"}),
                                  ("Wijkteam Overvecht", "wijkteam", {}), ("GGD regio Utrecht", "ggd", {})):
            orgs[kind] = conn.execute(o.insert().returning(o.c.id), dict(
                name=name, kind=kind, contact_email=f"{kind}@example.org", is_active=True, created_at=NOW, **extra,
            )).scalar_one()
        user_id = conn.execute(u.insert().returning(u.c.id), dict(
            email="regisseur@example.org", name="regisseur", role=ROLE, team_id=team_id, is_active=True,
            created_at=NOW,
        )).scalar_one()
        conn.execute(ReferenceCounter.__table__.insert(), {"year": YEAR, "last": 0})
    db.dispose()
    checkpoint(path)
    return path, World(team_id=team_id, user_id=user_id, organisation_id=orgs["wijkteam"])


def fresh_copy(template: Path, target: Path) -> Path:
    shutil.copyfile(template, target)
    return target


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def settings_for(path: Path):
    return load_settings(environ={}, env="test", instance_dir=path.parent / "instance",
                         database_url=f"sqlite:///{path}")


# --- what the floors write: the engine's values, computed once (the floors run no rules) ---


@dataclass(frozen=True)
class Clock:
    kind: str
    started_on: date
    due_at: datetime
    rule: str
    inputs: dict
    next_at: datetime | None  # when its escalation ladder's first level falls due

    @property
    def due_iso(self) -> str:
        return self.due_at.isoformat()


@dataclass(frozen=True)
class FloorStep:
    step: Step
    data: dict  # the cleaned guard data as the event stores it (JSON-ready)
    changes: dict  # case columns besides state/version/updated_at, as Python values (Core)
    raw_changes: tuple  # the same values as SQLite stores them (raw)
    raw_update: str  # the raw UPDATE "case" statement for these columns
    clock: Clock | None  # the clock started on entering `dest`
    check_org: int | None  # the organisation whose existence the guard checks
    pact_stop: bool
    close_all: bool


@dataclass(frozen=True)
class Plan:
    region: str
    opening_clocks: tuple[Clock, ...]
    steps: tuple[FloorStep, ...]


def _clock(ctx, computed, region: str) -> Clock:
    next_at = ctx.ladders.next_after(computed.kind, 0, computed.due_at, computed.started_on, region, ctx.calendar)
    return Clock(computed.kind, computed.started_on, computed.due_at, computed.rule, computed.inputs, next_at)


def _sqlite_dt(value: datetime) -> str:
    """How SQLAlchemy stores an aware datetime in SQLite through mas.db.UTCDateTime."""
    return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


_CASE_COLUMNS = [c.name for c in Case.__table__.columns]


def make_plan(ctx, world: World) -> Plan:
    from mas.clocks import rules as clocks

    region = REGION
    today = local_date(NOW)
    opening = (clocks.state_clock(ctx, INITIAL, today, region), clocks.pact_clock(ctx, FIRST_ABSENT_ON),
               clocks.lrv_clock(ctx, FIRST_ABSENT_ON, region))
    steps = []
    maatwerkplan = None
    for step in STEPS:
        form = world.form(step)
        data = dict(form)
        changes: dict = {}
        if step.trigger == "naar_zorgtafel":
            changes = {"route": form["route"], "gesprek_report": form["gesprek_report"]}
        elif step.trigger == "maatwerkplan_vastgesteld":
            maatwerkplan = dict(form)
            changes = {"maatwerkplan": maatwerkplan}
        elif step.trigger == "aanbod_gestart":
            changes = {"offer_started_on": date.fromisoformat(form["offer_started_on"])}
        elif step.dest == FINAL:
            changes = {"closing_reason": form["closing_reason"], "closed_at": NOW}
        columns = sorted(changes, key=_CASE_COLUMNS.index)
        raw_changes = tuple(
            json_dumps(changes[c]) if isinstance(changes[c], dict)
            else _sqlite_dt(changes[c]) if isinstance(changes[c], datetime)
            else changes[c].isoformat() if isinstance(changes[c], date) else changes[c]
            for c in columns
        )
        raw_update = (
            'UPDATE "case" SET state=?, version=("case".version + ?), '
            + "".join(f"{c}=?, " for c in columns)
            + 'updated_at=? WHERE "case".id = ? AND "case".version = ?'
        )
        clock = None
        if step.dest != FINAL:
            computed = clocks.state_clock(ctx, step.dest, today, region, (), maatwerkplan)
            clock = _clock(ctx, computed, region) if computed is not None else None
        steps.append(FloorStep(
            step=step, data=data, changes=dict(zip(columns, (changes[c] for c in columns))),
            raw_changes=raw_changes, raw_update=raw_update, clock=clock,
            check_org=form.get("responsible_organisation_id"),
            pact_stop=step.trigger == "aanbod_gestart", close_all=step.dest == FINAL,
        ))
    return Plan(region=region, opening_clocks=tuple(_clock(ctx, c, region) for c in opening), steps=tuple(steps))


# --- arm: the engine ------------------------------------------------------------------------


class Arm:
    """One arm on its own file: set up untimed in __init__, then `run(count)` times `count`
    lifecycles; calls continue where the last one stopped (ids, BSNs), so a round can
    interleave the arms in chunks."""

    name = ""

    def lifecycles(self, count: int) -> None:
        raise NotImplementedError

    def run(self, count: int) -> float:
        start = time.perf_counter()
        self.lifecycles(count)
        return time.perf_counter() - start

    def close(self) -> None:
        pass


class EngineArm(Arm):
    """The service layer, exactly as a view or the API calls it: one Database.begin() per step."""

    name = "engine"

    def __init__(self, path: Path, world: World, plan: Plan | None = None, trace: Callable[[str], None] | None = None):
        from mas.context import make_context
        from mas.services import cases
        from mas.services.actors import Actor
        from mas.services.inputs import GuardianInput, SignalInput, YouthInput

        settings = settings_for(path)
        self.ctx = make_context(settings)
        self.db = Database(settings.database_url)
        _maybe_trace(self.db, trace)
        self.cases, self.youth_input = cases, YouthInput
        self.world = world
        self.actor = Actor(id=world.user_id, role=ROLE, team_id=world.team_id)
        self.guardians = (GuardianInput(**GUARDIAN),)
        self.signal = SignalInput(**SIGNAL)
        self.steps = [(s.trigger, world.form(s)) for s in STEPS]
        self.numbers = bsns()

    def lifecycles(self, count: int) -> None:
        cases, db, ctx, actor, team_id = self.cases, self.db, self.ctx, self.actor, self.world.team_id
        for _ in range(count):
            youth = self.youth_input(**YOUTH, bsn=next(self.numbers), guardians=self.guardians)
            with db.begin() as conn:
                opened = cases.receive_signal(conn, ctx, actor, youth, self.signal, team_id=team_id, now=NOW,
                                              casusregisseur_id=actor.id)
            for version, (trigger, form) in enumerate(self.steps, start=1):
                with db.begin() as conn:
                    state = cases.fire(conn, ctx, actor, opened.case_id, trigger, now=NOW,
                                       expected_version=version, data=form, reason=None)
            if opened.joined or state != FINAL:
                raise RuntimeError(f"case {opened.case_id} ended in {state!r}")

    def close(self) -> None:
        self.db.dispose()


def _maybe_trace(db: Database, trace) -> None:
    if trace is not None:
        event.listen(db.engine, "connect", lambda dbapi_connection, _record: dbapi_connection.set_trace_callback(trace))


# --- arm: the stack's floor, prebuilt SQLAlchemy Core ----------------------------------------

_c, _y, _g, _sig, _org, _ref, _u, _team, _d, _ev, _st = (
    Case.__table__, Youth.__table__, Guardian.__table__, Signal.__table__, Organisation.__table__,
    ReferenceCounter.__table__, User.__table__, Team.__table__, Deadline.__table__, CaseEvent.__table__,
    TaskStep.__table__,
)


class Core:
    """The engine's statements, written out once as Core (no service code, no rules)."""

    youth_by_bsn = select(_y.c.id).where(_y.c.bsn == bindparam("bsn"))
    insert_youth = _y.insert().returning(_y.c.id)
    insert_guardian = _g.insert()
    region = select(
        select(_org.c.municipality).where(_org.c.id == bindparam("school_id")).scalar_subquery(),
        select(_team.c.default_region).where(_team.c.id == bindparam("team_id")).scalar_subquery(),
    )
    next_reference = (update(_ref).where(_ref.c.year == bindparam("y")).values(last=_ref.c.last + 1)
                      .returning(_ref.c.last))
    insert_case = _c.insert().returning(_c.c.id)
    insert_signal = _sig.insert()
    insert_first_clocks = _d.insert().values(generation=1)
    insert_clock = _d.insert().values(generation=(
        select(func.coalesce(func.max(_d.c.generation), 0) + 1)
        .where(_d.c.case_id == bindparam("g_case_id"), _d.c.kind == bindparam("g_kind"), _d.c.step_id.is_(None))
        .scalar_subquery()
    ))
    insert_event = _ev.insert()
    select_case = select(
        _c.c.id, _c.c.reference, _c.c.state, _c.c.version, _c.c.team_id, _c.c.casusregisseur_id, _c.c.region,
        _c.c.youth_id, _c.c.first_absent_on, _c.c.has_suspensions, _c.c.maatwerkplan, _c.c.offer_started_on,
    ).where(_c.c.id == bindparam("case_id"))
    active_org = select(_org.c.id).where(_org.c.id == bindparam("org_id"), _org.c.is_active.is_(True))
    close_clock = (
        update(_d).where(_d.c.case_id == bindparam("w_case_id"), _d.c.kind == bindparam("w_kind"),
                         _d.c.step_id.is_(None), _d.c.status == DEADLINE_OPEN)
        .values(status=bindparam("status"), closed_at=bindparam("closed_at"), closed_reason=bindparam("closed_reason"))
    )
    close_all = (
        update(_d).where(_d.c.case_id == bindparam("w_case_id"), _d.c.status == DEADLINE_OPEN)
        .values(status="closed", closed_at=bindparam("closed_at"), closed_reason=bindparam("closed_reason"))
    )
    cancel_open_steps = (
        update(_st).where(_st.c.case_id == bindparam("w_case_id"), _st.c.status == "open")
        .values(status="cancelled", version=_st.c.version + 1)
    )

    @staticmethod
    def update_case(columns):
        return (update(_c).where(_c.c.id == bindparam("w_id"), _c.c.version == bindparam("w_version"))
                .values(version=_c.c.version + 1, **{c: bindparam(c, type_=_c.c[c].type) for c in columns}))


def _first_clock_row(clock: Clock, case_id: int) -> dict:
    return {"case_id": case_id, "step_id": None, "kind": clock.kind, "started_on": clock.started_on,
            "due_at": clock.due_at, "rule": clock.rule, "inputs": clock.inputs, "organisation_id": None,
            "next_at": clock.next_at}


def _clock_row(clock: Clock, case_id: int) -> dict:
    return {"case_id": case_id, "step_id": None, "kind": clock.kind, "started_on": clock.started_on,
            "due_at": clock.due_at, "rule": clock.rule, "inputs": clock.inputs, "organisation_id": None,
            "next_at": clock.next_at, "g_case_id": case_id, "g_kind": clock.kind}


class CoreArm(Arm):
    """The same statements as prebuilt Core, through the same Database: the stack's floor."""

    name = "core"

    def __init__(self, path: Path, world: World, plan: Plan, trace: Callable[[str], None] | None = None):
        self.db = Database(f"sqlite:///{path}")
        _maybe_trace(self.db, trace)
        self.world, self.plan = world, plan
        self.updates = [Core.update_case(tuple(fs.changes)) for fs in plan.steps]
        self.numbers = bsns()

    def close(self) -> None:
        self.db.dispose()

    def lifecycles(self, count: int) -> None:
        db, plan, updates, numbers = self.db, self.plan, self.updates, self.numbers
        uid, team_id = self.world.user_id, self.world.team_id
        for _ in range(count):
            now = NOW
            with db.begin() as conn:
                bsn = next(numbers)
                if conn.execute(Core.youth_by_bsn, {"bsn": bsn}).scalar_one_or_none() is not None:
                    raise RuntimeError("youth exists")
                youth_id = conn.execute(Core.insert_youth, {
                    "given_name": YOUTH["given_name"], "family_name": YOUTH["family_name"], "birth_on": BIRTH_ON,
                    "bsn": bsn, "onderwijsnummer": None, "municipality": YOUTH["municipality"], "school_id": None,
                    "education_kind": None, "education_level": None, "created_at": now,
                }).scalar_one()
                conn.execute(Core.insert_guardian, [{"youth_id": youth_id, **GUARDIAN}])
                previous_id = None  # a new youth has no earlier case
                _municipality, region = conn.execute(Core.region, {"school_id": None, "team_id": team_id}).one()
                number = conn.execute(Core.next_reference, {"y": YEAR}).scalar_one()
                reference = f"MAS-{YEAR}-{number:06d}"
                case_id = conn.execute(Core.insert_case, {
                    "reference": reference, "team_id": team_id, "casusregisseur_id": uid, "youth_id": youth_id,
                    "state": INITIAL, "version": 1, "region": region, "first_absent_on": FIRST_ABSENT_ON,
                    "previous_case_id": previous_id, "has_suspensions": False, "opened_at": now, "updated_at": now,
                }).scalar_one()
                conn.execute(Core.insert_signal, {"case_id": case_id, "youth_id": youth_id, **SIGNAL,
                                                  "received_at": now})
                conn.execute(Core.insert_first_clocks, [_first_clock_row(c, case_id) for c in plan.opening_clocks])
                conn.execute(Core.insert_event, {
                    "case_id": case_id, "at": now, "actor_id": uid, "actor_role": ROLE, "kind": "zaak_geopend",
                    "from_state": None, "to_state": INITIAL, "reason": None, "data": {
                        "reference": reference, "signal_kind": SIGNAL["kind"], "source": SIGNAL["source"],
                        "first_absent_on": FIRST_ABSENT_ON.isoformat(), "previous_case_id": previous_id,
                        "region": region,
                    },
                })
            for fs, update_case in zip(plan.steps, updates):
                step = fs.step
                with db.begin() as conn:
                    case = conn.execute(Core.select_case, {"case_id": case_id}).one()
                    if fs.check_org is not None:
                        conn.execute(Core.active_org, {"org_id": fs.check_org}).scalar_one()
                    bumped = conn.execute(update_case, {"w_id": case_id, "w_version": case.version, "state": step.dest,
                                                        "updated_at": now, **fs.changes})
                    if bumped.rowcount != 1:
                        raise RuntimeError("version conflict")
                    if fs.close_all:
                        closed = conn.execute(Core.close_all, {"w_case_id": case_id, "closed_at": now,
                                                               "closed_reason": f"zaak afgesloten ({step.trigger})"})
                        log: dict = {"closed": closed.rowcount}
                        cancelled = conn.execute(Core.cancel_open_steps, {"w_case_id": case_id})
                        log["steps_cancelled"] = cancelled.rowcount
                    else:
                        conn.execute(Core.close_clock, {"w_case_id": case_id, "w_kind": step.source, "status": "met",
                                                        "closed_at": now,
                                                        "closed_reason": f"fase verlaten ({step.trigger})"})
                        conn.execute(Core.insert_clock, _clock_row(fs.clock, case_id))
                        log = {"started": {"kind": fs.clock.kind, "due_at": fs.clock.due_iso}}
                        if fs.pact_stop:
                            conn.execute(Core.close_clock, {
                                "w_case_id": case_id, "w_kind": "thuiszitterspact", "status": "stopped",
                                "closed_at": now, "closed_reason": f"aanbod gestart op {fs.data['offer_started_on']}"})
                            log["thuiszitterspact"] = "gestopt"
                    conn.execute(Core.insert_event, {
                        "case_id": case_id, "at": now, "actor_id": uid, "actor_role": ROLE, "kind": "overgang",
                        "from_state": step.source, "to_state": step.dest, "reason": None,
                        "data": {"trigger": step.trigger, **fs.data, "clocks": log},
                    })


# --- arm: the raw floor, plain sqlite3 ------------------------------------------------------

RAW_YOUTH_BY_BSN = "SELECT youth.id FROM youth WHERE youth.bsn = ?"
RAW_INSERT_YOUTH = (
    "INSERT INTO youth (given_name, family_name, birth_on, bsn, onderwijsnummer, municipality, school_id, "
    "education_kind, education_level, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
)
RAW_INSERT_GUARDIAN = (
    "INSERT INTO guardian (youth_id, name, relation, phone, email, has_custody) VALUES (?, ?, ?, ?, ?, ?)"
)
RAW_REGION = (
    "SELECT (SELECT organisation.municipality FROM organisation WHERE organisation.id = ?) AS anon_1, "
    "(SELECT team.default_region FROM team WHERE team.id = ?) AS anon_2"
)
RAW_NEXT_REFERENCE = (
    "UPDATE reference_counter SET last=(reference_counter.last + ?) WHERE reference_counter.year = ? RETURNING last"
)
RAW_INSERT_CASE = (
    'INSERT INTO "case" (reference, team_id, casusregisseur_id, youth_id, state, version, region, first_absent_on, '
    "previous_case_id, has_suspensions, opened_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
)
RAW_INSERT_SIGNAL = (
    "INSERT INTO signal (case_id, youth_id, kind, source, reporter_name, reporter_function, reporter_phone, "
    "reporter_email, period_first_on, period_last_on, hours_missed, description, received_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
RAW_INSERT_CLOCK = (
    "INSERT INTO deadline (case_id, step_id, organisation_id, kind, generation, started_on, due_at, rule, inputs, "
    "rung, next_at, status) VALUES (?, ?, ?, ?, (SELECT coalesce(max(deadline.generation), ?) + ? AS anon_1 "
    "FROM deadline WHERE deadline.case_id = ? AND deadline.kind = ? AND deadline.step_id IS NULL), "
    "?, ?, ?, ?, ?, ?, ?)"
)
RAW_INSERT_FIRST_CLOCK = (
    "INSERT INTO deadline (case_id, step_id, organisation_id, kind, generation, started_on, due_at, rule, inputs, "
    "rung, next_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
RAW_INSERT_EVENT = (
    "INSERT INTO case_event (case_id, at, actor_id, actor_role, kind, from_state, to_state, reason, data) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
RAW_SELECT_CASE = (
    'SELECT "case".id, "case".reference, "case".state, "case".version, "case".team_id, "case".casusregisseur_id, '
    '"case".region, "case".youth_id, "case".first_absent_on, "case".has_suspensions, "case".maatwerkplan, '
    '"case".offer_started_on FROM "case" WHERE "case".id = ?'
)
RAW_ACTIVE_ORG = "SELECT organisation.id FROM organisation WHERE organisation.id = ? AND organisation.is_active IS 1"
RAW_CLOSE_CLOCK = (
    "UPDATE deadline SET status=?, closed_at=?, closed_reason=? WHERE deadline.case_id = ? AND deadline.kind = ? "
    "AND deadline.step_id IS NULL AND deadline.status = 'open'"
)
RAW_CLOSE_ALL = (
    "UPDATE deadline SET status=?, closed_at=?, closed_reason=? WHERE deadline.case_id = ? AND deadline.status = 'open'"
)
RAW_CANCEL_OPEN_STEPS = (
    "UPDATE step SET status=?, version=(step.version + ?) WHERE step.case_id = ? AND step.status = ?"
)


def _raw_clock(clock: Clock, case_id: int) -> tuple:
    return (case_id, None, None, clock.kind, 0, 1, case_id, clock.kind, clock.started_on.isoformat(),
            _sqlite_dt(clock.due_at), clock.rule, json_dumps(clock.inputs), 0,
            _sqlite_dt(clock.next_at) if clock.next_at is not None else None, "open")


def _raw_first_clock(clock: Clock, case_id: int) -> tuple:
    return (case_id, None, None, clock.kind, 1, clock.started_on.isoformat(), _sqlite_dt(clock.due_at), clock.rule,
            json_dumps(clock.inputs), 0, _sqlite_dt(clock.next_at) if clock.next_at is not None else None, "open")


def raw_connect(path: Path) -> sqlite3.Connection:
    """The same connection settings as mas.db for SQLite; transactions are explicit."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


class RawArm(Arm):
    """The same SQL text through plain sqlite3 on one connection: the raw floor."""

    name = "raw"

    def __init__(self, path: Path, world: World, plan: Plan, trace: Callable[[str], None] | None = None):
        self.conn = raw_connect(path)
        if trace is not None:
            self.conn.set_trace_callback(trace)
        self.world, self.plan = world, plan
        self.numbers = bsns()

    def close(self) -> None:
        self.conn.close()

    def lifecycles(self, count: int) -> None:
        plan, numbers = self.plan, self.numbers
        cur = self.conn.cursor()
        execute = cur.execute
        uid, team_id = self.world.user_id, self.world.team_id
        birth_on, first_absent_on = BIRTH_ON.isoformat(), FIRST_ABSENT_ON.isoformat()
        s = SIGNAL
        signal_values = (s["kind"], s["source"], s["reporter_name"], s["reporter_function"], s["reporter_phone"],
                         s["reporter_email"], first_absent_on, None, s["hours_missed"], s["description"])
        g = GUARDIAN
        guardian_values = (g["name"], g["relation"], g["phone"], g["email"], int(g["has_custody"]))
        for _ in range(count):
            now = _sqlite_dt(NOW)
            execute("BEGIN IMMEDIATE")
            bsn = next(numbers)
            if execute(RAW_YOUTH_BY_BSN, (bsn,)).fetchone() is not None:
                raise RuntimeError("youth exists")
            youth_id = execute(RAW_INSERT_YOUTH, (YOUTH["given_name"], YOUTH["family_name"], birth_on, bsn, None,
                                                  YOUTH["municipality"], None, None, None, now)).fetchone()[0]
            cur.executemany(RAW_INSERT_GUARDIAN, [(youth_id, *guardian_values)])
            previous_id = None  # a new youth has no earlier case
            _municipality, region = execute(RAW_REGION, (None, team_id)).fetchone()
            number = execute(RAW_NEXT_REFERENCE, (1, YEAR)).fetchone()[0]
            reference = f"MAS-{YEAR}-{number:06d}"
            case_id = execute(RAW_INSERT_CASE, (reference, team_id, uid, youth_id, INITIAL, 1, region, first_absent_on,
                                                previous_id, 0, now, now)).fetchone()[0]
            execute(RAW_INSERT_SIGNAL, (case_id, youth_id, *signal_values, now))
            cur.executemany(RAW_INSERT_FIRST_CLOCK, [_raw_first_clock(c, case_id) for c in plan.opening_clocks])
            execute(RAW_INSERT_EVENT, (case_id, now, uid, ROLE, "zaak_geopend", None, INITIAL, None, json_dumps({
                "reference": reference, "signal_kind": s["kind"], "source": s["source"],
                "first_absent_on": first_absent_on, "previous_case_id": previous_id, "region": region,
            })))
            execute("COMMIT")
            for fs in plan.steps:
                step = fs.step
                now = _sqlite_dt(NOW)
                execute("BEGIN IMMEDIATE")
                case = execute(RAW_SELECT_CASE, (case_id,)).fetchone()
                if fs.check_org is not None:
                    execute(RAW_ACTIVE_ORG, (fs.check_org,)).fetchone()
                execute(fs.raw_update, (step.dest, 1, *fs.raw_changes, now, case_id, case[3]))
                if cur.rowcount != 1:
                    raise RuntimeError("version conflict")
                if fs.close_all:
                    execute(RAW_CLOSE_ALL, ("closed", now, f"zaak afgesloten ({step.trigger})", case_id))
                    log: dict = {"closed": cur.rowcount}
                    execute(RAW_CANCEL_OPEN_STEPS, ("cancelled", 1, case_id, "open"))
                    log["steps_cancelled"] = cur.rowcount
                else:
                    execute(RAW_CLOSE_CLOCK, ("met", now, f"fase verlaten ({step.trigger})", case_id, step.source))
                    execute(RAW_INSERT_CLOCK, _raw_clock(fs.clock, case_id))
                    log = {"started": {"kind": fs.clock.kind, "due_at": fs.clock.due_iso}}
                    if fs.pact_stop:
                        execute(RAW_CLOSE_CLOCK, ("stopped", now, f"aanbod gestart op {fs.data['offer_started_on']}",
                                                  case_id, "thuiszitterspact"))
                        log["thuiszitterspact"] = "gestopt"
                execute(RAW_INSERT_EVENT, (case_id, now, uid, ROLE, "overgang", step.source, step.dest, None,
                                           json_dumps({"trigger": step.trigger, **fs.data, "clocks": log})))
                execute("COMMIT")


# --- arm: SpiffWorkflow -------------------------------------------------------------------------


class SpiffArm(Arm):
    """bench.spiff.run_spiff, which times its own lifecycles (parsing the BPMN is setup)."""

    name = "spiff"

    def __init__(self, path: Path, world: World, plan: Plan, trace=None):
        from bench.spiff import run_spiff

        self.path, self.run_spiff = str(path), run_spiff

    def run(self, count: int) -> float:
        return self.run_spiff(self.path, count)


ARM_CLASSES = {cls.name: cls for cls in (RawArm, CoreArm, EngineArm, SpiffArm)}


def run_once(name: str, path: Path, n: int, warmup: int, world: World, plan: Plan | None,
             trace: Callable[[str], None] | None = None) -> float:
    """One arm on its own: `warmup` untimed lifecycles, then the time of `n` more."""
    arm = ARM_CLASSES[name](path, world, plan, trace)
    try:
        arm.run(warmup)
        return arm.run(n)
    finally:
        arm.close()


# --- checks: the same statements, the same rows ---------------------------------------------------

_TABLE_OF = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)


def statement_kind(sql: str) -> str:
    words = sql.split()
    verb = words[0].upper()
    if verb in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA"):
        return " ".join(w.upper() for w in words[:2]) if verb == "BEGIN" else verb
    found = _TABLE_OF.search(sql)
    kind = f"{verb} {found.group(1) if found else '?'}"
    upper = sql.upper()
    if verb != "SELECT" and "(SELECT" in upper:
        kind += " (+subselect)"
    if re.search(r"\bRETURNING\b", upper):
        kind += " RETURNING"
    return kind


def trace_arm(arm: str, template: Path, workdir: Path, world: World, plan: Plan) -> list[list[str]]:
    """What SQLite executed for an arm's last lifecycle of a few, transaction by transaction.

    SQLite's own statement trace: the SQL with its parameters expanded (whitespace collapsed),
    so two arms compare equal only if they send the same statements with the same values,
    commits and reads included.
    """
    seen: list[str] = []
    path = fresh_copy(template, workdir / f"trace-{arm}.sqlite3")
    try:
        run_once(arm, path, TRACE_CASES, 0, world, plan, trace=seen.append)
    finally:
        remove_db(path)
    transactions: list[list[str]] = []
    for sql in seen:
        sql = " ".join(sql.split())
        if sql.upper().startswith("BEGIN"):
            transactions.append([])
        if transactions:
            transactions[-1].append(sql)
    per_case = 1 + len(STEPS)
    if len(transactions) != per_case * TRACE_CASES:
        fail(f"{arm}: expected {per_case * TRACE_CASES} transactions, traced {len(transactions)}")
    return transactions[-per_case:]


def first_difference(names: list[str], ours: list[list[str]], theirs: list[list[str]]) -> str:
    for name, a, b in zip(names, ours, theirs):
        for i in range(max(len(a), len(b))):
            x = a[i] if i < len(a) else "(nothing)"
            y = b[i] if i < len(b) else "(nothing)"
            if x != y:
                return f"transaction {name!r}, statement {i + 1}:\n  engine: {x[:600]}\n  floor:  {y[:600]}"
    return "(none)"


def fingerprint(path: Path) -> dict[str, tuple[int, str]]:
    """Row count and a hash of every row, per table (alembic's bookkeeping left out)."""
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name != 'alembic_version' ORDER BY name")]
        out = {}
        for name in names:
            rows = conn.execute(f'SELECT * FROM "{name}" ORDER BY rowid').fetchall()
            out[name] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
        return out
    finally:
        conn.close()


def closed_cases(path: Path, arm: str) -> int:
    conn = sqlite3.connect(path)
    try:
        if arm == "spiff":
            return conn.execute("SELECT count(*) FROM spiff_case WHERE state = ?", (FINAL,)).fetchone()[0]
        return conn.execute('SELECT count(*) FROM "case" WHERE state = ?', (FINAL,)).fetchone()[0]
    finally:
        conn.close()


def fail(message: str) -> None:
    print(f"\nFAILED: {message}", file=sys.stderr)
    sys.stdout.flush()
    raise SystemExit(2)


# --- peak RSS, in a child process ---------------------------------------------------------------


def child_rss(n: int, warmup: int, template: Path, world: World) -> None:
    """In a fresh process: the engine arm on a copy of the parent's template, then peak RSS.

    The template is made by the parent, so the migration (Alembic, Mako) never counts here:
    the peak is the imports plus the lifecycles, and grows only if the engine keeps something.
    """
    with tempfile.TemporaryDirectory(prefix="mas-bench-rss-", dir=template.parent) as tmp:
        path = fresh_copy(template, Path(tmp) / "engine.sqlite3")
        marks = {"rss_mb_before": current_rss_mb()}
        arm = EngineArm(path, world)
        try:
            arm.run(warmup)
            marks["rss_mb_warm"] = current_rss_mb()
            seconds = arm.run(n)
            marks["rss_mb_end"] = current_rss_mb()
        finally:
            arm.close()
        rss = peak_rss_mb()
        done = closed_cases(path, "engine")
    if done != n + warmup:
        fail(f"child wrote {done} closed cases, expected {n + warmup}")
    print(json_line({"n": n, "warmup": warmup, "seconds": seconds, **marks, "peak_rss_mb": round(rss, 1)}))


# --- profile ------------------------------------------------------------------------------------


def profile(n: int, warmup: int, workdir: Path, template: Path, world: World) -> None:
    import cProfile
    import pstats

    path = fresh_copy(template, workdir / "profile.sqlite3")
    profiler = cProfile.Profile()
    arm = EngineArm(path, world)
    try:
        arm.run(warmup)
        profiler.enable()
        seconds = arm.run(n)
        profiler.disable()
    finally:
        arm.close()
    print(f"cProfile of the engine arm, {n} warm lifecycles: {seconds / n * 1000:.3f} ms each under the profiler")
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)


# --- main -----------------------------------------------------------------------------------------


def ms_per_case(seconds: float, n: int) -> str:
    return f"{seconds / n * 1000:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"CI size: N={QUICK_N}, {QUICK_ROUNDS} rounds")
    parser.add_argument("--n", type=int, help=f"cases per arm and round (default {FULL_N}, quick {QUICK_N})")
    parser.add_argument("--rounds", type=int, help=f"interleaved rounds (default {FULL_ROUNDS}, quick {QUICK_ROUNDS})")
    parser.add_argument("--warmup", type=int, default=WARMUP, help="untimed lifecycles per arm and round")
    parser.add_argument("--profile", action="store_true", help="cProfile the engine arm for N cases and exit")
    parser.add_argument("--dir", help="where the SQLite files go (default: the system's temporary directory)")
    parser.add_argument("--child-rss", type=int, metavar="N", help=argparse.SUPPRESS)
    parser.add_argument("--template", help=argparse.SUPPRESS)
    parser.add_argument("--world", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child_rss is not None:
        team_id, user_id, organisation_id = (int(x) for x in args.world.split(","))
        child_rss(args.child_rss, args.warmup, Path(args.template), World(team_id, user_id, organisation_id))
        return 0

    n = args.n or (QUICK_N if args.quick else FULL_N)
    rounds = args.rounds or (QUICK_ROUNDS if args.quick else FULL_ROUNDS)
    warmup = args.warmup
    if n < 1 or rounds < 1 or warmup < 0:
        parser.error("--n and --rounds must be positive, --warmup non-negative")

    with tempfile.TemporaryDirectory(prefix="mas-bench-", dir=args.dir) as tmp:
        workdir = Path(tmp)
        template, world = make_template(workdir)
        if args.profile:
            profile(n, warmup, workdir, template, world)
            return 0
        from mas.context import make_context

        plan = make_plan(make_context(settings_for(template)), world)

        print(f"bench/engine.py: N={n} lifecycles per arm and round, {rounds} rounds, {warmup} warm-up "
              f"lifecycles per arm and round{' (quick)' if args.quick else ''}")
        print(f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, SQLAlchemy "
              f"{sqlalchemy.__version__}, {platform.machine()}, {os.cpu_count()} CPUs")

        # 1. The same statements with the same values, transaction by transaction.
        shapes = {arm: trace_arm(arm, template, workdir, world, plan) for arm in MAS_ARMS}
        names = ["open"] + [s.trigger for s in STEPS]
        kinds = [[statement_kind(sql) for sql in tx] for tx in shapes["engine"]]
        print("\nStatements per lifecycle, as SQLite executed them (identical, values included, in raw, core, engine):")
        print(table(["transaction", "statements", "besides BEGIN IMMEDIATE and COMMIT"], [
            (name, len(tx), ", ".join(k for k in tx if not k.startswith(("BEGIN", "COMMIT"))))
            for name, tx in zip(names, kinds)
        ], left=(0, 2)))
        totals = Counter(k for tx in kinds for k in tx)
        print(f"per lifecycle: {sum(totals.values())} statements in {len(kinds)} transactions: "
              + ", ".join(f"{count} {kind}" for kind, count in totals.most_common()))
        for arm in ("raw", "core"):
            if shapes[arm] != shapes["engine"]:
                fail(f"the {arm} floor does not send what the engine sends; first difference in "
                     + first_difference(names, shapes["engine"], shapes[arm])
                     + "\n(update the floors in bench/engine.py to the engine's statements)")

        # 2. Interleaved rounds: every arm on a fresh copy, all open side by side, run in
        #    chunks in rotating order, so that the load of a shared machine falls on all alike.
        times: dict[str, list[float]] = {arm: [] for arm in ARMS}
        chunks = [min(CHUNK, n - i) for i in range(0, n, CHUNK)]
        print(f"\nRounds (ms per lifecycle; each arm on a fresh copy of the template, run in {len(chunks)} "
              f"interleaved chunk(s) of up to {CHUNK}):")
        round_rows = []
        for r in range(rounds):
            paths = {name: fresh_copy(template, workdir / f"round{r}-{name}.sqlite3") for name in ARMS}
            arms = {name: ARM_CLASSES[name](paths[name], world, plan) for name in ARMS}
            elapsed = dict.fromkeys(ARMS, 0.0)
            try:
                for name in rotated(ARMS, r):
                    arms[name].run(warmup)
                for k, size in enumerate(chunks):
                    for name in rotated(ARMS, r + k):
                        gc.collect()
                        elapsed[name] += arms[name].run(size)
            finally:
                for arm in arms.values():
                    arm.close()
            prints = {}
            for name in ARMS:
                times[name].append(elapsed[name])
                done = closed_cases(paths[name], name)
                if done != n + warmup:
                    fail(f"round {r + 1}: {name} holds {done} closed cases, expected {n + warmup}")
                if name != "spiff":
                    prints[name] = fingerprint(paths[name])
                remove_db(paths[name])
            for name in ("raw", "core"):
                if prints[name] != prints["engine"]:
                    bad = sorted(t for t in prints["engine"] if prints["engine"][t] != prints[name].get(t))
                    fail(f"round {r + 1}: the {name} floor's rows differ from the engine's in: {', '.join(bad)} "
                         f"(counts engine {[prints['engine'][t][0] for t in bad]}, "
                         f"{name} {[prints[name].get(t, (None,))[0] for t in bad]})")
            round_rows.append([f"round {r + 1}"] + [ms_per_case(times[arm][-1], n) for arm in ARMS])
            print(f"  round {r + 1}/{rounds}: " + ", ".join(f"{arm} {ms_per_case(times[arm][-1], n)}" for arm in ARMS),
                  flush=True)
        counts = prints["engine"]

        # 3. Peak RSS of the engine arm at N and 4N, each in a fresh child process.
        script = str(Path(__file__).resolve())
        child = [script, "--warmup", str(warmup), "--template", str(template),
                 "--world", f"{world.team_id},{world.user_id},{world.organisation_id}"]
        rss_n = run_child(child + ["--child-rss", str(n)])
        rss_4n = run_child(child + ["--child-rss", str(4 * n)])

    med = {arm: median(times[arm]) for arm in ARMS}
    rate = {arm: n / med[arm] for arm in ARMS}
    ratio_core = med["engine"] / med["core"]
    ratio_raw = med["engine"] / med["raw"]
    speedup = med["spiff"] / med["engine"]
    growth = rss_4n["peak_rss_mb"] / rss_n["peak_rss_mb"]

    print(f"\nVerified: in each of {rounds} rounds every arm closed {n} timed + {warmup} warm-up cases, and raw, "
          f"core and engine sent the same statements and wrote identical rows: "
          + ", ".join(f"{t} {c}" for t, (c, _h) in counts.items() if c))
    print("\nMedian of the rounds:")
    print(table(["arm", "ms/lifecycle", "ms/transaction", "cases/s", "engine ÷ arm"] + [r[0] for r in round_rows], [
        [arm, ms_per_case(med[arm], n), f"{med[arm] / n / (1 + len(STEPS)) * 1000:.3f}", f"{rate[arm]:,.0f}",
         f"{med['engine'] / med[arm]:.2f}"] + [row[1 + ARMS.index(arm)] for row in round_rows]
        for arm in ARMS
    ]))
    print(f"\nPeak RSS of the engine arm (a fresh child each): N={n}: {rss_n['peak_rss_mb']:.1f} MB, "
          f"4N={4 * n}: {rss_4n['peak_rss_mb']:.1f} MB ({(growth - 1) * 100:+.1f}%); "
          f"RSS now, after imports: {rss_n['rss_mb_before'] or 0:.1f} MB, after the warm-up: "
          f"{rss_n['rss_mb_warm'] or 0:.1f} MB")

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    def per_round(a: str, b: str) -> str:
        ratios = [x / y for x, y in zip(times[a], times[b])]
        return f"{' '.join(f'{q:.2f}' for q in ratios)} (median {median(ratios):.2f})"

    print(f"Per round, engine ÷ core: {per_round('engine', 'core')}; engine ÷ raw: {per_round('engine', 'raw')}; "
          f"spiff ÷ engine: {per_round('spiff', 'engine')}")
    print("\nTargets (judged on the full run; ratios of the medians):")
    print(table(["target", "wanted", "measured", ""], [
        ["speed-up vs SpiffWorkflow", f">= {TARGET_SPEEDUP_VS_SPIFF}x", f"{speedup:.2f}x",
         verdict(speedup >= TARGET_SPEEDUP_VS_SPIFF)],
        ["engine ÷ Core floor", f"<= {TARGET_RATIO_TO_CORE}", f"{ratio_core:.2f}",
         verdict(ratio_core <= TARGET_RATIO_TO_CORE)],
        ["peak RSS 4N ÷ N", f"<= {TARGET_RSS_GROWTH:.2f}", f"{growth:.3f}", verdict(growth <= TARGET_RSS_GROWTH)],
        ["engine ÷ raw floor", "(reported)", f"{ratio_raw:.2f}", ""],
        ["Core floor's speed-up vs SpiffWorkflow", "(reported)", f"{med['spiff'] / med['core']:.2f}x",
         "the ceiling for an engine sending these statements through Connection.execute"],
    ], left=(0, 3)))
    if args.quick:
        print("(quick run: figures are indicative only)")

    print(json_line({
        "bench": "engine",
        "quick": bool(args.quick),
        "n": n,
        "engine_cases_per_s": round(rate["engine"], 1),
        "raw_floor_cases_per_s": round(rate["raw"], 1),
        "core_floor_cases_per_s": round(rate["core"], 1),
        "spiffworkflow_cases_per_s": round(rate["spiff"], 1),
        "ratio_to_core_floor": round(ratio_core, 3),
        "ratio_to_raw_floor": round(ratio_raw, 3),
        "speedup_vs_spiffworkflow": round(speedup, 3),
        "peak_rss_mb_n": rss_n["peak_rss_mb"],
        "peak_rss_mb_4n": rss_4n["peak_rss_mb"],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
