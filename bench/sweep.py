"""The escalation sweep at 1,000,000 open deadlines against 100,000 and against a full read.

    python bench/sweep.py                   # full run on SQLite: 1,000,000 and 100,000 open, 1,000 due, 5 rounds
    python bench/sweep.py --db postgresql   # the same on PostgreSQL (server: MAS_BENCH_DATABASE_URL)
    python bench/sweep.py --quick           # CI: 100,000 and 10,000 open, 1,000 due, 3 rounds ("quick": true)
    python bench/sweep.py --profile         # cProfile + the sweep's SELECTs with their plans, then exit
    python bench/sweep.py --rebuild         # build the database files again even if cached

What is measured (each in a fresh child process, `--child …`):

  sweep_large / sweep_small
        `mas.services.escalation.sweep(db, ctx, now)` on a fresh copy of a built database
        holding N open deadlines of which exactly `due` have `next_at <= now`, opened as
        `mas scheduler` opens it (mas.services.runtime.open_database; on SQLite WAL and
        synchronous=NORMAL). Before the timer: the engine is created and the ServiceContext
        built, and the scheduler's previous tick is replayed: a day earlier another `due`
        clocks fell due; that sweep raises them (compiling the statements, building the
        calendar windows, growing the WAL) and the scheduler's checkpoint job folds its WAL in
        (SQLite; PostgreSQL checkpoints by itself), so the timed sweep finds the process and
        the database as a running scheduler leaves them. (A first write into a fresh SQLite
        WAL file costs this machine's kernel more than the sweep itself: zeroing new
        page-cache folios, up to 0.3 s.) Only the one `sweep(db, ctx, now)` call is timed.
        Peak RSS of the child (VmHWM) is read right after it; on PostgreSQL the server's memory
        is not the child's. Afterwards the child checks, through SQLAlchemy, that exactly the
        due rows climbed to the level the ladder says (stored by name), that nothing else
        moved (deadlines per kind and level), that the sweep reported what the builder
        computed from the ladders (levels raised, milestones, levels mailed and recorded only,
        fallbacks, one bundled message per recipient and the items they carry), and that those
        case_event, outbox_message and outbox_item rows were written; it exits non-zero
        otherwise. The previous tick's report is checked the same way.
  full_read
        the plain driver (sqlite3 / psycopg) iterating
        `SELECT id, due_at, rung FROM deadline WHERE status = 'open'` on the large database:
        what any sweep that scans the open deadlines must at least pay.

  floors
        the sweep's own statements without mas (bench/replay.py), as bench/engine.py's floors:
        recorded, untimed, from the sweep on one fresh copy of the large file after its
        previous tick (`before_execute`: the Core statements and parameters; `before_cursor_execute`:
        the SQL and parameters the driver got), then replayed, each on another fresh copy after
        the same previous tick so the recorded ids hold again: through `Connection.execute` in
        `Database.begin()` (the Core floor) and through plain sqlite3 / psycopg with the
        scheduler's connection settings (the raw floor), rows fetched. Each replay is checked
        as a sweep is. Reported beside the targets: full read ÷ floor is the most any sweep that
        writes these rows (raw) or sends these statements through SQLAlchemy (Core) can reach;
        sweep ÷ Core floor is what mas itself adds.

Rounds alternate the arms (the machine is shared and noisy); figures are medians.

The databases are built once as SQLite files and cached under bench/out/ (gitignored), named by
size, by the schema's migration head and by bench.common.build_key over everything that shapes
their contents (this builder's version, the migrations and models, the shipped config, the
clock rules, workflow and outbox code the rows are computed with); a cached file is used only if
its alembic_version is that head. Each is migrated by `mas.db.upgrade`, given a world of three
teams (coordinators, two with a bestuurlijk contact), casusregisseurs and partner organisations,
then cases bulk-inserted with plain sqlite3, per case the rows the services write: the youth's
key (`youth`: an onderwijsnummer, no personal data), the team's own record of the youth
(`youth_record`, one per case) with a guardian on it, the case naming that record
(`case.record_id`), its opening signal entered by the team (`signal.team_id`, status 'joined'),
a step, four open clocks (the state's clock,
Thuiszitterspact, LRV and the step's clock, computed by `mas.clocks.rules` and armed by
`mas.clocks.ladder` exactly as the services arm them, each left as the scheduler leaves it: the
name of the highest level reached in `rung` (NULL: none) and the next level's moment in
`next_at`), the `zaak_geopend` event, and for every level a clock already passed its escalation
event (recipients resolved as the sweep resolves them, the [fallback] chain included) and its
sent outbox rows (composed by mas.services.delivery.compose, with their outbox_item). The `due` rows
are the same in every file (same cases, clocks, recipients; spread evenly over the file):
clocks last swept a day before the sweep moment whose next level has fallen due since. So
are the previous tick's rows: clocks last swept two days before, due a day before, and not
due again at the sweep moment. The build checks what it wrote (bench.common.check_built_rows:
every foreign key, every case on a record of its own youth and team, every signal its team's).

On PostgreSQL each run of the bench creates a database per size on the server, migrates it
with `mas.db.upgrade` and loads the cached file's rows into it with COPY
(bench.common.load_sqlite_into_postgresql: the same rows, ids and next ids; then VACUUM
ANALYZE, as autovacuum would have done on a database that grew to this size); every sweep
runs on a fresh CREATE DATABASE … TEMPLATE copy of it. All of them are dropped when the bench
ends, also when it fails. Setup is not timed; the timed code is the real service.

The last line of output is one JSON object; "database" says which database it ran on.
Targets (printed, judged on the full run): the sweep at 1M at least 15x faster than the full
read, at most 1.5x its time at 100k, peak RSS at most 1.2x.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import resource
import sqlite3
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import ClassVar

if __package__ in (None, ""):  # run as `python bench/sweep.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import distinct, event, func, select, text

from bench import clockwork
from bench.common import (
    REPO_ROOT,
    Scratch,
    add_database_option,
    build_key,
    check_built_rows,
    checkpoint,
    explain,
    json_line,
    kind_of,
    load_sqlite_into_postgresql,
    median,
    migration_head,
    peak_rss_mb,
    psycopg_conninfo,
    remove_sqlite,
    rotated,
    run_child,
    schema_version,
    sqlite_path,
    table,
)
from bench.replay import Recorder, raw_psycopg, raw_sqlite, replay_core, replay_raw

OUT = REPO_ROOT / "bench" / "out"
SCRIPT = str(Path(__file__).resolve())

# Bump when the builder below changes what it writes: cached files are then rebuilt.
BUILD_VERSION = 5
SEED = 20260303
NOW = datetime(2026, 3, 3, 9, 0, tzinfo=timezone.utc)  # a Tuesday in term time, 10:00 in Amsterdam
PREVIOUS_TICK = NOW - timedelta(days=1)  # when the due rows were last swept (the replayed tick)
EARLIER_TICK = NOW - timedelta(days=2)  # when the previous tick's rows were last swept
HISTORY_DAYS = 200  # clocks started at most this long before NOW
DEADLINES_PER_CASE = 4  # the state's clock, Thuiszitterspact, LRV, the step's clock

FULL = {"large": 1_000_000, "small": 100_000, "due": 1_000, "rounds": 5}
QUICK = {"large": 100_000, "small": 10_000, "due": 1_000, "rounds": 3}
ARMS = ("sweep_large", "sweep_small", "full_read", "floors")

# Targets of the issue (judged on the full run's output; never asserted in a test).
TARGET_SPEEDUP_VS_FULL_READ = 15.0
TARGET_RATIO_LARGE_TO_SMALL = 1.5
TARGET_RSS_RATIO = 1.2

FULL_READ_SQL = "SELECT id, due_at, rung FROM deadline WHERE status = 'open'"
STATE_WEIGHTS = {"signaal": 30, "gesprek": 25, "zorgtafel": 20, "aanbod": 15, "terugleiding": 10}
# name, municipalities, vakantieregio, bestuurlijk contact (name, e-mail) or None, casusregisseurs, share of cases
TEAMS = (
    ("Leerplicht Utrecht", ["Utrecht", "Nieuwegein"], "midden", ("Wethouder Onderwijs", "wethouder@utrecht.example"), 24, 60),
    ("Leerplicht Groningen", ["Groningen"], "noord", None, 8, 20),
    ("Leerplicht Eindhoven", ["Eindhoven"], "zuid", ("Directeur SWV", "directeur@swv-eindhoven.example"), 8, 20),
)
ORGANISATION_KINDS = (("school", 30), ("wijkteam", 8), ("ggd", 3), ("halt", 2), ("rvdk", 2), ("swv", 3), ("jeugdzorg", 4))
ADMIN_EMAIL = "beheer@example.org"
STEP_TITLES = ("Huisbezoek", "Gesprek met de school", "Onderzoek jeugdarts", "Aanmelding jeugdhulp", "Plaatsing regelen")


# --- formats: what SQLAlchemy writes on SQLite --------------------------------------------


def _dt(value: datetime | None) -> str | None:
    """mas.db.UTCDateTime on SQLite: naive UTC, SQLAlchemy's 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def _json(value) -> str:
    return json.dumps(value)  # SQLAlchemy's JSON type on SQLite: json.dumps with its defaults


# --- the world and the clocks a case can have ---------------------------------------------


class World:
    """Teams, users and organisations, inserted with plain sqlite3 (ids are 1, 2, … in order)."""

    def __init__(self, conn: sqlite3.Connection):
        stamp = _dt(NOW - timedelta(days=400))
        # (id, region, coordinator e-mail, bestuurlijk e-mail, [(regisseur id, e-mail)], weight, municipality,
        #  coordinator id, name)
        self.teams = []
        self.organisations = []  # (id, name, kind, contact e-mail, escalation e-mail)
        self.schools = []
        n = 0
        for kind, count in ORGANISATION_KINDS:
            for k in range(1, count + 1):
                n += 1
                name = f"{kind.capitalize()} {k}"
                contact = f"contact@{kind}{k}.example.org"
                escalation = None if n % 7 == 0 else f"manager@{kind}{k}.example.org"  # some have none
                oid = conn.execute(
                    "INSERT INTO organisation (name, kind, brin, municipality, contact_name, contact_email,"
                    " escalation_name, escalation_email, is_active, created_at) VALUES (?,?,?,?,?,?,?,?,1,?)",
                    (name, kind, f"{10 + k:02d}AB" if kind == "school" else None, "Utrecht", f"Contact {name}", contact,
                     f"Manager {name}" if escalation else None, escalation, stamp)).lastrowid
                self.organisations.append((oid, name, kind, contact, escalation))
                if kind == "school":
                    self.schools.append(oid)
        self.partners = [o for o in self.organisations if o[2] != "school"]
        for t, (name, municipalities, region, bestuurlijk, regisseurs, weight) in enumerate(TEAMS, 1):
            tid = conn.execute(
                "INSERT INTO team (name, municipalities, default_region, coordinator_id, bestuurlijk_contact_name,"
                " bestuurlijk_contact_email, created_at) VALUES (?,?,?,NULL,?,?,?)",
                (name, _json(municipalities), region, bestuurlijk[0] if bestuurlijk else None,
                 bestuurlijk[1] if bestuurlijk else None, stamp)).lastrowid
            users = []
            for k in range(1, regisseurs + 1):
                email = f"regisseur{k}.team{t}@example.org"
                users.append((self._user(conn, email, "casusregisseur", tid, None, stamp), email))
            coordinator = f"coordinator.team{t}@example.org"
            cid = self._user(conn, coordinator, "coordinator", tid, None, stamp)
            conn.execute("UPDATE team SET coordinator_id = ? WHERE id = ?", (cid, tid))
            self.teams.append((tid, region, coordinator, bestuurlijk[1] if bestuurlijk else None, users, weight,
                               municipalities[0], cid, name))
        for oid, _name, kind, _c, _e in self.partners:
            self._user(conn, f"medewerker{oid}@{kind}.example.org", "partner", None, oid, stamp)
        self.admin = (ADMIN_EMAIL, self._user(conn, ADMIN_EMAIL, "admin", None, None, stamp))

    @staticmethod
    def _user(conn, email, role, team_id, organisation_id, stamp) -> int:
        return conn.execute(
            "INSERT INTO user (email, name, role, team_id, organisation_id, password_hash, is_active, created_at)"
            " VALUES (?,?,?,?,?,NULL,1,?)", (email, email.split("@")[0], role, team_id, organisation_id, stamp)).lastrowid


class Clock:
    """One computed clock (a deadline's columns) with its ladder's moments, stored as text."""

    __slots__ = ("due_at", "inputs", "is_milestone", "kind", "levels", "moments", "planned_start_on", "region", "rule",
                 "started_on")

    def __init__(self, ctx, computed, region: str, planned_start_on: date | None = None):
        self.kind, self.region = computed.kind, region
        self.started_on, self.due_at, self.rule, self.inputs = (
            computed.started_on, computed.due_at, computed.rule, computed.inputs)
        self.levels, self.is_milestone = clockwork.levels(ctx, computed.kind)
        self.moments = clockwork.moments(ctx, computed.kind, computed.due_at, computed.started_on, region)
        self.planned_start_on = planned_start_on

    def rung_at(self, moment: datetime) -> int:
        """How many levels a sweep at `moment` has passed (a position, for the builder only)."""
        rung = 0
        while rung < len(self.moments) and self.moments[rung] <= moment:
            rung += 1
        return rung

    def name(self, rung: int) -> str | None:
        """What deadline.rung holds after `rung` levels: the name of the highest one (None: none yet)."""
        return self.levels[rung - 1].name if rung else None

    def mailed(self, passed: list) -> list:
        """The levels a sweep that passed `passed` mails: the highest, and the first rung (the
        assignee's) too when it was passed in the same sweep (config/escalation.toml's comments,
        docs/architecture.md)."""
        top = passed[-1]
        first = next((level for level in self.levels if not level.is_reminder), None)
        return [top, first] if first is not None and first is not top and first in passed else [top]

    def next_at(self, rung: int) -> datetime | None:
        return self.moments[rung] if rung < len(self.moments) else None


# The transition that enters each state on the way (kept in a state clock's inputs).
ENTERED_BY = {"signaal": "opened", "gesprek": "plan_gesprek", "zorgtafel": "naar_zorgtafel",
              "aanbod": "maatwerkplan_vastgesteld", "terugleiding": "aanbod_gestart"}


def _clocks(ctx, kind: str, start: date, region: str):
    from mas.dates import end_of_day

    if kind in STATE_WEIGHTS:
        if kind == "aanbod":  # planned_start: counted from the maatwerkplan's planned start
            planned = start + timedelta(days=14)
            yield Clock(ctx, clockwork.state_clock(ctx, kind, start, region, {"planned_start_on": planned},
                                                   ENTERED_BY[kind]), region, planned)
        else:
            yield Clock(ctx, clockwork.state_clock(ctx, kind, start, region, None, ENTERED_BY[kind]), region)
    elif kind in ("thuiszitterspact", "lrv"):  # the case's opening clocks, from the first day without education
        yield Clock(ctx, clockwork.case_clock(ctx, kind, start, region, {"anchor": "first_absent_on"}), region)
    else:  # a step's own due date (set_by is added per row)
        for n in (5, 10, 15):
            due_at = end_of_day(ctx.calendar.add_school_days(start, n, region))
            yield Clock(ctx, clockwork.step_clock(ctx, start, due_at), region)


def make_pools(ctx) -> tuple[dict, dict, dict]:
    """Per (kind, region): the clocks that are running and not due at NOW (left on the rung a
    sweep at NOW would leave them), the clocks due at NOW after a sweep at PREVIOUS_TICK, and
    the clocks due at PREVIOUS_TICK after a sweep at EARLIER_TICK and not again by NOW."""
    from mas.clocks.calendar import REGIONS

    running, due, previous = {}, {}, {}
    kinds = (*STATE_WEIGHTS, "thuiszitterspact", "lrv", "step")
    first = NOW.date() - timedelta(days=HISTORY_DAYS)
    for kind in kinds:
        for region in REGIONS:
            running[kind, region], due[kind, region], previous[kind, region] = [], [], []
            for offset in range(HISTORY_DAYS + 1):
                for clock in _clocks(ctx, kind, first + timedelta(days=offset), region):
                    rung = clock.rung_at(NOW)
                    if clock.next_at(rung) is not None:
                        running[kind, region].append((clock, rung))
                    before = clock.rung_at(PREVIOUS_TICK)
                    if before < rung:
                        due[kind, region].append((clock, before))
                    earlier = clock.rung_at(EARLIER_TICK)
                    if earlier < before == rung:
                        previous[kind, region].append((clock, earlier))
    return running, due, previous


# --- building a file ----------------------------------------------------------------------


# What the built rows are computed with, besides the schema and the shipped config (bench.common.build_key).
BUILD_INPUTS = ("bench/clockwork.py", "mas/clocks", "mas/workflows", "mas/dates.py", "mas/context.py", "mas/settings.py",
                "mas/notifications/outbox.py", "mas/services/delivery.py")


def built_paths(n_open: int, n_due: int) -> tuple[Path, Path]:
    """The cached file and its meta: named by size, schema head and build_key (schema, config, rules, builder)."""
    key = build_key("sweep", BUILD_VERSION, SEED, NOW.isoformat(), n_open, n_due, inputs=BUILD_INPUTS)
    stem = f"sweep-{n_open}-{n_due}-{migration_head()}-{key}"
    return OUT / f"{stem}.sqlite3", OUT / f"{stem}.json"


def _settings(url: str):
    from mas.settings import load_settings

    return load_settings(environ={}, env="test", instance_dir=OUT / "instance", database_url=url)


class _Writer:
    """Buffers rows per table and writes them with executemany."""

    SQL: ClassVar[dict[str, str]] = {  # parents first: flush() writes them in this order
        # What mas.services.cases.receive_signal writes for a new youth: the key (no personal data),
        # the team's own record of what it typed, the guardians on that record, the case naming the
        # record, the signal with the team that entered it.
        "youth": "INSERT INTO youth (id, bsn, onderwijsnummer, created_at) VALUES (?,NULL,?,?)",
        "youth_record": "INSERT INTO youth_record (id, youth_id, team_id, given_name, family_name, birth_on, bsn,"
                        " onderwijsnummer, municipality, school_id, education_kind, education_level, copied_from_id,"
                        " created_at) VALUES (?,?,?,?,?,?,NULL,?,?,?,?,?,NULL,?)",
        "guardian": "INSERT INTO guardian (record_id, name, relation, phone, email, has_custody) VALUES (?,?,?,?,?,1)",
        "case": 'INSERT INTO "case" (id, reference, team_id, casusregisseur_id, youth_id, record_id, state, version, region,'
                " first_absent_on, route, gesprek_report, maatwerkplan, offer_started_on, closing_reason, previous_case_id,"
                " has_suspensions, opened_at, closed_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?,1,?,?,?,?,?,NULL,NULL,NULL,0,?,NULL,?)",
        "signal": "INSERT INTO signal (case_id, youth_id, team_id, status, kind, source, reporter_name, reporter_function,"
                  " reporter_phone, reporter_email, period_first_on, period_last_on, hours_missed, description,"
                  " received_at, decided_at, decided_by_id, decision_reason)"
                  " VALUES (?,?,?,'joined','lrv','school','M. Jansen','zorgcoördinator',NULL,?,?,?,NULL,?,?,NULL,NULL,NULL)",
        "step": "INSERT INTO step (id, case_id, organisation_id, title, description, due_at, status, version, created_by_id,"
                " created_at, completed_at, completed_by_id, completion_note) VALUES (?,?,?,?,NULL,?,'open',1,?,?,NULL,NULL,NULL)",
        "deadline": "INSERT INTO deadline (id, case_id, step_id, organisation_id, kind, generation, started_on, due_at, rule,"
                    " inputs, rung, next_at, status, closed_at, closed_reason) VALUES (?,?,?,?,?,1,?,?,?,?,?,?,'open',NULL,NULL)",
        "case_event": "INSERT INTO case_event (case_id, at, actor_id, actor_role, kind, from_state, to_state, reason, data,"
                      " deadline_id, rung) VALUES (?,?,?,?,?,?,?,NULL,?,?,?)",
        # What the sweep queued (mas.notifications.outbox.row, .item), sent by the dispatcher.
        "outbox_message": "INSERT INTO outbox_message (id, idempotency_key, message_id, template, recipient, context,"
                          " case_id, status, attempts, not_before, claimed_at, claimed_by, sent_at, last_error,"
                          " created_at, expires_at, recipient_role, recipient_user_id, recipient_organisation_id,"
                          " team_id) VALUES (?,?,?,?,?,?,?,'sent',1,?,?,'bench',?,NULL,?,?,?,?,?,?)",
        "outbox_item": "INSERT INTO outbox_item (message_pk, key, case_id, deadline_id, rung) VALUES (?,?,?,?,?)",
    }

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.rows = {name: [] for name in self.SQL}
        self.counts = dict.fromkeys(self.SQL, 0)

    def add(self, name: str, row: tuple) -> None:
        self.rows[name].append(row)

    def flush(self) -> None:
        for name, rows in self.rows.items():  # parents first (the dict's order)
            if rows:
                self.conn.executemany(self.SQL[name], rows)
                self.counts[name] += len(rows)
                rows.clear()


class _Builder:
    def __init__(self, ctx, world: World, running: dict, due: dict, previous: dict):
        from collections import Counter

        from mas.notifications import outbox
        from mas.workflows import Recipient

        self.ctx, self.world, self.running = ctx, world, running
        self.pools = {"now": due, "previous": previous}
        self.label = ctx.workflow.clock_label
        self.outbox_row, self.recipient = outbox.row, Recipient
        self.message_pk = 0
        self.final = Counter()  # (kind, level name) -> deadlines left there once NOW is swept
        self.team_weights = [t[5] for t in world.teams]
        self.states, self.state_weights = list(STATE_WEIGHTS), list(STATE_WEIGHTS.values())
        self.due_kinds = {name: sorted({kind for (kind, _region), pool in pools.items() if pool})
                          for name, pools in self.pools.items()}

    def case_spec(self, rng: random.Random, due: str | None = None) -> dict:
        """Everything about one case that is drawn at random (`due`: "now" or "previous", the
        tick at which one of its clocks falls due)."""
        team = rng.choices(self.world.teams, self.team_weights)[0]
        region = team[1] if rng.random() < 0.9 else rng.choice(("noord", "midden", "zuid"))
        pools = self.pools[due] if due else None
        due_kind = rng.choice([k for k in self.due_kinds[due] if pools[k, region]]) if due else None
        state = due_kind if due_kind in STATE_WEIGHTS else rng.choices(self.states, self.state_weights)[0]
        spec = {"team": team, "region": region, "regisseur": rng.choice(team[4]), "state": state,
                "school": rng.choice(self.world.schools), "partner": rng.choice(self.world.partners),
                "title": rng.choice(STEP_TITLES), "clocks": {}}
        for kind in (state, "thuiszitterspact", "lrv", "step"):
            if kind == due_kind:
                clock, rung = rng.choice(pools[kind, region])
                spec["clocks"][kind] = (clock, rung, due)
            else:
                clock, rung = rng.choice(self.running[kind, region])
                spec["clocks"][kind] = (clock, rung, None)
        return spec

    def addresses(self, spec: dict, has_organisation: bool) -> dict:
        """Per recipient role: (address, user id, organisation id) as the sweep's row resolves it
        (everyone in this world is active), or None when the role has nobody."""
        team, partner = spec["team"], spec["partner"]
        regisseur_id, regisseur_email = spec["regisseur"]
        return {"casusregisseur": (regisseur_email, regisseur_id, None), "coordinator": (team[2], team[7], None),
                "bestuurlijk": (team[3], None, None) if team[3] else None,
                "organisation_contact": (partner[3], None, partner[0]) if has_organisation else None,
                "organisation_escalation": (partner[4], None, partner[0]) if has_organisation and partner[4] else None}

    def reach(self, level, addresses: dict) -> tuple[list[tuple], list[str]]:
        """Whom a level reaches: [(address, role, user id, organisation id, is a fallback)], each
        address once, and the roles nobody filled. A level that reaches nobody goes to the first
        step of the [fallback] chain that reaches someone."""
        found, missing = [], []
        for role in map(str, level.recipients):
            to = addresses[role]
            if to is None:
                missing.append(role)
            elif to[0] not in {f[0] for f in found}:
                found.append((to[0], role, to[1], to[2], False))
        if found:
            return found, missing
        for step in map(str, self.ctx.ladders.fallback):
            if step == "coordinator":
                got = [addresses["coordinator"]]
            elif step == "functional_mailbox":
                mailbox = self.ctx.settings.mail.functional_mailbox
                got = [(mailbox, None, None)] if mailbox else []
            else:  # the administrators
                got = [(self.world.admin[0], self.world.admin[1], None)]
            if got:
                return [(address, step, user, organisation, True) for address, user, organisation in got], missing
        return [], missing

    def swept(self, clock: Clock, passed: list, addresses: dict, team_id: int, deadline_id: int) -> dict:
        """What one sweep writes for a clock whose levels `passed` it passed: the levels it mails
        (the highest first; whoever that reaches is not told again for this clock), the messages'
        recipients (one message per recipient and batch: (address, role, user, organisation,
        team)), the (deadline, level, recipient) items they carry, fallbacks and levels that
        reached nobody."""
        told, items, fallbacks, unreachable = set(), [], 0, 0
        for level in clock.mailed(passed):
            to, _missing = self.reach(level, addresses)
            items.extend(((address, role, user, org, team_id), f"deadline:{deadline_id}:1:{level.name}:{address}")
                         for address, role, user, org, _fallback in to if address not in told)
            told.update(a[0] for a in to)
            fallbacks += any(a[4] for a in to)
            unreachable += not to
        return {"mailed": len(clock.mailed(passed)), "items": items, "fallbacks": fallbacks, "unreachable": unreachable}

    def write_case(self, w: _Writer, case_id: int, deadline_id: int, spec: dict) -> tuple[int, dict]:
        """Insert one case with its youth, step, clocks and history; returns the next deadline id and the
        due clocks per tick ("now", "previous"): their deadline id, level name before and after the
        tick, the levels passed, whether a milestone, and what the tick's sweep mails (swept())."""
        team, region, (regisseur_id, _email) = spec["team"], spec["region"], spec["regisseur"]
        clocks = spec["clocks"]
        pact = clocks["thuiszitterspact"][0]
        state_clock = clocks[spec["state"]][0]
        opened = datetime.combine(pact.started_on + timedelta(days=21), datetime.min.time(), timezone.utc) + timedelta(hours=8)
        opened = min(opened, NOW - timedelta(days=1))
        reference = f"MAS-2026-{case_id:06d}"
        # The youth's key, the team's record of it (id = the case's; one record per case), a guardian on
        # the record, and after the case its opening signal, entered by the team: as receive_signal writes them.
        onderwijsnummer = f"{case_id:09d}"
        w.add("youth", (case_id, onderwijsnummer, _dt(opened)))
        w.add("youth_record", (case_id, case_id, team[0], "Sem", "de Vries", "2012-05-14", onderwijsnummer, team[6],
                               spec["school"], "vo", "vmbo-b", _dt(opened)))
        w.add("guardian", (case_id, "Fatima de Vries", "moeder", "0612345678", None))
        maatwerkplan = None
        if state_clock.planned_start_on is not None:
            maatwerkplan = _json({"offer": "Deeltijdrooster", "responsible_organisation_id": spec["partner"][0],
                                  "planned_start_on": state_clock.planned_start_on.isoformat()})
        past_gesprek = spec["state"] not in ("signaal", "gesprek")
        w.add("case", (case_id, reference, team[0], regisseur_id, case_id, case_id, spec["state"], region,
                       pact.started_on.isoformat(), "vrijwillig" if past_gesprek else None,
                       "Gesprek gevoerd." if past_gesprek else None, maatwerkplan, _dt(opened), _dt(opened)))
        w.add("signal", (case_id, case_id, team[0], "zorg@school.example.org", pact.started_on.isoformat(),
                         max(pact.started_on, opened.date()).isoformat(), "Sinds enkele weken niet op school.",
                         _dt(opened)))
        w.add("case_event", (case_id, _dt(opened), regisseur_id, "casusregisseur", "zaak_geopend", None, "signaal", _json({
            "reference": reference, "signal_kind": "lrv", "source": "school", "first_absent_on": pact.started_on.isoformat(),
            "previous_case_id": None, "region": region}), None, None))
        step_clock = clocks["step"][0]
        w.add("step", (case_id, case_id, spec["partner"][0], spec["title"], _dt(step_clock.due_at), regisseur_id,
                       _dt(datetime.combine(step_clock.started_on, datetime.min.time(), timezone.utc) + timedelta(hours=9))))
        due = {"now": [], "previous": []}
        for kind, (clock, rung, due_tick) in clocks.items():
            is_step = kind == "step"
            inputs = {**clock.inputs, "set_by": regisseur_id} if is_step else clock.inputs
            # As the scheduler leaves it: the name of the highest level reached, and when the next falls due.
            w.add("deadline", (deadline_id, case_id, case_id if is_step else None, spec["partner"][0] if is_step else None,
                               kind, clock.started_on.isoformat(), _dt(clock.due_at), clock.rule, _json(inputs),
                               clock.name(rung), _dt(clock.next_at(rung))))
            self.final[kind, clock.name(clock.rung_at(NOW))] += 1  # where every sweep up to NOW leaves it
            addresses = self.addresses(spec, is_step)
            row = (deadline_id, case_id, reference, team, clock, addresses, spec["partner"][1] if is_step else None)
            for level in clock.levels[:rung]:  # the levels already passed: their event and sent e-mails
                self._history(w, row, level)
            if due_tick:
                after = clock.rung_at(NOW if due_tick == "now" else PREVIOUS_TICK)
                passed = list(clock.levels[rung:after])
                mail = ({"mailed": 0, "items": [], "fallbacks": 0, "unreachable": 0} if clock.is_milestone
                        else self.swept(clock, passed, addresses, team[0], deadline_id))
                due[due_tick].append({"row": [deadline_id, clock.name(rung), clock.name(after)], "levels": len(passed),
                                      "milestone": clock.is_milestone, **mail})
            deadline_id += 1
        return deadline_id, due

    def _history(self, w: _Writer, row: tuple, level) -> None:
        """A level passed before the build: its event and sent e-mail, as the sweep of the minute it
        fell due wrote them (the level alone: one single message per recipient; a sweep that found
        other clocks due for the same recipient in that minute would have bundled them, which only
        changes how many sent rows the outbox holds)."""
        from mas.services.delivery import compose
        from mas.services.recipients import Addressee

        deadline_id, case_id, reference, team, clock, addresses, organisation_name = row
        at = clock.moments[level.number - 1]
        base = {"deadline_kind": clock.kind, "generation": 1, "due_at": clock.due_at.isoformat()}
        if clock.is_milestone:  # reached and recorded on the case, as the sweep records it; nobody is mailed
            w.add("case_event", (case_id, _dt(at), None, "system", "mijlpaal", None, None, _json(base), deadline_id,
                                 level.name))
            return
        to, missing = self.reach(level, addresses)
        at_text = _dt(at)
        w.add("case_event", (case_id, at_text, None, "system", "herinnering" if level.is_reminder else "escalatie", None,
                             None, _json({**base, "level": level.label, "sent": bool(to), "recipients": [
                                 {"role": role, "to": address, "fallback": fallback}
                                 for address, role, _u, _o, fallback in to], "missing": missing, "unreachable": not to}),
                             deadline_id, level.name))
        regisseur = addresses["casusregisseur"] or addresses["coordinator"]
        item = {"reference": reference, "what": self.label(clock.kind), "kind": clock.kind,
                "due_at": clock.due_at.isoformat(), "since": clock.started_on.isoformat(), "level": level.label,
                "rung": level.rung_number, "is_reminder": level.is_reminder, "organisation": organisation_name,
                "holder": organisation_name or team[8], "team": team[8],
                "contact": f"{regisseur[0].split('@')[0]} ({regisseur[0]})", "deadline_id": deadline_id,
                "generation": 1}
        for address, role, user_id, organisation_id, fallback in to:
            key = f"deadline:{deadline_id}:1:{level.name}:{address}"
            addressee = Addressee(address, self.recipient(role), user_id=user_id, organisation_id=organisation_id,
                                  fallback=fallback)
            template, context = compose(self.ctx, addressee, [item], at)
            message = self.outbox_row(self.ctx, key=key, template=template, recipient=address, context=context,
                                      case_id=case_id, now=at, not_before=at, role=role, user_id=user_id,
                                      organisation_id=organisation_id, team_id=team[0])
            self.message_pk += 1
            w.add("outbox_message", (self.message_pk, key, message["message_id"], template, address, _json(context),
                                     case_id, at_text, at_text, at_text, at_text, _dt(message["expires_at"]), role,
                                     user_id, organisation_id, team[0]))
            w.add("outbox_item", (self.message_pk, key, case_id, deadline_id, level.name))


def build(n_open: int, n_due: int, db_path: Path, meta_path: Path) -> dict:
    from mas.context import make_context
    from mas.db import Database, upgrade

    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_suffix(f".{os.getpid()}.building")  # a bench run beside this one may build it too
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    try:
        db = Database(f"sqlite:///{tmp}")
        upgrade(db)
        db.dispose()
        checkpoint(tmp)
        ctx = make_context(_settings(f"sqlite:///{tmp}"))
        running, due_pools, previous_pools = make_pools(ctx)

        n_cases = n_open // DEADLINES_PER_CASE
        if n_open % DEADLINES_PER_CASE or 2 * n_due > n_cases:
            raise SystemExit(f"--open must be a multiple of {DEADLINES_PER_CASE} and at least {2 * DEADLINES_PER_CASE} x due")
        if n_due > sweep_batch():
            # The expected messages count one bundle per recipient in one batch; several batches would
            # split the due rows in next_at order, ties unordered.
            raise SystemExit(f"--due must be at most the sweep's batch ({sweep_batch()})")
        conn = sqlite3.connect(tmp, isolation_level=None)
        conn.execute("PRAGMA journal_mode=OFF")  # a throwaway file until it is renamed
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-1000000")
        conn.execute("BEGIN")
        world = World(conn)
        builder = _Builder(ctx, world, running, due_pools, previous_pools)
        # The due cases, and the previous tick's, each drawn from a generator of their own, so
        # they are the same in every file; spread evenly, the previous tick's one case before each
        # of the due ones (due cases lie at least two apart).
        due_rng, previous_rng = random.Random(SEED + 1), random.Random(SEED + 2)
        due_at_case = {}
        for j in range(n_due):
            index = ((2 * j + 1) * n_cases) // (2 * n_due)
            due_at_case[index] = builder.case_spec(due_rng, due="now")
            due_at_case[index - 1] = builder.case_spec(previous_rng, due="previous")
        rng = random.Random(SEED)
        writer = _Writer(conn)
        deadline_id, due, previous = 1, [], []
        for index in range(n_cases):
            spec = due_at_case.get(index) or builder.case_spec(rng)
            deadline_id, case_due = builder.write_case(writer, index + 1, deadline_id, spec)
            due.extend(case_due["now"])
            previous.extend(case_due["previous"])
            if index % 20_000 == 19_999:
                writer.flush()
        writer.flush()
        conn.execute("INSERT INTO reference_counter (year, last) VALUES (2026, ?)", (n_cases,))
        conn.execute("COMMIT")
        now = _dt(NOW)
        counts = {
            "open": conn.execute("SELECT count(*) FROM deadline WHERE status = 'open'").fetchone()[0],
            "due": conn.execute("SELECT count(*) FROM deadline WHERE status = 'open' AND next_at IS NOT NULL AND next_at <= ?",
                                (now,)).fetchone()[0],
            "previous": conn.execute("SELECT count(*) FROM deadline WHERE status = 'open' AND next_at IS NOT NULL"
                                     " AND next_at <= ?", (_dt(PREVIOUS_TICK),)).fetchone()[0],
        }
        problems = check_built_rows(conn, clockwork.level_names(ctx))
        if problems:
            raise SystemExit("build went wrong: " + "; ".join(problems))
        conn.execute("PRAGMA journal_mode=WAL")  # as a mas database is (persistent in the file)
        conn.close()
        checkpoint(tmp)
        if (counts["open"] != n_open or counts["due"] != 2 * n_due or counts["previous"] != n_due or len(due) != n_due
                or len(previous) != n_due):
            raise SystemExit(f"build went wrong: {counts}, {len(due)} due clocks written")
        meta = {
            "open": n_open, "due": n_due, "cases": n_cases, "now": NOW.isoformat(),
            "due_rows": [d["row"] for d in due],  # deadline id, level name before and after (None: none)
            **expected_sweep(due), "previous_tick": PREVIOUS_TICK.isoformat(),
            **{f"previous_{key}": value for key, value in expected_sweep(previous).items()},
            # (kind, level name, deadlines): where every deadline stands once both ticks have swept
            "final_levels": sorted(([kind, name, n] for (kind, name), n in builder.final.items()), key=_by_level),
            "rows": writer.counts, "build_s": round(time.perf_counter() - started, 1),
            "bytes": tmp.stat().st_size, "schema": schema_version(tmp),
        }
        os.replace(tmp, db_path)
        meta_path.write_text(json.dumps(meta))
        for stale in OUT.glob(f"sweep-{n_open}-{n_due}-*"):  # files built for an older schema, config or builder
            if stale.suffix in (".sqlite3", ".json") and stale.stem != db_path.stem:
                stale.unlink(missing_ok=True)
        return meta
    except BaseException:
        remove_sqlite(tmp)  # never leave a half-built file behind
        raise


def _by_level(row: list) -> tuple:
    """(kind, level name or None, count) rows in a stable order."""
    return row[0], row[1] or ""


def sweep_batch() -> int:
    """How many due deadlines one batch of the sweep takes (its default, as the scheduler calls it)."""
    import inspect

    from mas.services.escalation import sweep

    return inspect.signature(sweep).parameters["batch"].default


def expected_sweep(due: list[dict]) -> dict:
    """What one tick's sweep must report and write for these due clocks (all in one batch):
    every level passed raised (a milestone's recorded), the mailed ones sent and the rest
    recorded only, one message per recipient (bundling the items it carries)."""
    levels = sum(d["levels"] for d in due if not d["milestone"])
    mailed = sum(d["mailed"] for d in due)
    return {"levels": levels, "milestones": sum(d["levels"] for d in due if d["milestone"]), "mailed": mailed,
            "recorded_only": levels - mailed, "fallbacks": sum(d["fallbacks"] for d in due),
            "unreachable": sum(d["unreachable"] for d in due),
            "messages": len({group for d in due for group, _key in d["items"]}),
            "items": sum(len(d["items"]) for d in due)}


def ensure_built(n_open: int, n_due: int, rebuild: bool) -> tuple[Path, Path, dict]:
    db_path, meta_path = built_paths(n_open, n_due)
    # A cached file is used only if it is on the schema the migrations reach now (its name says so too).
    if not rebuild and db_path.exists() and meta_path.exists() and schema_version(db_path) == migration_head():
        meta = json.loads(meta_path.read_text())
        print(f"{n_open:>9,} open: cached {db_path.relative_to(REPO_ROOT)} (built in {meta['build_s']} s)", flush=True)
        return db_path, meta_path, meta
    print(f"{n_open:>9,} open: building {db_path.relative_to(REPO_ROOT)} …", flush=True)
    # In a child process: a parent grown by the build would pass its peak RSS on to every child
    # it starts (Linux keeps ru_maxrss across fork and exec), spoiling the RSS figures.
    meta = run_child([SCRIPT, "--child", "build", "--open", str(n_open), "--due", str(n_due)])
    rows = ", ".join(f"{name} {count:,}" for name, count in meta["rows"].items())
    print(f"{n_open:>9,} open: built in {meta['build_s']} s (not measured), {meta['bytes'] / 1e6:,.0f} MB: {rows}", flush=True)
    return db_path, meta_path, meta


# --- the children -------------------------------------------------------------------------


def _fail(message: str) -> None:
    print(f"sweep bench check failed: {message}", file=sys.stderr)
    sys.exit(3)


def _wal_position(conn) -> int | None:
    """PostgreSQL: where the server's WAL stands, in bytes (None on SQLite, whose WAL is a file)."""
    if conn.dialect.name != "postgresql":
        return None
    return int(conn.execute(text("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")).scalar_one())


class _SelectsSeen:
    """The SELECTs an engine sends (SQL and parameters as the driver gets them), for their plans."""

    def __init__(self, engine):
        self.seen: dict[str, object] = {}
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and statement not in self.seen:
            self.seen[statement] = parameters

    def plans(self, url: str) -> str:
        return "\n\n".join(statement + "\n" + "\n".join(f"  {line}" for line in explain(url, statement, parameters))
                           for statement, parameters in self.seen.items())


def _reported(result) -> dict:
    """What a sweep reported (mas.services.escalation.SweepResult), by the meta's names."""
    return {"deadlines": result.deadlines, "levels": result.levels_raised, "milestones": result.milestones,
            "recorded_only": result.recorded_only, "fallbacks": result.fallbacks, "unreachable": result.unreachable,
            "messages": result.messages_queued}


def _expected(meta: dict, prefix: str = "") -> dict:
    """What the builder computed that sweep must report (expected_sweep)."""
    return {"deadlines": meta["due"], **{key: meta[prefix + key] for key in (
        "levels", "milestones", "recorded_only", "fallbacks", "unreachable", "messages")}}


def _opened(url: str):
    """The context and database as `mas scheduler` opens them."""
    from mas.services.runtime import open_context, open_database

    settings = _settings(url)
    return open_context(settings), open_database(settings, scheduler=True)


def _previous_tick(db, ctx, meta: dict) -> tuple[int, int]:
    """The scheduler's previous tick and the checkpoint job after it, as `mas scheduler` ran them;
    then the last case_event and outbox_message ids, from which the timed sweep's rows count."""
    from mas.models import CaseEvent, OutboxMessage
    from mas.services.escalation import sweep

    earlier = sweep(db, ctx, datetime.fromisoformat(meta["previous_tick"]))
    got, expected = _reported(earlier), _expected(meta, "previous_")
    if got != expected:
        _fail(f"the previous tick reported {got}; expected {expected}")
    db.checkpoint()
    e, o = CaseEvent.__table__, OutboxMessage.__table__
    with db.read() as conn:
        return (conn.execute(select(func.coalesce(func.max(e.c.id), 0))).scalar_one(),
                conn.execute(select(func.coalesce(func.max(o.c.id), 0))).scalar_one())


def _check_swept(db, meta: dict, marks: tuple[int, int]) -> None:
    """Exactly the due rows climbed, to the level the ladder says, nothing else moved, and the
    case_event, outbox_message and outbox_item rows expected were written (after `marks`)."""
    from mas.models import CaseEvent, Deadline, OutboxItem, OutboxMessage

    d, e, o, it = Deadline.__table__, CaseEvent.__table__, OutboxMessage.__table__, OutboxItem.__table__
    now = datetime.fromisoformat(meta["now"])
    events_before, outbox_before = marks
    n_due, levels, milestones, messages = meta["due"], meta["levels"], meta["milestones"], meta["messages"]
    with db.read() as conn:
        expected = {row[0]: row[2] for row in meta["due_rows"]}
        got = {}
        ids = list(expected)
        for i in range(0, len(ids), 500):
            for did, rung, next_at in conn.execute(select(d.c.id, d.c.rung, d.c.next_at).where(
                    d.c.id.in_(ids[i:i + 500]))):
                got[did] = rung
                if next_at is not None and next_at <= now:
                    _fail(f"deadline {did} is still due ({next_at})")
        if got != expected:
            wrong = [did for did in expected if got.get(did) != expected[did]][:5]
            _fail(f"due deadlines not on their expected rung, e.g. {[(x, got.get(x), expected[x]) for x in wrong]}")
        still_due = conn.execute(select(func.count()).select_from(d).where(
            d.c.status == "open", d.c.next_at.is_not(None), d.c.next_at <= now)).scalar_one()
        final = sorted(([kind, rung, n] for kind, rung, n in conn.execute(
            select(d.c.kind, d.c.rung, func.count()).group_by(d.c.kind, d.c.rung))), key=_by_level)
        events = tuple(conn.execute(select(func.count(), func.count(distinct(e.c.deadline_id))).where(
            e.c.id > events_before, e.c.deadline_id.is_not(None),
            e.c.kind.in_(("herinnering", "escalatie", "mijlpaal")))).one())
        all_events = conn.execute(select(func.count()).select_from(e).where(e.c.id > events_before)).scalar_one()
        queued = conn.execute(select(func.count()).select_from(o).where(
            o.c.id > outbox_before, o.c.status == "pending")).scalar_one()
        all_queued = conn.execute(select(func.count()).select_from(o).where(o.c.id > outbox_before)).scalar_one()
        items = conn.execute(select(func.count()).select_from(it).where(it.c.message_pk > outbox_before)).scalar_one()
    if still_due:
        _fail(f"{still_due} deadlines still due after the sweep")
    if final != meta["final_levels"]:
        _fail(f"deadlines per (kind, level) after the sweeps {final}; expected {meta['final_levels']}")
    if events != (levels + milestones, n_due) or all_events != levels + milestones:
        _fail(f"case_event rows written {all_events} ({events[0]} ladder events on {events[1]} deadlines);"
              f" expected {levels + milestones} on {n_due}")
    if queued != messages or all_queued != messages or items != meta["items"]:
        _fail(f"outbox rows written {all_queued} ({queued} pending) carrying {items} items;"
              f" expected {messages} carrying {meta['items']}")


def child_sweep(url: str, meta_path: Path, profile: bool = False) -> dict:
    from mas.scheduler import prepare_process
    from mas.services.escalation import sweep

    meta = json.loads(meta_path.read_text())
    now = datetime.fromisoformat(meta["now"])
    ctx, db = _opened(url)
    selects = _SelectsSeen(db.engine) if profile else None
    marks = _previous_tick(db, ctx, meta)
    if selects is not None:
        event.remove(db.engine, "before_cursor_execute", selects._seen)
    with db.read() as conn:
        wal_before = _wal_position(conn)
    prepare_process()  # as `mas scheduler` does once it has started
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    result = sweep(db, ctx, now)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    if profiler:
        profiler.disable()
    rss = peak_rss_mb()
    if wal_before is None:
        wal = Path(f"{sqlite_path(url)}-wal")  # what the sweep's commits wrote (closing the last connection empties it)
        wal_mb = wal.stat().st_size / 1e6 if wal.exists() else 0.0
    else:
        with db.read() as conn:
            wal_mb = (_wal_position(conn) - wal_before) / 1e6
    # The scheduler's checkpoint job folds that WAL in later, outside the sweep's write lock:
    # reported beside the sweep, so the cost that moved stays visible (PostgreSQL checkpoints by itself).
    started = time.perf_counter()
    db.checkpoint()
    checkpoint_s = time.perf_counter() - started

    # Checks (not timed): what it reported, the due rows and nothing else climbed, the rows written.
    got, expected = _reported(result), _expected(meta)
    if got != expected:
        _fail(f"the sweep reported {got}; expected {expected}")
    try:
        _check_swept(db, meta, marks)
    finally:
        db.dispose()
    levels, milestones = meta["levels"], meta["milestones"]
    out = {"arm": "sweep", "open": meta["open"], "due": meta["due"], "seconds": elapsed, "peak_rss_mb": rss,
           "levels": levels, "milestones": milestones, "events": levels + milestones, "messages": meta["messages"],
           "wal_mb": wal_mb, "checkpoint_s": checkpoint_s,
           # where the time went: this process's CPU in Python/the driver and in the kernel, and
           # blocks read from disk (0: every page came from the OS page cache; on PostgreSQL the
           # server's own reads and CPU are not this process's)
           "user_s": after.ru_utime - usage.ru_utime, "sys_s": after.ru_stime - usage.ru_stime,
           "blocks_read": after.ru_inblock - usage.ru_inblock}
    if profiler:
        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream)
        stats.sort_stats("cumulative").print_stats(35)
        stats.sort_stats("tottime").print_stats(25)
        out["profile"] = stream.getvalue()
        out["plans"] = selects.plans(url)
    return out


def child_floors(record_url: str, raw_url: str, core_url: str, meta_path: Path) -> dict:
    """The sweep's own statements without mas. Recorded (untimed, listeners on) from the sweep on
    one fresh copy; each floor on another fresh copy after the same previous tick, so the
    recorded ids hold again: the driver SQL through plain sqlite3 / psycopg (raw), the Core
    statements through `Connection.execute` in `Database.begin()` (Core). Each replay is checked
    as the sweep is: the same rows climbed and were written."""
    from mas.scheduler import prepare_process
    from mas.services.escalation import sweep

    meta = json.loads(meta_path.read_text())
    now = datetime.fromisoformat(meta["now"])
    ctx, db = _opened(record_url)
    _previous_tick(db, ctx, meta)
    recorder = Recorder(db.engine)
    result = sweep(db, ctx, now)
    db.dispose()
    got, expected = _reported(result), _expected(meta)
    if got != expected:
        _fail(f"the recorded sweep reported {got}; expected {expected}")
    if recorder.problems:
        _fail("the sweep's recording cannot be replayed: " + "; ".join(dict.fromkeys(recorder.problems)))
    [transactions] = recorder.finish()
    statements = sum(len(tx.driver) for tx in transactions)

    ctx, db = _opened(raw_url)  # the previous tick through mas, then the raw replay
    marks = _previous_tick(db, ctx, meta)
    db.dispose()
    conn = raw_sqlite(raw_url, background_checkpoint=True) if kind_of(raw_url) == "sqlite" else raw_psycopg(raw_url)
    conn.execute("SELECT 1").fetchall()
    prepare_process()
    started = time.perf_counter()
    replay_raw(conn, transactions)
    raw_s = time.perf_counter() - started
    conn.close()
    ctx, db = _opened(raw_url)
    try:
        _check_swept(db, meta, marks)
    finally:
        db.dispose()

    ctx, db = _opened(core_url)
    try:
        marks = _previous_tick(db, ctx, meta)
        started = time.perf_counter()
        replay_core(db.begin, transactions)
        core_s = time.perf_counter() - started
        _check_swept(db, meta, marks)
    finally:
        db.dispose()
    return {"arm": "floors", "open": meta["open"], "raw_s": raw_s, "core_s": core_s,
            "transactions": len(transactions), "statements": statements}


def child_full_read(url: str, meta_path: Path) -> dict:
    """The open deadlines read through the plain driver: what a sweep that scans them must at least pay."""
    meta = json.loads(meta_path.read_text())
    if kind_of(url) == "sqlite":
        conn = sqlite3.connect(sqlite_path(url))
    else:
        import psycopg

        conn = psycopg.connect(psycopg_conninfo(url))
    try:
        conn.execute("SELECT 1").fetchone()
        started = time.perf_counter()
        count = 0
        for _row in conn.execute(FULL_READ_SQL):
            count += 1
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
    if count != meta["open"]:
        _fail(f"full read saw {count} open deadlines, expected {meta['open']}")
    return {"arm": "full_read", "open": count, "seconds": elapsed, "peak_rss_mb": peak_rss_mb()}


# --- the parent ---------------------------------------------------------------------------


def run_arm(arm: str, sizes: dict, sources: dict, metas: dict, scratch: Scratch) -> dict:
    if arm == "full_read":
        return run_child([SCRIPT, "--child", "full-read", "--url", sources[sizes["large"]],
                          "--meta", str(metas[sizes["large"]])])
    if arm == "floors":
        urls = [scratch.copy(sources[sizes["large"]], label, strategy="FILE_COPY") for label in ("record", "raw", "core")]
        try:
            return run_child([SCRIPT, "--child", "floors", "--url", urls[0], "--floor-urls", *urls[1:],
                              "--meta", str(metas[sizes["large"]])])
        finally:
            for url in urls:
                scratch.drop(url)
    n_open = sizes["large"] if arm == "sweep_large" else sizes["small"]
    url = scratch.copy(sources[n_open], arm, strategy="FILE_COPY")
    try:
        return run_child([SCRIPT, "--child", "sweep", "--url", url, "--meta", str(metas[n_open])])
    finally:
        scratch.drop(url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer rounds, for CI")
    parser.add_argument("--open", type=int, help="open deadlines in the large file")
    parser.add_argument("--small", type=int, help="open deadlines in the small file")
    parser.add_argument("--due", type=int, help="due deadlines in each file")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--rebuild", action="store_true", help="build the files even if cached")
    parser.add_argument("--profile", action="store_true", help="profile one sweep at the large size and exit")
    add_database_option(parser)
    parser.add_argument("--child", choices=("build", "sweep", "full-read", "floors"), help=argparse.SUPPRESS)
    parser.add_argument("--floor-urls", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--meta", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child == "sweep":
        print(json_line(child_sweep(args.url, args.meta)))
        return 0
    if args.child == "build":
        db_path, meta_path = built_paths(args.open, args.due)
        print(json_line(build(args.open, args.due, db_path, meta_path)))
        return 0
    if args.child == "floors":
        print(json_line(child_floors(args.url, *args.floor_urls, args.meta)))
        return 0
    if args.child == "full-read":
        print(json_line(child_full_read(args.url, args.meta)))
        return 0

    sizes = dict(QUICK if args.quick else FULL)
    for key, value in (("large", args.open), ("small", args.small), ("due", args.due), ("rounds", args.rounds)):
        if value is not None:
            sizes[key] = value
    n_due, rounds = sizes["due"], sizes["rounds"]
    built = {n: ensure_built(n, n_due, args.rebuild) for n in dict.fromkeys((sizes["large"], sizes["small"]))}
    metas = {n: meta_path for n, (_db, meta_path, _meta) in built.items()}

    OUT.mkdir(parents=True, exist_ok=True)
    with Scratch(args.db, "sweep", OUT) as scratch:
        print(scratch.describe(), flush=True)
        if args.db == "sqlite":
            sources = {n: f"sqlite:///{db_path}" for n, (db_path, _m, _meta) in built.items()}
        else:
            sources = {}
            for n, (db_path, _m, _meta) in built.items():
                started = time.perf_counter()
                sources[n] = scratch.new(f"built_{n}")
                load_sqlite_into_postgresql(db_path, sources[n])
                print(f"{n:>9,} open: loaded into PostgreSQL in {time.perf_counter() - started:.1f} s (not measured;"
                      " each run takes a fresh copy of it)", flush=True)

        if args.profile:
            url = scratch.copy(sources[sizes["large"]], "profile", strategy="FILE_COPY")
            try:
                result = child_sweep(url, metas[sizes["large"]], profile=True)
            finally:
                scratch.drop(url)
            print("\nThe sweep's SELECTs and their plans:\n" + result.pop("plans") + "\n")
            print(result.pop("profile"))
            print(json_line(result))
            return 0

        print(f"\nsweep moment {NOW.isoformat()}; {n_due:,} due in each file; {rounds} rounds, arms alternating;"
              f" each run a fresh process on a fresh copy, after its previous tick", flush=True)
        results = {arm: [] for arm in ARMS}
        for r in range(rounds):
            for arm in rotated(ARMS, r):
                try:
                    res = run_arm(arm, sizes, sources, metas, scratch)
                except RuntimeError as exc:  # a child's check failed (its stderr says which)
                    print(f"\n{exc}", file=sys.stderr)
                    return 2
                results[arm].append(res)
                if arm == "floors":
                    print(f"  round {r + 1}: {'floors':<12} {res['open']:>9,} open  raw {res['raw_s'] * 1000:7.1f} ms,"
                          f" Core {res['core_s'] * 1000:7.1f} ms  (the sweep's {res['statements']} statements in"
                          f" {res['transactions']} transactions, replayed)", flush=True)
                    continue
                wal = (f"  user {res['user_s'] * 1000:5.1f} sys {res['sys_s'] * 1000:5.1f} ms, {res['blocks_read']} blocks"
                       f" read, WAL {res['wal_mb']:5.1f} MB, checkpoint job {res['checkpoint_s'] * 1000:6.1f} ms"
                       if "wal_mb" in res else "")
                print(f"  round {r + 1}: {arm:<12} {res['open']:>9,} open  {res['seconds'] * 1000:9.1f} ms"
                      f"  peak RSS {res['peak_rss_mb']:6.1f} MB{wal}", flush=True)

    def med(arm, key):
        return median(res[key] for res in results[arm])

    sweep_large, sweep_small, full_read = med("sweep_large", "seconds"), med("sweep_small", "seconds"), med("full_read", "seconds")
    raw_floor, core_floor = med("floors", "raw_s"), med("floors", "core_s")
    rss_large, rss_small = med("sweep_large", "peak_rss_mb"), med("sweep_small", "peak_rss_mb")
    speedup, ratio, rss_ratio = full_read / sweep_large, sweep_large / sweep_small, rss_large / rss_small
    meta_large = built[sizes["large"]][2]
    print()
    print(table(
        ("arm", "open", "due", "median ms", "min ms", "max ms", "peak RSS MB"),
        [(arm, f"{results[arm][0]['open']:,}", "-" if arm == "full_read" else f"{n_due:,}",
          f"{med(arm, 'seconds') * 1000:.1f}", f"{min(r['seconds'] for r in results[arm]) * 1000:.1f}",
          f"{max(r['seconds'] for r in results[arm]) * 1000:.1f}", f"{med(arm, 'peak_rss_mb'):.1f}") for arm in ARMS[:3]]
        + [(f"{name} floor", f"{sizes['large']:,}", f"{n_due:,}", f"{med('floors', key) * 1000:.1f}",
            f"{min(r[key] for r in results['floors']) * 1000:.1f}", f"{max(r[key] for r in results['floors']) * 1000:.1f}",
            "-") for name, key in (("Core", "core_s"), ("raw", "raw_s"))]))
    meta_small = built[sizes["small"]][2]
    print(f"\nVerified: every sweep raised exactly {n_due:,} due deadlines and nothing else, and wrote"
          f" {meta_large['levels'] + meta_large['milestones']:,} case_event ({meta_large['milestones']:,} of them"
          f" milestones) and {meta_large['messages']:,} outbox rows ({meta_small['levels'] + meta_small['milestones']:,}"
          f" and {meta_small['messages']:,} at {sizes['small']:,} open); every full read"
          f" saw all {sizes['large']:,} open deadlines")
    checks = [
        (f"sweep at {sizes['large']:,} open vs full read", f"{speedup:.1f}x faster", f">= {TARGET_SPEEDUP_VS_FULL_READ:g}x",
         speedup >= TARGET_SPEEDUP_VS_FULL_READ),
        (f"sweep at {sizes['large']:,} / at {sizes['small']:,}", f"{ratio:.2f}", f"<= {TARGET_RATIO_LARGE_TO_SMALL:g}",
         ratio <= TARGET_RATIO_LARGE_TO_SMALL),
        (f"peak RSS at {sizes['large']:,} / at {sizes['small']:,}", f"{rss_ratio:.2f}", f"<= {TARGET_RSS_RATIO:g}",
         rss_ratio <= TARGET_RSS_RATIO),
    ]
    print(f"\nTargets on {args.db}:")
    print(table(("target", "measured", "target", "met"), [(a, b, c, "yes" if ok else "NO") for a, b, c, ok in checks]))
    print("\nBeside them (the floors replay this sweep's own statements; bench/replay.py):")
    for label, figure, meaning in (
        ("sweep / Core floor", f"{sweep_large / core_floor:.2f}", "what mas itself adds above SQLAlchemy"),
        ("sweep / raw floor", f"{sweep_large / raw_floor:.2f}", "what mas and SQLAlchemy add above the driver"),
        ("full read / Core floor", f"{full_read / core_floor:.1f}x",
         "the most a sweep sending these statements through Connection.execute can reach"),
        ("full read / raw floor", f"{full_read / raw_floor:.1f}x", "the most a sweep writing these rows can reach"),
    ):
        print(f"  {label:<24}{figure:>7}  {meaning}")
    if args.quick:
        print("(quick run: smaller sizes; the targets are judged on the full run)")
    print(json_line({
        "bench": "sweep", "quick": bool(args.quick), "database": args.db, "open": sizes["large"], "due": n_due,
        "sweep_1m_s": round(sweep_large, 5), "sweep_100k_s": round(sweep_small, 5),
        "full_read_1m_s": round(full_read, 5), "speedup_vs_full_read": round(speedup, 2),
        "ratio_1m_to_100k": round(ratio, 3), "peak_rss_mb_1m": round(rss_large, 1),
        "peak_rss_mb_100k": round(rss_small, 1), "core_floor_1m_s": round(core_floor, 5),
        "raw_floor_1m_s": round(raw_floor, 5),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
