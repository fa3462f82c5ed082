"""Server time of the web pages through the WSGI app, in process, on SQLite or PostgreSQL, at two database sizes.

    python bench/web.py                  # full run: 100,000 and 1,000 cases, 300 requests per page and size
    python bench/web.py --db postgresql  # the same on PostgreSQL (server: MAS_BENCH_DATABASE_URL)
    python bench/web.py --quick          # CI (under a minute): 10,000 and 1,000 cases, 40 requests ("quick": true)
    python bench/web.py --profile        # after the run: cProfile and query plans per page at the large size
    python bench/web.py --rebuild        # build the database files again even if cached

The pages (each request through `app.test_client()`, logged in once as a casusregisseur):

  werkvoorraad  GET /cases: her werkvoorraad, 200 open cases of her own, 50 rows a page (page 1, "mine").
  case          GET /cases/<reference>: a case of hers with exactly 30 events and 5 steps.
  transition    POST /cases/<reference>/transition/<trigger>: a real transition per request, alternating
                aanbod --aanbod_mislukt (with a reason)--> zorgtafel --maatwerkplan_vastgesteld (offer,
                organisation, planned start)--> aanbod, rotating over 10 of her cases so that no one case
                piles up history. Before each POST (outside the timer) the case's state and version are read
                from the database (an engine of the bench's own) and the form carries that version, as the page's form
                would. Only the POST is timed (302 and its Location are checked); its redirect target is a
                case page, measured on its own. The flash message it leaves in the session is popped outside
                the timer, as the next page a browser loads would.

Figures per page and size: p50 and p95 of the wall-clock server time (the JSON's figures), and beside
them in the table the request's CPU time in this thread (which a wait for a core on a loaded machine does
not inflate) and the time spent inside cursor.execute.

Before measuring, a case the bulk builder wrote (her latest closed one) is opened once and must show
its team's record of the youth and a guardian: the bulk rows are rows the pages read.

Every response's status is asserted (200, or 302 to the case for a transition; anything else ends the
bench with exit status 2), so a failing request cannot pass for a fast one.

Queries: a `before_cursor_execute` listener on the app's engine counts every statement a request sends
(BEGIN, COMMIT, ROLLBACK, SAVEPOINT and RELEASE aside), the login's session lookup included. The figure
reported is the largest count seen over the measured requests; the bench also keeps each page's
statements so that a difference between the two sizes can be shown statement by statement.

The two database files (cached under bench/out/, named by size, by the schema's migration head and by
bench.common.build_key over what shapes their contents: this builder's version, the migrations and
models, the shipped config, for the seed the services and everything they write with, for the bulk the
clock rules and workflow and the seed's key; a cached file is used only if its alembic_version is that
head. The bulk rows are this builder's: when the services change what they write, the builder must
follow, and bench.common.check_built_rows plus the case page checked before measuring say when not):

  seed   migrated by mas.db.upgrade; through the services (mas.services.admin, auth, cases, steps): six
         teams with six casusregisseurs and a coordinator each, 30 schools and 14 partner organisations
         with a user each, an admin, and the bench's casusregisseur's 200 open cases: the 30-event/5-step
         case, the 10 transition cases (in aanbod) and 189 others spread over the open states, some with
         a step or a note. The seed is the same in both files (same ids and references), so the pages
         measured are the same pages.
  bulk   the rest of the cases up to the size, with plain sqlite3 executemany in one transaction: cases of
         the other casusregisseurs of her team and of the other teams (three in four closed, the open ones
         spread over the states) and her own closed history (2% of the size), each as receive_signal
         writes it: the youth's key (a BSN, no personal data), the team's own record of the youth (one per
         case, case.record_id) with its guardians, its signal(s) entered by the team (status 'joined';
         no hand-overs and no signals waiting for another team), its clocks as the services compute them
         (mas.clocks.rules: state clocks, Thuiszitterspact, LRV; steps with their own clocks), rung (the
         name of the highest level reached, NULL for none) and next_at as the sweeps up to NOW (or up to
         the clock's end) left them (mas.clocks.ladder), its events (opening, each transition, steps,
         each level as the sweep of its minute journalled it, with whom it mailed or the fallback) and
         access-log rows. Statistics tables are not made (no ANALYZE): mas never runs it on SQLite.
         The world (teams, users, organisations) is the same at both sizes: the database grows the way
         one deployment grows over the years, by history, so a team's closed cases grow with the size.

On PostgreSQL each size's file is loaded into a database the bench creates on the server, migrated by
mas.db.upgrade (bench.common.load_sqlite_into_postgresql: COPY, the same rows, ids and next ids, then
VACUUM ANALYZE, as autovacuum keeps a PostgreSQL database), and dropped when the bench ends, also when it
fails. On SQLite each size is measured on a fresh copy of its file. Both apps live in one process.
After an untimed warm-up per page and size, rounds take the pages in turn (each round starting with a
different one) and within a page alternate the two sizes request by request, so that load from elsewhere
on the machine falls on both.

Settings the bench chooses, and why:
  * require_totp=False (the login is not measured; TOTP is one HMAC anyway).
  * CSRF stays ON: the bench reads the token from the login page and from a case page, like a browser.
  * The app's clock starts at NOW (a Tuesday in term time) and advances 1 ms per request, so the session's
    "last seen" touch (an UPDATE at most once a minute per session, mas.services.auth.TOUCH_EVERY) never
    falls inside the run: it is amortised over a minute of requests, not a per-request cost.
  * Accounts are made by mas.services.auth.create_user; for the build only its argon2 hasher is swapped
    for cheap parameters (the hash format is the same; nobody's login is measured).

The last line of output is one JSON object:
  {"bench": "web", "quick": …, "database": "sqlite" | "postgresql",
   "pages": {page: {"p50_ms", "p95_ms", "p95_ms_at_1k", "queries", "queries_at_1k"}},
   "worst_p95_ratio_100k_to_1k", "worst_p95_ms", "max_queries_per_request"}
where "p50_ms"/"p95_ms"/"queries" are at the large size, worst_p95_ratio_100k_to_1k is the largest p95
ratio of a page between the sizes, worst_p95_ms the largest p95 of any page at either size, and
max_queries_per_request the largest statement count of any page at either size. In a quick run the large
size is 10,000 instead of 100,000; the small one is 1,000 in both. Targets (printed, judged on the full
run, never asserted): ratio <= 1.5, the same queries at both sizes, p95 < 50 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import html
import io
import json
import os
import pstats
import random
import re
import shutil
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/web.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, func, select, update

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
    load_sqlite_into_postgresql,
    migration_head,
    remove_sqlite,
    rotated,
    schema_version,
    table,
)
from mas.models import TABLES, Case, CaseEvent
from mas.services.queries import PAGE_SIZE  # the werkvoorraad's rows a page (50)

_C, _E = Case.__table__, CaseEvent.__table__

OUT = REPO_ROOT / "bench" / "out"
BUILD_VERSION = 5
SEED = 20260303
# A Tuesday in term time (regio midden), 10:00 in Amsterdam: the moment every page is asked for.
NOW = datetime(2026, 3, 3, 9, 0, tzinfo=timezone.utc)
WORLD_AT = datetime(2024, 1, 8, 9, 0, tzinfo=timezone.utc)  # when teams, users and organisations were made
HISTORY_DAYS = 900  # closed cases closed within this many days before NOW

FULL_SIZES, QUICK_SIZES = (100_000, 1_000), (10_000, 1_000)
SMALL = 1_000  # the "_at_1k" figures
FULL_REQUESTS, QUICK_REQUESTS = 300, 40  # measured requests per page and size
FULL_ROUNDS, QUICK_ROUNDS = 10, 2
FULL_WARMUP, QUICK_WARMUP = 25, 10  # untimed requests per page and size

PAGES = ("werkvoorraad", "case", "transition")
OPEN_CASES = 200  # the bench casusregisseur's open cases
TRANSITION_CASES = 10
CASE_EVENTS, CASE_STEPS = 30, 5
OWN_HISTORY_SHARE = 0.02  # her closed cases, as a share of the size
CLOSED_SHARE = 0.75  # of the bulk cases of everyone else

# Targets of the issue (judged on the full run; never asserted in a test).
TARGET_RATIO = 1.5
TARGET_P95_MS = 50.0

BENCH_EMAIL = "bench.regisseur@leerplicht-utrecht.example.org"
PASSWORD = "bench-wachtwoord-2026"

TEAMS = (  # name, municipalities, default region, bestuurlijk contact
    ("Leerplicht Utrecht", ["Utrecht"], "midden", ("Wethouder Onderwijs Utrecht", "wethouder@utrecht.example.org")),
    ("Leerplicht Amersfoort", ["Amersfoort"], "midden", None),
    ("Leerplicht Groningen", ["Groningen"], "noord", ("Wethouder Onderwijs Groningen", "wethouder@groningen.example.org")),
    ("Leerplicht Zwolle", ["Zwolle"], "noord", None),
    ("Leerplicht Eindhoven", ["Eindhoven"], "zuid", ("Directeur SWV Eindhoven", "directeur@swv-eindhoven.example.org")),
    ("Leerplicht Tilburg", ["Tilburg"], "zuid", None),
)
REGISSEURS_PER_TEAM = 6
SCHOOLS_PER_TEAM = 5
PARTNERS = (("swv", 3), ("ggd", 2), ("wijkteam", 4), ("zorgaanbieder", 2), ("halt", 1), ("rvdk", 1), ("om", 1))

GIVEN = ("Sem", "Noah", "Liam", "Lucas", "Daan", "Finn", "Levi", "Milan", "Bram", "Luuk", "Emma", "Julia", "Mila",
         "Tess", "Sophie", "Zoë", "Sara", "Nora", "Yara", "Eva", "Mohammed", "Ayoub", "Amira", "Fatima", "Jayden")
FAMILY = ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit",
          "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker",
          "Brouwer", "El Amrani", "Yilmaz", "Kaya", "Öztürk", "Pinas")
RELATIONS = ("moeder", "vader", "voogd", "pleegouder")
EDUCATION = (("po", "groep 8"), ("vo", "vmbo-b"), ("vo", "vmbo-t"), ("vo", "havo"), ("vo", "vwo"), ("vso", None),
             ("mbo", "mbo-2"), ("mbo", "mbo-3"))
SIGNAL_KINDS = (("lrv", 4), ("absoluut", 2), ("relatief", 2), ("signaal", 2), ("luxe", 1), ("te_laat", 1))
SIGNAL_SOURCES = (("school", 6), ("duo", 2), ("ouder", 1), ("wijkteam", 1), ("ggd", 1))
OPEN_STATE_WEIGHTS = (("signaal", 15), ("gesprek", 20), ("zorgtafel", 25), ("aanbod", 20), ("terugleiding", 20))
PATH = (("plan_gesprek", "gesprek"), ("naar_zorgtafel", "zorgtafel"), ("maatwerkplan_vastgesteld", "aanbod"),
        ("aanbod_gestart", "terugleiding"), ("nazorg_afgerond", "afgesloten"))
STATE_DEPTH = {"signaal": 0, "gesprek": 1, "zorgtafel": 2, "aanbod": 3, "terugleiding": 4}
ROUTES = ("vrijwillig", "vrijwillig", "vrijwillig", "halt", "civiel", "strafrechtelijk")
CLOSING = ("terug_naar_school", "andere_opleiding", "werk", "verhuisd", "vrijstelling", "langdurig_ziek", "overige")
STEP_TITLES = ("Huisbezoek", "Gesprek met de school", "Onderzoek jeugdarts", "Aanmelding jeugdhulp", "Plaatsing regelen",
               "Intake zorgaanbieder", "Overleg samenwerkingsverband")
NOTES = ("Moeder gebeld, gesprek ingepland.", "School meldt dat de jongere deze week twee dagen aanwezig was.",
         "Afstemming met het wijkteam over de aanpak.", "Jongere geeft aan dat de overstap spannend is.",
         "Ouders willen eerst een gesprek met de mentor.")


# --- formats: what SQLAlchemy writes on SQLite ---------------------------------------------------------


def _dt(value: datetime | None) -> str | None:
    """mas.db.UTCDateTime on SQLite: naive UTC, SQLAlchemy's 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def _json(value) -> str | None:
    return None if value is None else json.dumps(value)  # SQLAlchemy's JSON type on SQLite: json.dumps


def _bsn(n: int) -> str:
    """The first number from n on that passes the elfproef, as a BSN (test data, no real person's)."""
    while True:
        digits = f"{n % 100_000_000:08d}"
        last = sum(int(d) * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2))) % 11
        if last < 10:
            return digits + str(last)
        n += 1


def _weighted(rng: random.Random, pairs):
    return rng.choices([p[0] for p in pairs], [p[1] for p in pairs])[0]


# --- cache --------------------------------------------------------------------------------------------


# What the built rows are computed with, besides the schema and the shipped config (bench.common.build_key).
# The seed is made through the services, so everything they write with shapes it; the bulk rows are
# computed by this builder with the clock rules and the workflow, on a copy of the seed.
SEED_INPUTS = ("mas/services", "mas/notifications", "mas/clocks", "mas/workflows", "mas/context.py", "mas/settings.py",
               "mas/dates.py", "mas/bsn.py")
BULK_INPUTS = ("bench/clockwork.py", "mas/clocks", "mas/workflows", "mas/context.py", "mas/settings.py", "mas/dates.py")


def seed_key() -> str:
    return build_key("web-seed", BUILD_VERSION, SEED, NOW.isoformat(), inputs=SEED_INPUTS)


def size_key(size: int) -> str:
    return build_key("web-size", BUILD_VERSION, SEED, NOW.isoformat(), size, seed_key(), inputs=BULK_INPUTS)


def _settings(url: str):
    from mas.settings import load_settings

    return load_settings(environ={}, env="test", instance_dir=OUT / "instance", database_url=url)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# --- the seed: everything the pages show, made through the services -----------------------------------


@contextlib.contextmanager
def _cheap_password_hashing():
    """create_user hashes with argon2's defaults (~0.8 s a hash here): cheap parameters for the build only."""
    from argon2 import PasswordHasher

    from mas.services import auth

    saved = auth._hasher
    auth._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        yield
    finally:
        auth._hasher = saved


def _youth_input(rng: random.Random, bsn_seq, school_id: int | None, municipality: str):
    from mas.services.inputs import GuardianInput, YouthInput

    family = rng.choice(FAMILY)
    kind, level = rng.choice(EDUCATION)
    guardians = tuple(GuardianInput(f"{rng.choice(GIVEN)} {family}", rel, f"06{rng.randrange(10**8):08d}",
                                    None if rng.random() < 0.5 else f"ouder{rng.randrange(10**6)}@example.org")
                      for rel in (("moeder", "vader") if rng.random() < 0.5 else ("moeder",)))
    return YouthInput(given_name=rng.choice(GIVEN), family_name=family,
                      birth_on=date(2008, 1, 1) + timedelta(days=rng.randrange(11 * 365)), bsn=next(bsn_seq),
                      municipality=municipality, school_id=school_id, education_kind=kind, education_level=level,
                      guardians=guardians)


def _signal_input(rng: random.Random, first_absent_on: date, last_on: date):
    from mas.services.inputs import SignalInput

    return SignalInput(kind=_weighted(rng, SIGNAL_KINDS), source=_weighted(rng, SIGNAL_SOURCES),
                       reporter_name="M. Jansen", reporter_function="zorgcoördinator",
                       reporter_phone="030-1234567", reporter_email="zorg@school.example.org",
                       period_first_on=first_absent_on, period_last_on=last_on,
                       hours_missed=float(rng.randrange(8, 120)),
                       description="Sinds enkele weken niet of nauwelijks op school.")


def _guard(trigger: str, day: date, organisation_id: int) -> tuple[dict, str | None]:
    """Valid guard data for a trigger, as a form would send it (strings)."""
    if trigger == "naar_zorgtafel":
        return {"gesprek_report": "Gesprek met jongere en ouders gevoerd; angst en overprikkeling.",
                "route": "vrijwillig"}, None
    if trigger == "maatwerkplan_vastgesteld":
        return {"offer": "Deeltijdrooster met begeleiding, opbouw naar volledig rooster",
                "responsible_organisation_id": str(organisation_id),
                "planned_start_on": (day + timedelta(days=14)).isoformat(), "orientation_weeks": "4"}, None
    if trigger == "aanbod_gestart":
        return {"offer_started_on": day.isoformat()}, None
    if trigger == "aanbod_mislukt":
        return {}, "Plaatsing ging niet door."
    return {}, None


@dataclass
class Seed:
    # [{id, region, municipality, regisseurs: [id], coordinator, schools: [id], emails: {user id: e-mail}, bestuurlijk}]
    teams: list = field(default_factory=list)
    partners: list = field(default_factory=list)  # [(org id, user id)]
    partner_emails: dict = field(default_factory=dict)  # org id -> (contact e-mail, escalation e-mail)
    bench_user: int = 0
    case_page: str = ""
    transition_cases: list = field(default_factory=list)  # references
    open_references: list = field(default_factory=list)
    max_ids: dict = field(default_factory=dict)


def build_seed(path: Path) -> dict:
    """Migrate, then the world and the bench casusregisseur's 200 open cases, through the services."""
    from mas.context import make_context
    from mas.dates import end_of_day, local_date
    from mas.db import Database, upgrade
    from mas.models import Case, CaseEvent, Step, Team
    from mas.services import admin, auth, cases, steps
    from mas.services.actors import Actor

    _remove(path)
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    ctx = make_context(_settings(f"sqlite:///{path}"))
    rng = random.Random(SEED)
    bsn_seq = (_bsn(n) for n in range(11_000_000, 99_999_999, 7))
    seed = Seed()
    t = Team.__table__
    with _cheap_password_hashing():
        with db.begin() as conn:
            admin_id, _ = auth.create_user(conn, email="beheer@example.org", name="Beheer", role="admin",
                                           password=PASSWORD, now=WORLD_AT)
        root = Actor(id=admin_id, role="admin")
        with db.begin() as conn:
            for n, (name, municipalities, region, bestuurlijk) in enumerate(TEAMS, 1):
                team_id = admin.create_team(conn, root, name=name, default_region=region, municipalities=municipalities,
                                            now=WORLD_AT, bestuurlijk_contact_name=bestuurlijk[0] if bestuurlijk else None,
                                            bestuurlijk_contact_email=bestuurlijk[1] if bestuurlijk else None)
                town = municipalities[0]
                domain = f"school.{town.lower()}.example.org"
                schools = [admin.create_organisation(
                    conn, root, name=f"{school} {town} {k}", kind="school", now=WORLD_AT, brin=f"{n:02d}{chr(64 + k)}{k}",
                    municipality=town, contact_name=f"Zorgcoördinator {k}", contact_email=f"zorg{k}@{domain}",
                    escalation_name=f"Directeur {k}", escalation_email=f"directie{k}@{domain}")
                    for k, school in enumerate(("Het Baken College", "OBS De Regenboog", "Christelijk Lyceum",
                                                "ROC", "VSO De Brug")[:SCHOOLS_PER_TEAM], 1)]
                regisseurs, emails = [], {}
                for k in range(1, REGISSEURS_PER_TEAM + 1):
                    email = BENCH_EMAIL if (n, k) == (1, 1) else f"regisseur{k}@{name.lower().replace(' ', '-')}.example.org"
                    uid, _ = auth.create_user(conn, email=email, name=f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}",
                                              role="casusregisseur", password=PASSWORD, now=WORLD_AT, team_id=team_id)
                    regisseurs.append(uid)
                    emails[str(uid)] = email
                email = f"coordinator@{name.lower().replace(' ', '-')}.example.org"
                coordinator, _ = auth.create_user(conn, email=email, name=f"Coördinator {town}", role="coordinator",
                                                  password=PASSWORD, now=WORLD_AT, team_id=team_id)
                emails[str(coordinator)] = email
                conn.execute(update(t).where(t.c.id == team_id).values(coordinator_id=coordinator))
                seed.teams.append({"id": team_id, "region": region, "municipality": town, "regisseurs": regisseurs,
                                   "coordinator": coordinator, "schools": schools, "emails": emails,
                                   "bestuurlijk": bestuurlijk[1] if bestuurlijk else None})
            for kind, count in PARTNERS:
                for k in range(1, count + 1):
                    org = admin.create_organisation(
                        conn, root, name=f"{admin.ORGANISATION_KINDS[kind]} {k}", kind=kind, now=WORLD_AT,
                        contact_name=f"Contact {kind} {k}", contact_email=f"contact@{kind}{k}.example.org",
                        escalation_name=f"Manager {kind} {k}", escalation_email=f"manager@{kind}{k}.example.org")
                    uid, _ = auth.create_user(conn, email=f"medewerker@{kind}{k}.example.org", name=f"Medewerker {kind} {k}",
                                              role="partner", password=PASSWORD, now=WORLD_AT, organisation_id=org)
                    seed.partners.append((org, uid))
                    seed.partner_emails[str(org)] = (f"contact@{kind}{k}.example.org", f"manager@{kind}{k}.example.org")
    team = seed.teams[0]
    me = Actor(id=team["regisseurs"][0], role="casusregisseur", team_id=team["id"])
    seed.bench_user = me.id
    partner_orgs = [p[0] for p in seed.partners]
    c = Case.__table__

    def open_case(opened: datetime, first_absent_on: date, youth=None) -> tuple[int, str, object]:
        youth = youth or _youth_input(rng, bsn_seq, rng.choice(team["schools"]), team["municipality"])
        with db.begin() as conn:
            result = cases.receive_signal(conn, ctx, me, youth, _signal_input(rng, first_absent_on, local_date(opened)),
                                          team_id=team["id"], now=opened, casusregisseur_id=me.id,
                                          first_absent_on=first_absent_on)
        return result.case_id, result.reference, youth

    def fire(case_id: int, trigger: str, at: datetime) -> None:
        data, reason = _guard(trigger, local_date(at), rng.choice(partner_orgs))
        with db.begin() as conn:
            version = cases.get_case(conn, case_id).version
            cases.fire(conn, ctx, me, case_id, trigger, now=at, expected_version=version, data=data, reason=reason)

    def note(case_id: int, at: datetime) -> None:
        with db.begin() as conn:
            cases.add_note(conn, me, case_id, rng.choice(NOTES), now=at)

    def step(case_id: int, at: datetime) -> int:
        with db.begin() as conn:
            return steps.assign_step(conn, ctx, me, case_id, organisation_id=rng.choice(partner_orgs),
                                     title=rng.choice(STEP_TITLES), description="Graag terugkoppeling aan de casusregisseur.",
                                     due_at=end_of_day(local_date(at) + timedelta(days=rng.randrange(10, 30))), now=at)

    # 1. The case page's case: 30 events, 5 steps, history of every kind.
    at = NOW - timedelta(days=48, hours=3)
    tick = timedelta(days=1, hours=2)
    case_id, reference, youth = open_case(at, local_date(at) - timedelta(days=18))
    step_ids = []
    script = ["plan_gesprek", "note", "naar_zorgtafel", "step", "step", "step", "step", "step", "done", "done", "signal",
              "maatwerkplan_vastgesteld", "aanbod_mislukt", "note", "maatwerkplan_vastgesteld", "route", "aanbod_mislukt",
              "done", "maatwerkplan_vastgesteld", "note", "aanbod_mislukt", "note", "maatwerkplan_vastgesteld", "note",
              "aanbod_mislukt", "note", "maatwerkplan_vastgesteld", "note", "note"]
    for action in script:
        at += tick
        if action == "note":
            note(case_id, at)
        elif action == "step":
            step_ids.append(step(case_id, at))
        elif action == "done":
            with db.begin() as conn:
                steps.complete_step(conn, me, step_ids.pop(0), now=at, expected_version=None, note="Afgerond, zie verslag.")
        elif action == "signal":
            with db.begin() as conn:
                joined = cases.receive_signal(conn, ctx, me, youth, _signal_input(rng, local_date(at) - timedelta(days=5),
                                                                                   local_date(at)),
                                              team_id=team["id"], now=at)
            assert joined.joined and joined.case_id == case_id
        elif action == "route":
            with db.begin() as conn:
                version = cases.get_case(conn, case_id).version
                cases.change_route(conn, ctx, me, case_id, "halt", now=at, expected_version=version,
                                   reason="Ouders werken niet mee; Halt-traject.")
        else:
            fire(case_id, action, at)
    assert at < NOW
    e, s = CaseEvent.__table__, Step.__table__
    with db.read() as conn:
        n_events = len(conn.execute(select(e.c.id).where(e.c.case_id == case_id)).all())
        n_steps = len(conn.execute(select(s.c.id).where(s.c.case_id == case_id)).all())
    if (n_events, n_steps) != (CASE_EVENTS, CASE_STEPS):
        raise SystemExit(f"seed: the case page's case has {n_events} events and {n_steps} steps")
    seed.case_page = reference
    seed.open_references.append(reference)

    # 2. The transition cases, in aanbod; 3. the rest of her 200 open cases.
    targets = ["aanbod"] * TRANSITION_CASES + [_weighted(rng, OPEN_STATE_WEIGHTS)
                                               for _ in range(OPEN_CASES - 1 - TRANSITION_CASES)]
    for n, target in enumerate(targets):
        depth = STATE_DEPTH[target]
        opened = NOW - timedelta(days=rng.uniform(3 + 8 * depth, 20 + 14 * depth), hours=rng.randrange(10))
        case_id, reference, _ = open_case(opened, local_date(opened) - timedelta(days=rng.randrange(3, 40)))
        gap = (NOW - timedelta(hours=2) - opened) / (depth + 2)
        at = opened
        for trigger, _dest in PATH[:depth]:
            at += gap
            fire(case_id, trigger, at)
            if trigger == "naar_zorgtafel" and rng.random() < 0.3:
                step(case_id, at + timedelta(hours=1))
        if rng.random() < 0.2:
            note(case_id, at + gap / 2)
        (seed.transition_cases if n < TRANSITION_CASES else seed.open_references).append(reference)
    seed.open_references.extend(seed.transition_cases)
    with db.read() as conn:
        mine = conn.execute(select(c.c.id).where(c.c.casusregisseur_id == me.id, c.c.state != "afgesloten")).all()
        states = dict(conn.execute(select(c.c.reference, c.c.state).where(c.c.reference.in_(seed.transition_cases))).all())
        for name in ("case", "youth", "youth_record", "step", "deadline", "case_event"):
            table_ = TABLES.tables[name]
            seed.max_ids[name] = conn.execute(select(func.coalesce(func.max(table_.c.id), 0))).scalar_one()
        ref = TABLES.tables["reference_counter"]
        counters = dict(conn.execute(select(ref.c.year, ref.c.last)).all())
    if len(mine) != OPEN_CASES or set(states.values()) != {"aanbod"}:
        raise SystemExit(f"seed: {len(mine)} open cases, transition cases in {set(states.values())}")
    db.dispose()
    checkpoint(path)
    meta = {"teams": seed.teams, "partners": seed.partners, "partner_emails": seed.partner_emails,
            "bench_user": seed.bench_user, "case_page": seed.case_page,
            "transition_cases": seed.transition_cases, "max_ids": seed.max_ids,
            "counters": {str(k): v for k, v in counters.items()}}
    return meta


# --- bulk: the rest of the cases, plain sqlite3 ------------------------------------------------------


class _Writer:
    """Buffers rows per table and writes them with executemany (parents first)."""

    SQL = {
        # What mas.services.cases.receive_signal writes for a new youth: the key (no personal data),
        # the team's own record of what it typed, the guardians on that record, the case naming the
        # record, and the signals, each with the team that entered it.
        "youth": "INSERT INTO youth (id, bsn, onderwijsnummer, created_at) VALUES (?,?,NULL,?)",
        "youth_record": "INSERT INTO youth_record (id, youth_id, team_id, given_name, family_name, birth_on, bsn,"
                        " onderwijsnummer, municipality, school_id, education_kind, education_level, copied_from_id,"
                        " created_at) VALUES (?,?,?,?,?,?,?,NULL,?,?,?,?,NULL,?)",
        "guardian": "INSERT INTO guardian (record_id, name, relation, phone, email, has_custody) VALUES (?,?,?,?,?,?)",
        "case": 'INSERT INTO "case" (id, reference, team_id, casusregisseur_id, youth_id, record_id, state, version, region,'
                " first_absent_on, route, gesprek_report, maatwerkplan, offer_started_on, closing_reason, previous_case_id,"
                " has_suspensions, opened_at, closed_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,NULL,0,?,?,?)",
        "signal": "INSERT INTO signal (case_id, youth_id, team_id, status, kind, source, reporter_name, reporter_function,"
                  " reporter_phone, reporter_email, period_first_on, period_last_on, hours_missed, description, received_at,"
                  " decided_at, decided_by_id, decision_reason) VALUES (?,?,?,'joined',?,?,?,?,?,?,?,?,?,?,?,NULL,NULL,NULL)",
        "step": "INSERT INTO step (id, case_id, organisation_id, title, description, due_at, status, version, created_by_id,"
                " created_at, completed_at, completed_by_id, completion_note) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        "deadline": "INSERT INTO deadline (id, case_id, step_id, organisation_id, kind, generation, started_on, due_at, rule,"
                    " inputs, rung, next_at, status, closed_at, closed_reason, stopped_on)"
                    " VALUES (?,?,?,?,?,1,?,?,?,?,?,?,?,?,?,?)",
        "case_event": "INSERT INTO case_event (case_id, at, actor_id, actor_role, kind, from_state, to_state, reason, data,"
                      " deadline_id, rung) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        "access_log": "INSERT INTO access_log (at, user_id, role, action, case_id, basis, detail) VALUES (?,?,?,?,?,?,?)",
    }

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.rows = {name: [] for name in self.SQL}
        self.counts = dict.fromkeys(self.SQL, 0)

    def flush(self) -> None:
        for name, rows in self.rows.items():
            if rows:
                self.conn.executemany(self.SQL[name], rows)
                self.counts[name] += len(rows)
                rows.clear()


# The transition that enters each state on the way (kept in a state clock's inputs).
ENTERED_BY = {"signaal": "opened", **{dest: trigger for trigger, dest in PATH}}


class _Clocks:
    """Clocks as the services compute them (bench.clockwork; memoised by kind, start and region) with
    the moments of their ladder's levels and the event each level leaves when a sweep passes it."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.memo: dict = {}

    def get(self, kind: str, start: date, region: str, planned: date | None = None):
        key = (kind, start, region, planned)
        found = self.memo.get(key)
        if found is None:
            ctx = self.ctx
            if kind in ("thuiszitterspact", "lrv"):  # the case's opening clocks
                computed = clockwork.case_clock(ctx, kind, start, region, {"anchor": "first_absent_on"})
            else:
                computed = clockwork.state_clock(ctx, kind, start, region,
                                                 {"planned_start_on": planned} if planned else None, ENTERED_BY[kind])
            found = (computed, _json(computed.inputs), self._moments(kind, computed.due_at, computed.started_on, region))
            self.memo[key] = found
        return found

    def step(self, start: date, region: str, set_by: int):
        from mas.dates import end_of_day

        key = ("step", start, region)
        due_at = self.memo.get(key)
        if due_at is None:
            due_at = self.memo[key] = end_of_day(self.ctx.calendar.add_school_days(start, 10, region))
        computed = clockwork.step_clock(self.ctx, start, due_at, set_by=set_by)
        mkey = ("step-moments", due_at, region)
        moments = self.memo.get(mkey)
        if moments is None:
            moments = self.memo[mkey] = self._moments(computed.kind, due_at, start, region)
        return computed, _json(computed.inputs), moments

    def _moments(self, kind, due_at, started_on, region):
        """Per level: (level, moment, as stored, the event's kind, its data (None: a milestone's, as JSON))."""
        levels, is_milestone = clockwork.levels(self.ctx, kind)
        if due_at is None:
            return ()
        out = []
        base = {"deadline_kind": kind, "generation": 1, "due_at": due_at.isoformat()}
        for level, moment in zip(levels, clockwork.moments(self.ctx, kind, due_at, started_on, region)):
            if is_milestone:  # reached and recorded on the case; never sent
                out.append((level, moment, _dt(moment), "mijlpaal", _json(base)))
                continue
            out.append((level, moment, _dt(moment), "herinnering" if level.is_reminder else "escalatie",
                        {**base, "level": level.label}))
        return tuple(out)


class _Bulk:
    def __init__(self, ctx, meta: dict, writer: _Writer, rng: random.Random):
        self.ctx, self.meta, self.w, self.rng = ctx, meta, writer, rng
        self.clocks = _Clocks(ctx)
        self.ids = {k: v for k, v in meta["max_ids"].items()}
        self.counters = {int(k): v for k, v in meta["counters"].items()}
        self.partners = [p[0] for p in meta["partners"]]
        self.partner_emails = meta["partner_emails"]
        self.journals: dict = {}
        self.current = None  # (team, casusregisseur id or None) of the case being written
        self.bsn = 200_000_000 // 10

    def _next(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def _reference(self, opened: datetime) -> str:
        from mas.dates import local_date

        year = local_date(opened).year
        self.counters[year] = self.counters.get(year, 0) + 1
        return f"MAS-{year}-{self.counters[year]:06d}"

    def _deadline(self, case_id, kind, computed, inputs_json, moments, until, status, closed_at, closed_reason,
                  step_id=None, org_id=None, stopped_on=None) -> None:
        rung = 0
        while rung < len(moments) and moments[rung][1] <= until:
            rung += 1
        deadline_id = self._next("deadline")
        next_at = moments[rung][2] if rung < len(moments) else None
        # As the scheduler leaves it: the name of the highest level reached (None: none), the next one's moment.
        reached = moments[rung - 1][0].name if rung else None
        self.w.rows["deadline"].append((deadline_id, case_id, step_id, org_id, kind, computed.started_on.isoformat(),
                                        _dt(computed.due_at), computed.rule, inputs_json, reached, next_at, status,
                                        _dt(closed_at), closed_reason, stopped_on and stopped_on.isoformat()))
        for level, _moment, at, kind_, data in moments[:rung]:
            # What the sweep of the minute each level fell due journalled: the level, whom it mailed.
            if not isinstance(data, str):
                data = _json({**data, **self._journal(level, org_id)})
            self.w.rows["case_event"].append((case_id, at, None, "system", kind_, None, None, None, data, deadline_id,
                                              level.name))

    def _journal(self, level, org_id) -> dict:
        """Whom a level reached for the current case (active people only; everyone here is), as the
        sweep journals it: each address once; a level that reaches nobody goes to the [fallback]
        chain (every team here has a coordinator)."""
        team, regisseur = self.current
        key = (level, team["id"], regisseur, org_id)
        found = self.journals.get(key)
        if found is not None:
            return found
        contact, escalation = self.partner_emails[str(org_id)] if org_id is not None else (None, None)
        addresses = {"casusregisseur": team["emails"][str(regisseur)] if regisseur else None,
                     "coordinator": team["emails"][str(team["coordinator"])], "bestuurlijk": team["bestuurlijk"],
                     "organisation_contact": contact, "organisation_escalation": escalation}
        to, missing = [], []
        for role in map(str, level.recipients):
            if addresses[role] is None:
                missing.append(role)
            elif addresses[role] not in {r["to"] for r in to}:
                to.append({"role": role, "to": addresses[role], "fallback": False})
        if not to:
            step = str(self.ctx.ladders.fallback[0])
            if step != "coordinator":
                raise SystemExit("the web bench's builder resolves only a [fallback] chain that starts with the coordinator")
            to = [{"role": step, "to": addresses["coordinator"], "fallback": True}]
        found = self.journals[key] = {"sent": True, "recipients": to, "missing": missing, "unreachable": False}
        return found

    def case(self, team: dict, regisseur: int | None, closed: bool) -> None:
        """One case with its youth, signals, clocks, steps, events and access-log rows."""
        from mas.dates import local_date, nl_date

        rng, w = self.rng, self.w
        if closed:
            depth = 5 if rng.random() < 0.6 else rng.randrange(0, 5)  # nazorg_afgerond, or 'sluiten' from a state
            n_moves = depth if depth == 5 else depth + 1
        else:
            depth = STATE_DEPTH[_weighted(rng, OPEN_STATE_WEIGHTS)]
            n_moves = depth
        gaps = [timedelta(days=rng.uniform(2, 30), hours=rng.randrange(9)) for _ in range(n_moves)]
        end = (NOW - timedelta(days=rng.uniform(1, HISTORY_DAYS))) if closed else (NOW - timedelta(days=rng.uniform(0.2, 25)))
        opened = end - sum(gaps, timedelta())
        times = [opened]
        for gap in gaps:
            times.append(times[-1] + gap)
        until = times[-1] if closed else NOW
        today0 = local_date(opened)
        first_absent = today0 - timedelta(days=rng.randrange(3, 40))
        actor = regisseur or team["coordinator"]
        self.current = (team, regisseur)
        school = rng.choice(team["schools"]) if rng.random() < 0.9 else None
        region = team["region"]
        # the youth: its key, and the team's record of it (with the guardians it named) for this case
        youth_id = self._next("youth")
        record_id = self._next("youth_record")
        self.bsn += 1 + rng.randrange(5)
        bsn = _bsn(self.bsn)
        self.bsn = int(bsn[:8])
        family = rng.choice(FAMILY)
        kind, level = rng.choice(EDUCATION)
        given = rng.choice(GIVEN)
        birth_on = date(2008, 1, 1) + timedelta(days=rng.randrange(11 * 365))
        w.rows["youth"].append((youth_id, bsn, _dt(opened)))
        w.rows["youth_record"].append((record_id, youth_id, team["id"], given, family, birth_on.isoformat(), bsn,
                                       team["municipality"], school, kind, level, _dt(opened)))
        for rel in (("moeder", "vader") if rng.random() < 0.5 else (rng.choice(RELATIONS),)):
            w.rows["guardian"].append((record_id, f"{rng.choice(GIVEN)} {family}", rel, f"06{rng.randrange(10**8):08d}",
                                       None if rng.random() < 0.5 else f"ouder{rng.randrange(10**6)}@example.org", 1))
        # the case
        case_id = self._next("case")
        reference = self._reference(opened)
        signal_kind, source = _weighted(rng, SIGNAL_KINDS), _weighted(rng, SIGNAL_SOURCES)
        w.rows["signal"].append((case_id, youth_id, team["id"], signal_kind, source, "M. Jansen", "zorgcoördinator", "030-1234567",
                                 "zorg@school.example.org", first_absent.isoformat(), today0.isoformat(),
                                 float(rng.randrange(8, 120)), "Sinds enkele weken niet of nauwelijks op school.", _dt(opened)))
        events = w.rows["case_event"]
        events.append((case_id, _dt(opened), actor, "casusregisseur", "zaak_geopend", None, "signaal", None,
                       _json({"reference": reference, "signal_kind": signal_kind, "source": source,
                              "first_absent_on": first_absent.isoformat(), "previous_case_id": None, "region": region}),
                       None, None))
        if rng.random() < 0.25:  # a second signal joined the case
            at = opened + (until - opened) * rng.random()
            kind2, source2 = _weighted(rng, SIGNAL_KINDS), _weighted(rng, SIGNAL_SOURCES)
            w.rows["signal"].append((case_id, youth_id, team["id"], kind2, source2, "Wijkcoach", "jeugdprofessional", None, None,
                                     None, None, None, "Nieuwe melding.", _dt(at)))
            events.append((case_id, _dt(at), actor, "casusregisseur", "signaal_toegevoegd", None, None, None,
                           _json({"kind": kind2, "source": source2}), None, None))
        # the clocks: the state's clock, Thuiszitterspact and LRV from the start
        running = {}  # kind -> (computed, inputs, moments, started moment)
        for kind, start in (("signaal", today0), ("thuiszitterspact", first_absent), ("lrv", first_absent)):
            running[kind] = self.clocks.get(kind, start, region)
        columns = {"route": None, "gesprek_report": None, "maatwerkplan": None, "offer_started_on": None,
                   "closing_reason": None, "closed_at": None}
        state = "signaal"
        step_rows = []
        for move in range(n_moves):
            at = times[move + 1]
            day = local_date(at)
            if closed and move == n_moves - 1:
                trigger, dest = ("nazorg_afgerond", "afgesloten") if depth == 5 else ("sluiten", "afgesloten")
            else:
                trigger, dest = PATH[move]
            data: dict = {}
            reason = None
            clock_log: dict = {}
            if trigger == "naar_zorgtafel":
                data = {"gesprek_report": "Gesprek met jongere en ouders gevoerd.", "route": rng.choice(ROUTES)}
                columns.update(route=data["route"], gesprek_report=data["gesprek_report"])
            elif trigger == "maatwerkplan_vastgesteld":
                data = {"offer": "Deeltijdrooster met begeleiding", "responsible_organisation_id": rng.choice(self.partners),
                        "planned_start_on": (day + timedelta(days=14)).isoformat()}
                columns["maatwerkplan"] = _json(data)
            elif trigger == "aanbod_gestart":
                data = {"offer_started_on": day.isoformat()}
                columns["offer_started_on"] = day.isoformat()
            elif trigger in ("nazorg_afgerond", "sluiten"):
                data = {"closing_reason": rng.choice(CLOSING)}
                reason = "Zaak afgerond." if trigger == "sluiten" else None
                columns.update(closing_reason=data["closing_reason"], closed_at=_dt(at))
            transition = self.ctx.workflow.transition(trigger)
            if dest == "afgesloten":
                n_closed = 0
                for kind, (computed, inputs, moments) in running.items():
                    self._deadline(case_id, kind, computed, inputs, moments, at, "closed", at,
                                   f"zaak afgesloten ({transition.label})")
                    n_closed += 1
                running.clear()
                open_steps = sum(1 for s in step_rows if s[1] == "open")
                clock_log.update(closed=n_closed + open_steps, steps_cancelled=open_steps)
                for s in step_rows:  # close_all closes the open step clocks as well
                    if s[1] == "open":
                        s[1], s[2] = "closed", at
            else:
                computed, inputs, moments = running.pop(state)
                self._deadline(case_id, state, computed, inputs, moments, at, "met", at,
                               f"fase verlaten ({transition.label})")
                planned = date.fromisoformat(data["planned_start_on"]) if dest == "aanbod" else None
                running[dest] = self.clocks.get(dest, day, region, planned)
                clock_log["started"] = [{"kind": dest, "due_at": running[dest][0].due_at.isoformat()}]
                stopped = []
                for effect in transition.clocks:  # the offer started: the clocks of being at home stop
                    if effect.action == "stop" and effect.clock in running:
                        computed, inputs, moments = running.pop(effect.clock)
                        self._deadline(case_id, effect.clock, computed, inputs, moments, at, "stopped", at,
                                       f"{transition.label} op {nl_date(day)}", stopped_on=day)
                        stopped.append(effect.clock)
                if stopped:
                    clock_log["stopped"] = stopped
            events.append((case_id, _dt(at), actor, "casusregisseur", "overgang", state, dest, reason,
                           _json({"trigger": trigger, **data, "clocks": clock_log}), None, None))
            state = dest
            if dest == "zorgtafel":  # steps are assigned at the zorgtafel
                for _ in range(rng.choice((0, 0, 1, 1, 2))):
                    step_id = self._next("step")
                    org = rng.choice(self.partners)
                    made = at + min(timedelta(hours=30), (until - at) / 2) * rng.random()
                    computed, inputs, moments = self.clocks.step(local_date(made), region, actor)
                    done_at = made + timedelta(days=rng.uniform(1, 15))
                    done = done_at < until and rng.random() < 0.7
                    step_rows.append([step_id, "done" if done else "open", done_at if done else None, org, made,
                                      computed, inputs, moments])
                    events.append((case_id, _dt(made), actor, "casusregisseur", "stap_toegewezen", None, None, None,
                                   _json({"step_id": step_id, "organisation_id": org, "title": rng.choice(STEP_TITLES),
                                          "due_at": computed.due_at.isoformat()}), None, None))
                    if done:
                        events.append((case_id, _dt(done_at), None, "partner", "stap_afgerond", None, None, None,
                                       _json({"step_id": step_id, "note": "Afgerond."}), None, None))
        for step_id, status, when, org, made, computed, inputs, moments in step_rows:
            # 'closed': still open when its case closed, so the services cancelled it (mas.services.cases._move_clocks)
            w.rows["step"].append((step_id, case_id, org, rng.choice(STEP_TITLES), None, _dt(computed.due_at),
                                   {"done": "done", "closed": "cancelled", "open": "open"}[status],
                                   1 if status == "open" else 2, actor, _dt(made),
                                   _dt(when) if status == "done" else None, None, "Afgerond." if status == "done" else None))
            self._deadline(case_id, "step", computed, inputs, moments, when or until,
                           {"done": "met", "closed": "closed", "open": "open"}[status],
                           when if status != "open" else None,
                           {"done": "stap afgerond", "closed": "zaak afgesloten", "open": None}[status], step_id, org)
        for kind, (computed, inputs, moments) in running.items():
            self._deadline(case_id, kind, computed, inputs, moments, NOW, "open", None, None)
        if rng.random() < 0.15:
            at = opened + (until - opened) * rng.random()
            events.append((case_id, _dt(at), actor, "casusregisseur", "notitie", None, None, None,
                           _json({"text": rng.choice(NOTES)}), None, None))
        w.rows["case"].append((case_id, reference, team["id"], regisseur, youth_id, record_id, state, 1 + n_moves, region,
                               first_absent.isoformat(), columns["route"], columns["gesprek_report"], columns["maatwerkplan"],
                               columns["offer_started_on"], columns["closing_reason"], _dt(opened), columns["closed_at"],
                               _dt(times[-1])))
        for _ in range(rng.randrange(1, 4)):  # its reads
            at = opened + (until - opened) * rng.random()
            w.rows["access_log"].append((_dt(at), actor, "casusregisseur", "read_case", case_id, "own_case", None))


def build_size(size: int, seed_path: Path, seed_meta: dict, path: Path) -> dict:
    """A copy of the seed with bulk cases up to `size` cases in all."""
    started = time.perf_counter()
    tmp = path.with_suffix(f".building-{os.getpid()}")
    _remove(tmp)
    try:
        return _build_size(size, seed_path, seed_meta, path, tmp, started)
    except BaseException:
        _remove(tmp)  # never leave a half-built file behind
        raise


def _build_size(size: int, seed_path: Path, seed_meta: dict, path: Path, tmp: Path, started: float) -> dict:
    from mas.context import make_context

    shutil.copyfile(seed_path, tmp)
    ctx = make_context(_settings(f"sqlite:///{tmp}"))
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")  # a throwaway file until it is renamed
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")
    conn.execute("BEGIN")
    writer = _Writer(conn)
    bulk = _Bulk(ctx, seed_meta, writer, random.Random(SEED + size))
    teams = seed_meta["teams"]
    mine_closed = round(size * OWN_HISTORY_SHARE)
    others = size - OPEN_CASES - mine_closed
    if others < 0:
        raise SystemExit(f"size {size} is too small: at least {OPEN_CASES + mine_closed} cases")
    plan = [(teams[0], seed_meta["bench_user"], True)] * mine_closed
    rng = random.Random(SEED - size)
    for _ in range(others):
        team = rng.choice(teams)
        regisseurs = team["regisseurs"] if team is not teams[0] else team["regisseurs"][1:]  # hers are counted apart
        plan.append((team, None if rng.random() < 0.03 else rng.choice(regisseurs), rng.random() < CLOSED_SHARE))
    rng.shuffle(plan)
    for n, (team, regisseur, closed) in enumerate(plan, 1):
        bulk.case(team, regisseur, closed)
        if n % 5_000 == 0:
            writer.flush()
    writer.flush()
    conn.executemany("INSERT OR REPLACE INTO reference_counter (year, last) VALUES (?, ?)", sorted(bulk.counters.items()))
    conn.execute("COMMIT")
    counts = {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
              for name in ("case", "youth", "youth_record", "guardian", "case_event", "deadline", "step", "signal",
                           "access_log")}
    mine_open = conn.execute("SELECT count(*) FROM \"case\" WHERE casusregisseur_id = ? AND state != 'afgesloten'",
                             (seed_meta["bench_user"],)).fetchone()[0]
    problems = check_built_rows(conn, clockwork.level_names(ctx))
    conn.execute("PRAGMA journal_mode=WAL")  # as a mas database is (persistent in the file)
    conn.close()
    checkpoint(tmp)
    if counts["case"] != size or mine_open != OPEN_CASES or problems:
        raise SystemExit(f"build of {size} went wrong: {counts}, {mine_open} open cases of the bench casusregisseur"
                         + "".join(f"; {problem}" for problem in problems))
    schema = schema_version(tmp)
    os.replace(tmp, path)
    return {"size": size, "rows": counts, "build_s": round(time.perf_counter() - started, 1), "bytes": path.stat().st_size,
            "schema": schema}


def _usable(path: Path, meta_path: Path) -> bool:
    """A cached file is used only if it and its meta exist and it is on the schema the migrations reach now."""
    return path.exists() and meta_path.exists() and schema_version(path) == migration_head()


def _drop_stale(pattern: str, keep: Path) -> None:
    """Files built for an older schema, config, service code or builder (another key, same pattern)."""
    for stale in OUT.glob(pattern):
        if stale.suffix in (".sqlite3", ".json") and stale.stem != keep.stem:
            stale.unlink(missing_ok=True)


def ensure_built(sizes, rebuild: bool) -> tuple[dict, dict]:
    OUT.mkdir(parents=True, exist_ok=True)
    head = migration_head()
    seed_path = OUT / f"web-seed-{head}-{seed_key()}.sqlite3"
    seed_meta_path = seed_path.with_suffix(".json")
    if rebuild or not _usable(seed_path, seed_meta_path):
        print("seed: building through the services …", flush=True)
        started = time.perf_counter()
        tmp = seed_path.with_suffix(f".building-{os.getpid()}")  # per process: two runs may build at once
        try:
            meta = build_seed(tmp)
            os.replace(tmp, seed_path)
        except BaseException:
            remove_sqlite(tmp)  # never leave a half-built file behind
            raise
        seed_meta_path.write_text(json.dumps(meta))
        _drop_stale("web-seed-*", seed_path)
        print(f"seed: built in {time.perf_counter() - started:.1f} s", flush=True)
        rebuild = True  # every size is a copy of the seed
    seed_meta = json.loads(seed_meta_path.read_text())
    built = {}
    for size in sizes:
        path = OUT / f"web-{size}-{head}-{size_key(size)}.sqlite3"
        meta_path = path.with_suffix(".json")
        if rebuild or not _usable(path, meta_path):
            print(f"{size:>9,} cases: building {_shown(path)} …", flush=True)
            meta = build_size(size, seed_path, seed_meta, path)
            meta_path.write_text(json.dumps(meta))
            _drop_stale(f"web-{size}-*", path)
            rows = ", ".join(f"{k} {v:,}" for k, v in meta["rows"].items())
            print(f"{size:>9,} cases: built in {meta['build_s']} s (not measured), {meta['bytes'] / 1e6:,.0f} MB: {rows}",
                  flush=True)
        else:
            meta = json.loads(meta_path.read_text())
            print(f"{size:>9,} cases: cached {_shown(path)} (built in {meta['build_s']} s)", flush=True)
        built[size] = path
    return built, seed_meta


# --- measuring ----------------------------------------------------------------------------------------


class Clock:
    """The app's clock: NOW, advanced 1 ms per request by the bench (outside the timer)."""

    def __init__(self, start: datetime):
        self.value = start

    def __call__(self) -> datetime:
        return self.value

    def tick(self) -> None:
        self.value += timedelta(milliseconds=1)


_SKIP = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


class StatementCounter:
    """Statements a request sends (BEGIN/COMMIT/ROLLBACK/SAVEPOINT/RELEASE aside) and their time in the driver."""

    def __init__(self, engine):
        self.count = 0
        self.sql_s = 0.0
        self.statements: list[tuple[str, object]] | None = None  # kept while recording
        self._started = 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def reset(self, record: bool = False) -> None:
        self.count, self.sql_s = 0, 0.0
        self.statements = [] if record else None

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip()[:9].upper().startswith(_SKIP):
            self._started = 0.0
            return
        self.count += 1
        if self.statements is not None:
            self.statements.append((statement, parameters))
        self._started = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self._started:
            self.sql_s += time.perf_counter() - self._started
            self._started = 0.0


class BenchFailure(Exception):
    pass


_CSRF = re.compile(rb'name="csrf_token" value="([^"]+)"')
_REFERENCE = re.compile(rb"MAS-\d{4}-\d{6}")


@dataclass
class Samples:
    ms: list = field(default_factory=list)
    cpu_ms: list = field(default_factory=list)  # this thread's CPU time: what the request cost, waits for a core aside
    sql_ms: list = field(default_factory=list)
    queries: list = field(default_factory=list)
    statements: list | None = None  # one request's statements, kept for comparison


class Site:
    """One database size: a fresh copy of its file, the app on it, a logged-in client, the three requests."""

    def __init__(self, size: int, url: str, seed: dict):
        from mas.db import Database
        from mas.web import create_app

        self.size, self.url = size, url
        self.clock = Clock(NOW)
        self.app = create_app(_settings(url), clock=self.clock, require_totp=False)
        self.db = self.app.extensions["mas"]["db"]
        self.counter = StatementCounter(self.db.engine)
        self.client = self.app.test_client()
        self.seed = seed
        self.reads = Database(url)  # the bench's own reads, outside the timer, on an engine of their own
        self.org = seed["partners"][0][0]
        self.turn = 0
        self.expected: dict[str, tuple[str, int]] = {}
        with self.reads.read() as conn:
            self.mine = {ref.encode() for ref in conn.execute(select(_C.c.reference).where(
                _C.c.casusregisseur_id == seed["bench_user"], _C.c.state != "afgesloten")).scalars()}
        if len(self.mine) != OPEN_CASES:
            raise BenchFailure(f"{size}: the bench casusregisseur has {len(self.mine)} open cases")
        self._login()
        self._check_bulk_case()

    def close(self) -> None:
        self.reads.dispose()
        self.db.dispose()

    def _login(self) -> None:
        page = self.client.get("/login")
        token = _CSRF.search(page.data).group(1).decode()
        response = self.client.post("/login", data={"email": BENCH_EMAIL, "password": PASSWORD, "csrf_token": token})
        if response.status_code != 302:
            raise BenchFailure(f"login failed at {self.size}: {response.status_code}")
        page = self.client.get(f"/cases/{self.seed['case_page']}")
        if page.status_code != 200:
            raise BenchFailure(f"case page after login: {page.status_code}")
        self.csrf = _CSRF.search(page.data).group(1).decode()

    def _check_bulk_case(self) -> None:
        """Before measuring: a case the bulk builder wrote (her latest closed one) opens as the services'
        would, showing its team's record of the youth, its guardians and its signal (so the bulk rows
        are rows the pages read, not only rows that fit the schema)."""
        r, g = TABLES.tables["youth_record"], TABLES.tables["guardian"]
        with self.reads.read() as conn:
            found = conn.execute(
                select(_C.c.reference, r.c.given_name, r.c.family_name, r.c.id).join(r, r.c.id == _C.c.record_id)
                .where(_C.c.casusregisseur_id == self.seed["bench_user"], _C.c.id > self.seed["max_ids"]["case"])
                .order_by(_C.c.id.desc()).limit(1)).one_or_none()
            guardian = None if found is None else conn.execute(
                select(g.c.name).where(g.c.record_id == found.id).order_by(g.c.id).limit(1)).scalar_one_or_none()
        if found is None or guardian is None:
            raise BenchFailure(f"{self.size}: no bulk case of the bench casusregisseur with a record and a guardian")
        page = self.client.get(f"/cases/{found.reference}")
        shown = [html.escape(text).encode() for text in (found.given_name, found.family_name, guardian)]
        if page.status_code != 200 or not all(text in page.data for text in shown):
            raise BenchFailure(f"{self.size}: bulk case {found.reference} does not show its record "
                               f"({page.status_code})")

    # The three requests. Each returns a callable that does only the request (timed) and a check
    # run after it (not timed).

    def werkvoorraad(self):
        def check(response):  # 200, and a full first page of her own open cases
            shown = set(_REFERENCE.findall(response.data)) & self.mine if response.status_code == 200 else ()
            if len(shown) != min(PAGE_SIZE, OPEN_CASES):
                raise BenchFailure(f"werkvoorraad at {self.size}: {response.status_code}, {len(shown)} of her cases")
        return (lambda: self.client.get("/cases")), check

    def case(self):
        reference = self.seed["case_page"]

        def check(response):
            if response.status_code != 200 or reference.encode() not in response.data:
                raise BenchFailure(f"case page at {self.size}: {response.status_code}")
        return (lambda: self.client.get(f"/cases/{reference}")), check

    def transition(self):
        references = self.seed["transition_cases"]
        reference = references[self.turn % len(references)]
        self.turn += 1
        with self.reads.read() as conn:
            case_id, state, version = conn.execute(select(_C.c.id, _C.c.state, _C.c.version).where(
                _C.c.reference == reference)).one()
            seen = conn.execute(select(func.max(_E.c.id)).where(_E.c.case_id == case_id)).scalar_one()
        if reference in self.expected and self.expected[reference] != (state, version):
            raise BenchFailure(f"transition at {self.size}: {reference} is {state} v{version}, "
                               f"expected {self.expected[reference]}")
        trigger = {"aanbod": "aanbod_mislukt", "zorgtafel": "maatwerkplan_vastgesteld"}[state]
        data, reason = _guard(trigger, NOW.date(), self.org)
        form = {"csrf_token": self.csrf, "version": str(version), "seen_event_id": str(seen), **data}
        if reason:
            form["reason"] = reason
        url = f"/cases/{reference}/transition/{trigger}"

        def check(response):
            if response.status_code != 302 or not response.headers.get("Location", "").endswith(f"/cases/{reference}"):
                raise BenchFailure(f"transition {trigger} at {self.size}: {response.status_code}")
            self.expected[reference] = ({"aanbod": "zorgtafel", "zorgtafel": "aanbod"}[state], version + 1)
            with self.client.session_transaction() as session:  # the flash the redirect's page would show
                session.pop("_flashes", None)
        return (lambda: self.client.post(url, data=form)), check

    def run(self, page: str, n: int, samples: Samples | None, record: bool = False) -> None:
        make = getattr(self, page)
        for _ in range(n):
            call, check = make()
            self.clock.tick()
            self.counter.reset(record=record and samples is not None and samples.statements is None)
            c0, t0 = time.thread_time(), time.perf_counter()
            response = call()
            elapsed, cpu = time.perf_counter() - t0, time.thread_time() - c0
            check(response)
            if samples is not None:
                samples.ms.append(elapsed * 1000)
                samples.cpu_ms.append(cpu * 1000)
                samples.sql_ms.append(self.counter.sql_s * 1000)
                samples.queries.append(self.counter.count)
                if self.counter.statements is not None and samples.statements is None:
                    samples.statements = self.counter.statements


def percentile(values, q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def measure(sites: dict[int, Site], requests: int, rounds: int, warmup: int) -> dict:
    samples = {(size, page): Samples() for size in sites for page in PAGES}
    for _size, site in sites.items():
        for page in PAGES:
            site.run(page, warmup, None)
    # Paired: within a round each page's requests alternate between the sizes request by request, so a
    # burst of load from elsewhere on the machine falls on both sizes alike.
    per_round = [requests // rounds + (1 if r < requests % rounds else 0) for r in range(rounds)]
    for r, n in enumerate(per_round):
        gc.collect()
        for page in rotated(list(PAGES), r):
            for i in range(n):
                for size in rotated(list(sites), r + i):
                    sites[size].run(page, 1, samples[size, page], record=True)
    return samples


def _diff_statements(a: list, b: list) -> str:
    import difflib

    norm = lambda rows: [re.sub(r"\s+", " ", s).strip()[:160] for s, _ in rows]  # noqa: E731
    return "\n".join(difflib.unified_diff(norm(a), norm(b), "large", "small", lineterm="", n=1))


def profile(site: Site, n: int) -> None:
    """cProfile of n requests per page, then each statement of one request with its plan and time."""
    for page in PAGES:
        profiler = cProfile.Profile()
        profiler.enable()
        site.run(page, n, None)
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative")
        stats.print_stats(30)
        print(f"\n=== profile: {page} at {site.size:,} cases, {n} requests (cumulative) ===")
        print("\n".join(out.getvalue().splitlines()[:60]))
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(20)
        print(f"--- {page}: by own time ---")
        print("\n".join(out.getvalue().splitlines()[:45]))
        probe = Samples()
        site.run(page, 1, probe, record=True)
        print(f"--- {page}: {len(probe.statements)} statements, {probe.sql_ms[0]:.2f} ms in the driver "
              f"of {probe.ms[0]:.2f} ms ---")
        for statement, params in probe.statements:
            flat = re.sub(r"\s+", " ", statement).strip()
            print(f"  {flat[:220]}")
            if not flat.upper().startswith("SELECT"):
                continue
            try:
                plan = explain(site.url, statement, params)
            except Exception as exc:  # noqa: BLE001 - a plan is extra information, never fatal
                print(f"      (no plan: {exc})")
                continue
            for line in plan:
                print(f"      {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI: smaller sizes and fewer requests")
    parser.add_argument("--requests", type=int, help="measured requests per page and size")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--rebuild", action="store_true", help="build the database files again")
    parser.add_argument("--profile", action="store_true", help="then profile each page at the large size")
    add_database_option(parser)
    args = parser.parse_args(argv)

    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    requests = args.requests or (QUICK_REQUESTS if args.quick else FULL_REQUESTS)
    rounds = args.rounds or (QUICK_ROUNDS if args.quick else FULL_ROUNDS)
    warmup = QUICK_WARMUP if args.quick else FULL_WARMUP
    large, small = sizes
    built, seed = ensure_built(sizes, args.rebuild)

    sites: dict[int, Site] = {}
    with Scratch(args.db, "web", OUT) as scratch:
        print(scratch.describe(), flush=True)
        try:
            for size in sizes:
                if args.db == "sqlite":
                    url = scratch.copy(f"sqlite:///{built[size]}", f"web_{size}")
                else:
                    started = time.perf_counter()
                    url = scratch.new(f"web_{size}")
                    load_sqlite_into_postgresql(built[size], url)
                    print(f"{size:>9,} cases: loaded into PostgreSQL in {time.perf_counter() - started:.1f} s "
                          "(not measured)", flush=True)
                sites[size] = Site(size, url, seed)
            print(f"\nMeasuring: {requests} requests per page and size in {rounds} rounds, the sizes alternating "
                  f"request by request, after {warmup} untimed; server time through the WSGI app (Flask test client, "
                  f"in process), {args.db}, CSRF on.", flush=True)
            started = time.perf_counter()
            samples = measure(sites, requests, rounds, warmup)
            elapsed = time.perf_counter() - started
            if args.profile:
                profile(sites[large], max(20, requests // 3))
        except BenchFailure as failure:
            print(f"FAILED: {failure}", file=sys.stderr)
            return 2
        finally:
            for site in sites.values():
                site.close()

    rows, pages = [], {}
    for page in PAGES:
        figures = {}
        for size in sizes:
            s = samples[size, page]
            figures[size] = {"p50": percentile(s.ms, 0.5), "p95": percentile(s.ms, 0.95), "sql50": percentile(s.sql_ms, 0.5),
                             "cpu50": percentile(s.cpu_ms, 0.5), "cpu95": percentile(s.cpu_ms, 0.95),
                             "qmin": min(s.queries), "qmax": max(s.queries), "n": len(s.ms)}
            f = figures[size]
            rows.append((page, f"{size:,}", f["n"], f"{f['p50']:.2f}", f"{f['p95']:.2f}", f"{f['cpu50']:.2f}",
                         f"{f['cpu95']:.2f}", f"{f['sql50']:.2f}",
                         f"{f['qmax']}" if f["qmin"] == f["qmax"] else f"{f['qmin']}-{f['qmax']}"))
        pages[page] = {"p50_ms": round(figures[large]["p50"], 2), "p95_ms": round(figures[large]["p95"], 2),
                       "p95_ms_at_1k": round(figures[small]["p95"], 2), "queries": figures[large]["qmax"],
                       "queries_at_1k": figures[small]["qmax"]}
    print()
    print(table(("page", "cases", "requests", "p50 ms", "p95 ms", "CPU p50", "CPU p95", "SQL p50", "queries"), rows,
                left=(0,)))
    print(f"({elapsed:.1f} s of measuring. p50/p95: wall-clock server time (the JSON's figures); CPU: this thread's CPU\n"
          f" time per request, which waits for a core on a loaded machine do not inflate; SQL: wall time inside\n"
          f" cursor.execute, BEGIN/COMMIT aside; the rest is Flask, Jinja and Python.)")

    ratios = {page: pages[page]["p95_ms"] / pages[page]["p95_ms_at_1k"] for page in PAGES}
    worst_ratio = max(ratios.values())
    worst_p95 = max(max(p["p95_ms"], p["p95_ms_at_1k"]) for p in pages.values())
    max_queries = max(max(p["queries"], p["queries_at_1k"]) for p in pages.values())
    same_queries = all(p["queries"] == p["queries_at_1k"] for p in pages.values())
    print()
    print(f"p95 at {large:,} / p95 at {small:,}: " + ", ".join(f"{page} {r:.2f}" for page, r in ratios.items()))
    for page in PAGES:
        a, b = samples[large, page], samples[small, page]
        if pages[page]["queries"] != pages[page]["queries_at_1k"]:
            print(f"{page}: the statements differ between the sizes:\n{_diff_statements(a.statements, b.statements)}")
    print(f"Targets on {args.db}{' (judged on the full run)' if args.quick else ''}:")
    print(f"  p95 at {large:,} within {TARGET_RATIO}x of {small:,}: {'met' if worst_ratio <= TARGET_RATIO else 'NOT met'}"
          f" (worst {worst_ratio:.2f})")
    print(f"  same number of queries at both sizes: {'met' if same_queries else 'NOT met'}"
          f" (at most {max_queries} per request)")
    print(f"  p95 under {TARGET_P95_MS:.0f} ms: {'met' if worst_p95 < TARGET_P95_MS else 'NOT met'} (worst {worst_p95:.2f} ms)")
    print(json_line({
        "bench": "web", "quick": bool(args.quick), "database": args.db, "pages": pages,
        "worst_p95_ratio_100k_to_1k": round(worst_ratio, 3), "worst_p95_ms": round(worst_p95, 2),
        "max_queries_per_request": max_queries,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
