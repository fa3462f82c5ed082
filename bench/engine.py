"""The case engine against floors recorded from it, and against SpiffWorkflow, on SQLite or PostgreSQL.

    python bench/engine.py                   # full run on SQLite: N = 2,000 cases, 5 interleaved rounds
    python bench/engine.py --db postgresql   # the same on PostgreSQL (server: MAS_BENCH_DATABASE_URL)
    python bench/engine.py --quick           # CI: N = 200 (PostgreSQL: 100), 3 rounds ("quick": true)
    python bench/engine.py --n 5000 --rounds 3
    python bench/engine.py --profile         # cProfile of the engine arm only, then exit

One lifecycle: open a case from a signal, then the five transitions of the happy path
(plan_gesprek, naar_zorgtafel, maatwerkplan_vastgesteld, aanbod_gestart, nazorg_afgerond).
Every step is its own transaction with its events and deadline rows.

The floors follow the engine; nothing in them is written by hand:

  record  Before any timing, the engine runs WARMUP + N lifecycles on a fresh copy of the
          template with listeners on its SQLAlchemy engine: `before_execute` keeps every Core
          statement object with its parameters (and any execution options) as
          `Connection.execute` received them, `before_cursor_execute` the SQL and parameters
          as the DBAPI cursor received them, and `begin` / `commit` the transaction
          boundaries. The statement that the engine's own `begin` listener sends (mas.db:
          BEGIN IMMEDIATE on SQLite; psycopg begins by itself on PostgreSQL) is kept apart and
          never replayed: each replay arm begins its transactions itself, the same way.
          This pass is untimed: the listeners would slow the engine down.

The arms of a round, each on its own fresh copy of one template (migrated by mas.db.upgrade and
seeded with one team, its casusregisseur, three organisations and this year's reference
counter; SQLite: a file copy, WAL and synchronous=NORMAL as mas.db sets them; PostgreSQL:
CREATE DATABASE … TEMPLATE), so that ids and references come out the same in every copy and
a recorded parameter (a case id, a version) is valid again:

  engine  mas.services.cases.receive_signal / fire, each inside mas.db.Database.begin(), as a
          view or the API calls them: rules, guards, clocks, the state machine and the SQL.
  core    the recording replayed through the same kind of Database: per recorded transaction
          one `Database.begin()` (a pooled checkout, BEGIN IMMEDIATE on SQLite, the pool's
          pre-ping on PostgreSQL, COMMIT) with the recorded statement objects and parameters
          through `Connection.execute`, every result that returns rows fetched. What is left
          of the engine's time above this floor is mas itself: rules, clocks, Python.
  raw     the driver-level recording replayed through plain sqlite3 / psycopg on one
          connection configured as mas.db configures its own (PRAGMAs; JSON dumps/loads):
          BEGIN IMMEDIATE (SQLite) or psycopg's own BEGIN (PostgreSQL), the recorded SQL with
          its recorded parameters (execute or executemany, as recorded), rows fetched, COMMIT.
  spiff   SpiffWorkflow running the equivalent five-user-task BPMN process (bench/spiff),
          storing its serialized workflow as JSON in the same kind of database, one row per
          process, read and written back in every step's transaction.

Why a recording and separate timed passes: the engine's time is taken without listeners (as
production runs it), and the floors replay exactly what that engine sends, lifecycle by
lifecycle, transaction by transaction. The engine is deterministic (a fixed clock, the same
BSNs, the same ids on every copy), which the checks below verify rather than assume.

Checks, all fatal (exit 2):
  * the statements per lifecycle: at most MAX_STATEMENTS in at most MAX_TRANSACTIONS
    transactions, counted as the database executes them: BEGIN and COMMIT included, an
    executemany of k rows as k executions (SQLite's own statement trace counted the same
    way), so that a floor can never hide an added statement; printed per transaction. The
    pool's pre-ping on PostgreSQL (";" at each checkout, paid by the engine and the Core floor
    alike) is not a statement of the lifecycle and is not counted;
  * the recording holds only Core statements besides the transactions' BEGIN (a statement
    sent beside `Connection.execute` could not be replayed by the Core floor);
  * after every round each arm holds N + WARMUP closed cases, and engine, core and raw wrote
    identical rows to every mas table (row counts and a hash of every row, read back through
    SQLAlchemy), the same as the recording pass.

Timing (the machine is shared and noisy): in every round each arm gets a fresh copy and runs
WARMUP untimed lifecycles; then the arms take turns, in chunks of CHUNK lifecycles and in
rotating order, until each has run N timed ones, so that a burst of load elsewhere falls on
all arms alike. The figures are medians of the per-round times, and the ratios are taken
between arms measured side by side in the same run.

Peak RSS of the engine arm at N and at 4N is measured each in a fresh child process
(`--child-rss`, on a copy of the parent's template, so migrations never count), as VmHWM on
Linux (see bench.common.peak_rss_mb for why not ru_maxrss).

Targets (printed; judged on the full run, never asserted in a test): engine ≤ 1.5× the Core
floor; SpiffWorkflow's time ÷ the engine's ≥ 1.0; peak RSS at 4N ≤ 1.1× at N; at most 50
statements in 6 transactions per lifecycle (checked on every run). The last line of output is
one JSON object: "database" says which database, "statements_per_lifecycle" the count above.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import itertools
import os
import platform
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Iterator

if __package__ in (None, ""):  # run as `python bench/engine.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy
from sqlalchemy import func, select, text

from bench.common import (
    Scratch,
    add_database_option,
    current_rss_mb,
    json_line,
    kind_of,
    median,
    peak_rss_mb,
    rotated,
    run_child,
    table,
)
from bench.replay import Recorder, Transaction, raw_psycopg, raw_sqlite, replay_core, replay_raw
from mas.db import Database, upgrade
from mas.models import TABLES, Case, Organisation, ReferenceCounter, Team, User
from mas.settings import load_settings

FULL_N = 2_000
# A lifecycle costs about four times as much on PostgreSQL (a round trip per statement, an fsync
# per commit), so its quick run is smaller, to stay under a minute like SQLite's.
QUICK_N = {"sqlite": 200, "postgresql": 100}
FULL_ROUNDS, QUICK_ROUNDS = 5, 3
WARMUP = 20  # untimed lifecycles per arm and round: compiled-statement caches, calendar windows, page cache
CHUNK = 100  # lifecycles per arm between switches of arm within a round
ARMS = ("raw", "core", "engine", "spiff")
MAS_ARMS = ("raw", "core", "engine")

# Targets of the issue (judged on the full run; never asserted in a test).
TARGET_SPEEDUP_VS_SPIFF = 1.0
TARGET_RATIO_TO_CORE = 1.5
TARGET_RSS_GROWTH = 1.10
# Checked on every run (exit 2 when exceeded): the statements of one lifecycle as the
# database receives them, BEGIN and COMMIT included.
MAX_STATEMENTS = 50
MAX_TRANSACTIONS = 6
# What the engine's `begin` listener sends (mas.db); each replay arm begins the same way.
EXPECTED_BEGIN = {"sqlite": ["BEGIN IMMEDIATE"], "postgresql": []}

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

# trigger, what the user submits (strings, as a form or the API sends them)
STEPS = (
    ("plan_gesprek", {}),
    ("naar_zorgtafel", {"gesprek_report": "Gesprek gevoerd.", "route": "vrijwillig"}),
    ("maatwerkplan_vastgesteld", {"offer": "Deeltijdrooster", "responsible_organisation_id": ORG_PLACEHOLDER,
                                  "planned_start_on": "2026-03-23"}),
    ("aanbod_gestart", {"offer_started_on": "2026-03-02"}),
    ("nazorg_afgerond", {"closing_reason": "terug_naar_school"}),
)
TRANSACTION_NAMES = ["open"] + [trigger for trigger, _form in STEPS]


def bsns(start: int = 20_000_000) -> Iterator[str]:
    """Distinct BSNs passing the elfproef, the same sequence for every run (test data only)."""
    for n in itertools.count(start):
        digits = f"{n:08d}"
        check = sum(int(d) * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2))) % 11
        if check < 10:
            yield digits + str(check)


# --- the seeded world and the template ------------------------------------------------------


@dataclass(frozen=True)
class World:
    team_id: int
    user_id: int  # the casusregisseur who does everything
    organisation_id: int  # the wijkteam responsible for the maatwerkplan

    def form(self, form: dict) -> dict:
        return {k: (self.organisation_id if v is ORG_PLACEHOLDER else v) for k, v in form.items()}

    def encode(self) -> str:
        return f"{self.team_id},{self.user_id},{self.organisation_id}"

    @classmethod
    def decode(cls, value: str) -> World:
        return cls(*(int(x) for x in value.split(",")))


def make_template(scratch: Scratch) -> tuple[str, World]:
    """A migrated database with one team, its casusregisseur, three organisations and this
    year's reference counter (so that every lifecycle, the first included, takes the same path)."""
    url = scratch.new("template")
    db = Database(url)
    try:
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
    finally:
        db.dispose()
    return url, World(team_id=team_id, user_id=user_id, organisation_id=orgs["wijkteam"])


def settings_for(url: str, instance_dir: Path):
    return load_settings(environ={}, env="test", instance_dir=instance_dir, database_url=url)


# --- the arms -----------------------------------------------------------------------------------


class Arm:
    """One arm on its own database: set up untimed in __init__, then `run(count)` times `count`
    lifecycles; calls continue where the last one stopped, so a round can interleave the arms
    in chunks."""

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

    def __init__(self, url: str, world: World, instance_dir: Path):
        from mas.context import make_context
        from mas.services import cases
        from mas.services.actors import Actor
        from mas.services.inputs import GuardianInput, SignalInput, YouthInput

        settings = settings_for(url, instance_dir)
        self.ctx = make_context(settings)
        self.db = Database(settings.database_url)
        self.cases, self.youth_input = cases, YouthInput
        self.world = world
        self.actor = Actor(id=world.user_id, role=ROLE, team_id=world.team_id)
        self.guardians = (GuardianInput(**GUARDIAN),)
        self.signal = SignalInput(**SIGNAL)
        self.steps = [(trigger, world.form(form)) for trigger, form in STEPS]
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


# --- the recording ------------------------------------------------------------------------------


def record(url: str, count: int, world: World, instance_dir: Path) -> list[list[Transaction]]:
    """`count` lifecycles of the engine with the recorder on (untimed)."""
    arm = EngineArm(url, world, instance_dir)
    recorder = Recorder(arm.db.engine)
    try:
        for _ in range(count):
            arm.lifecycles(1)
            recorder.cut()
    finally:
        arm.close()
    if recorder.problems:
        fail("the recording cannot be replayed:\n  " + "\n  ".join(dict.fromkeys(recorder.problems)))
    lifecycles = recorder.finish()
    if len(lifecycles) != count:
        fail(f"recorded {len(lifecycles)} lifecycles, expected {count}")
    return lifecycles


# --- arm: the Core floor, the recording through Connection.execute ---------------------------------


class CoreArm(Arm):
    """The recorded Core statements through the same kind of Database, transaction by transaction."""

    name = "core"

    def __init__(self, url: str, recording: list[list[Transaction]]):
        self.db = Database(url)
        self.next = iter(recording)

    def lifecycles(self, count: int) -> None:
        for lifecycle in itertools.islice(self.next, count):
            replay_core(self.db.begin, lifecycle)

    def close(self) -> None:
        self.db.dispose()


# --- arm: the raw floor, the driver-level recording through plain sqlite3 / psycopg ---------------


class RawArm(Arm):
    """The recorded SQL and parameters through the plain driver on one connection."""

    name = "raw"

    def __init__(self, url: str, recording: list[list[Transaction]]):
        self.kind = kind_of(url)
        self.conn = raw_sqlite(url) if self.kind == "sqlite" else raw_psycopg(url)
        self.next = iter(recording)

    def lifecycles(self, count: int) -> None:
        for lifecycle in itertools.islice(self.next, count):
            replay_raw(self.conn, lifecycle, sqlite_begin="BEGIN IMMEDIATE")

    def close(self) -> None:
        self.conn.close()


# --- arm: SpiffWorkflow -------------------------------------------------------------------------


class SpiffArm(Arm):
    """bench.spiff.SpiffCases, which times its own lifecycles (parsing the BPMN is setup)."""

    name = "spiff"

    def __init__(self, url: str):
        from bench.spiff import SpiffCases

        self.cases = SpiffCases(url)

    def run(self, count: int) -> float:
        return self.cases.run(count)

    def close(self) -> None:
        self.cases.close()


# --- checks ---------------------------------------------------------------------------------------

_TABLE_OF = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)


def statement_kind(sql: str) -> str:
    words = sql.split()
    verb = words[0].upper()
    found = _TABLE_OF.search(sql)
    kind = f"{verb} {found.group(1) if found else '?'}"
    upper = sql.upper()
    if verb != "SELECT" and "(SELECT" in upper:
        kind += " (+subselect)"
    if re.search(r"\bRETURNING\b", upper):
        kind += " RETURNING"
    return kind


def shape(lifecycle: list[Transaction]) -> list[list[str]]:
    """A lifecycle's statements per transaction as the database executes them: BEGIN (SQLite:
    the engine's BEGIN IMMEDIATE; PostgreSQL: the one psycopg sends by itself), what the cursor
    got (an executemany of k rows is k executions: SQLite runs the statement k times), COMMIT.
    The pool's pre-ping on PostgreSQL (";" at each checkout) is not a statement of the lifecycle."""
    out = []
    for tx in lifecycle:
        begin = [" ".join(s.split()).upper() for s in tx.begin] or ["BEGIN"]
        body = []
        for sql, parameters, many in tx.driver:
            kind = statement_kind(sql)
            body.extend([kind + " (executemany)"] * len(parameters) if many else [kind])
        out.append(begin + body + ["COMMIT"])
    return out


def check_statements(recording: list[list[Transaction]], kind: str) -> list[list[str]]:
    """Every lifecycle within the limits, BEGIN as each replay arm sends it; the last one's shape."""
    worst = (0, 0)
    for n, lifecycle in enumerate(recording):
        for tx in lifecycle:
            if [" ".join(s.split()) for s in tx.begin] != EXPECTED_BEGIN[kind]:
                fail(f"lifecycle {n + 1}: the engine began a transaction with {tx.begin!r}; the replay arms begin "
                     f"with {EXPECTED_BEGIN[kind]!r} (update bench/engine.py to what mas.db does)")
            if len(tx.core) != len(tx.driver):
                fail(f"lifecycle {n + 1}: {len(tx.core)} Core statements reached the cursor as {len(tx.driver)}")
        statements = sum(len(s) for s in shape(lifecycle))
        worst = max(worst, (statements, len(lifecycle)))
        if statements > MAX_STATEMENTS or len(lifecycle) > MAX_TRANSACTIONS:
            fail(f"lifecycle {n + 1} sends {statements} statements in {len(lifecycle)} transactions; at most "
                 f"{MAX_STATEMENTS} in {MAX_TRANSACTIONS} allowed:\n"
                 + "\n".join(f"  {name}: {', '.join(tx)}" for name, tx in zip(TRANSACTION_NAMES, shape(lifecycle))))
    shapes = {repr(shape(lc)) for lc in recording}
    if len(shapes) != 1:
        print(f"(the lifecycles do not all send the same statements: {len(shapes)} shapes; the largest, "
              f"{worst[0]} in {worst[1]} transactions, is within the limit)")
    return shape(recording[-1])


def fingerprint(url: str) -> dict[str, tuple[int, str]]:
    """Row count and a hash of every row (read back through SQLAlchemy, in primary-key order), per mas table."""
    db = Database(url)
    try:
        out = {}
        with db.read() as conn:
            for t in TABLES.sorted_tables:
                rows = conn.execute(select(t).order_by(*t.primary_key.columns)).all()
                out[t.name] = (len(rows), hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest())
        return out
    finally:
        db.dispose()


def closed_cases(url: str, arm: str) -> int:
    db = Database(url)
    try:
        with db.read() as conn:
            if arm == "spiff":
                return conn.execute(text("SELECT count(*) FROM spiff_case WHERE state = :s"), {"s": FINAL}).scalar_one()
            c = Case.__table__
            return conn.execute(select(func.count()).select_from(c).where(c.c.state == FINAL)).scalar_one()
    finally:
        db.dispose()


def fail(message: str) -> None:
    print(f"\nFAILED: {message}", file=sys.stderr)
    sys.stdout.flush()
    raise SystemExit(2)


# --- peak RSS, in a child process ---------------------------------------------------------------


def child_rss(n: int, warmup: int, url: str, world: World, instance_dir: Path) -> None:
    """In a fresh process: the engine arm on a copy the parent made of its template, then peak RSS.

    The template is made by the parent, so the migration (Alembic, Mako) never counts here:
    the peak is the imports plus the lifecycles, and grows only if the engine keeps something.
    """
    marks = {"rss_mb_before": current_rss_mb()}
    arm = EngineArm(url, world, instance_dir)
    try:
        arm.run(warmup)
        marks["rss_mb_warm"] = current_rss_mb()
        seconds = arm.run(n)
        marks["rss_mb_end"] = current_rss_mb()
    finally:
        arm.close()
    rss = peak_rss_mb()
    done = closed_cases(url, "engine")
    if done != n + warmup:
        fail(f"child wrote {done} closed cases, expected {n + warmup}")
    print(json_line({"n": n, "warmup": warmup, "seconds": seconds, **marks, "peak_rss_mb": round(rss, 1)}))


# --- profile ------------------------------------------------------------------------------------


def profile(n: int, warmup: int, scratch: Scratch, template: str, world: World) -> None:
    import cProfile
    import pstats

    url = scratch.copy(template, "profile")
    profiler = cProfile.Profile()
    arm = EngineArm(url, world, scratch.tmp)
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


def _runs(kinds: list[str]) -> list[tuple[str, int]]:
    """Consecutive repeats counted: [a, b, b, b] -> [(a, 1), (b, 3)]."""
    return [(k, len(list(group))) for k, group in itertools.groupby(kinds)]


def print_statements(kinds: list[list[str]], recording: list[list[Transaction]]) -> int:
    per_lifecycle = sum(len(tx) for tx in kinds)
    core = sum(len(tx.core) for tx in recording[-1])
    print("\nStatements per lifecycle, as the database executes them (recorded from the engine; the floors "
          "replay exactly these):")
    print(table(["transaction", "statements", "besides BEGIN and COMMIT"], [
        (name, len(tx), ", ".join(k if c == 1 else f"{k} x{c}" for k, c in _runs(tx[1:-1])))
        for name, tx in zip(TRANSACTION_NAMES, kinds)
    ], left=(0, 2)))
    totals = Counter(k for tx in kinds for k in tx)
    print(f"per lifecycle: {per_lifecycle} statements in {len(kinds)} transactions ({core} through Connection.execute, "
          f"{len(kinds)} BEGIN, {len(kinds)} COMMIT; at most {MAX_STATEMENTS} in {MAX_TRANSACTIONS} allowed): "
          + ", ".join(f"{count} {kind}" for kind, count in totals.most_common()))
    return per_lifecycle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"CI size: N={QUICK_N['sqlite']} "
                        f"(PostgreSQL: {QUICK_N['postgresql']}), {QUICK_ROUNDS} rounds")
    parser.add_argument("--n", type=int, help=f"cases per arm and round (default {FULL_N})")
    parser.add_argument("--rounds", type=int, help=f"interleaved rounds (default {FULL_ROUNDS}, quick {QUICK_ROUNDS})")
    parser.add_argument("--warmup", type=int, default=WARMUP, help="untimed lifecycles per arm and round")
    parser.add_argument("--profile", action="store_true", help="cProfile the engine arm for N cases and exit")
    parser.add_argument("--dir", help="where the SQLite files go (default: the system's temporary directory)")
    add_database_option(parser)
    parser.add_argument("--child-rss", type=int, metavar="N", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--world", help=argparse.SUPPRESS)
    parser.add_argument("--instance", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child_rss is not None:
        child_rss(args.child_rss, args.warmup, args.url, World.decode(args.world), Path(args.instance))
        return 0

    n = args.n or (QUICK_N[args.db] if args.quick else FULL_N)
    rounds = args.rounds or (QUICK_ROUNDS if args.quick else FULL_ROUNDS)
    warmup = args.warmup
    if n < 1 or rounds < 1 or warmup < 0:
        parser.error("--n and --rounds must be positive, --warmup non-negative")

    with Scratch(args.db, "engine", args.dir) as scratch:
        template, world = make_template(scratch)
        if args.profile:
            profile(n, warmup, scratch, template, world)
            return 0

        print(f"bench/engine.py: N={n} lifecycles per arm and round, {rounds} rounds, {warmup} warm-up "
              f"lifecycles per arm and round{' (quick)' if args.quick else ''}")
        print(f"python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, {platform.machine()}, "
              f"{os.cpu_count()} CPUs; {scratch.describe()}")

        # 1. The recording: what the engine sends, lifecycle by lifecycle (untimed).
        recorded_url = scratch.copy(template, "recorded")
        recording = record(recorded_url, warmup + n, world, scratch.tmp)
        recorded_prints = fingerprint(recorded_url)
        scratch.drop(recorded_url)
        kinds = check_statements(recording, args.db)
        statements = print_statements(kinds, recording)

        # 2. Interleaved rounds: every arm on a fresh copy, all open side by side, run in
        #    chunks in rotating order, so that the load of a shared machine falls on all alike.
        times: dict[str, list[float]] = {arm: [] for arm in ARMS}
        chunks = [min(CHUNK, n - i) for i in range(0, n, CHUNK)]
        print(f"\nRounds (ms per lifecycle; each arm on a fresh copy of the template, run in {len(chunks)} "
              f"interleaved chunk(s) of up to {CHUNK}):", flush=True)
        round_rows = []
        makers = {
            "engine": lambda url: EngineArm(url, world, scratch.tmp),
            "core": lambda url: CoreArm(url, recording),
            "raw": lambda url: RawArm(url, recording),
            "spiff": lambda url: SpiffArm(url),
        }
        for r in range(rounds):
            urls = {name: scratch.copy(template, f"r{r}_{name}") for name in ARMS}
            arms: dict[str, Arm] = {}
            elapsed = dict.fromkeys(ARMS, 0.0)
            try:
                for name in ARMS:
                    arms[name] = makers[name](urls[name])
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
                done = closed_cases(urls[name], name)
                if done != n + warmup:
                    fail(f"round {r + 1}: {name} holds {done} closed cases, expected {n + warmup}")
                if name != "spiff":
                    prints[name] = fingerprint(urls[name])
                scratch.drop(urls[name])
            prints["recording"] = recorded_prints
            for name in ("raw", "core", "recording"):
                if prints[name] != prints["engine"]:
                    bad = sorted(t for t in prints["engine"] if prints["engine"][t] != prints[name].get(t))
                    fail(f"round {r + 1}: the {name} rows differ from the engine's in: {', '.join(bad)} "
                         f"(counts engine {[prints['engine'][t][0] for t in bad]}, "
                         f"{name} {[prints[name].get(t, (None,))[0] for t in bad]})")
            round_rows.append([f"round {r + 1}"] + [ms_per_case(times[arm][-1], n) for arm in ARMS])
            print(f"  round {r + 1}/{rounds}: " + ", ".join(f"{arm} {ms_per_case(times[arm][-1], n)}" for arm in ARMS),
                  flush=True)
        counts = prints["engine"]

        # 3. Peak RSS of the engine arm at N and 4N, each in a fresh child process.
        script = str(Path(__file__).resolve())
        rss = {}
        for size in (n, 4 * n):
            url = scratch.copy(template, f"rss{size}")
            try:
                rss[size] = run_child([script, "--warmup", str(warmup), "--url", url, "--world", world.encode(),
                                       "--instance", str(scratch.tmp), "--child-rss", str(size)])
            finally:
                scratch.drop(url)
        rss_n, rss_4n = rss[n], rss[4 * n]

    med = {arm: median(times[arm]) for arm in ARMS}
    rate = {arm: n / med[arm] for arm in ARMS}
    ratio_core = med["engine"] / med["core"]
    ratio_raw = med["engine"] / med["raw"]
    speedup = med["spiff"] / med["engine"]
    growth = rss_4n["peak_rss_mb"] / rss_n["peak_rss_mb"]
    per_tx = len(TRANSACTION_NAMES)

    print(f"\nVerified: in each of {rounds} rounds every arm closed {n} timed + {warmup} warm-up cases, and raw, "
          f"core and engine wrote the rows the recording pass wrote: "
          + ", ".join(f"{t} {c}" for t, (c, _h) in counts.items() if c))
    print("\nMedian of the rounds:")
    print(table(["arm", "ms/lifecycle", "ms/transaction", "cases/s", "engine ÷ arm"] + [r[0] for r in round_rows], [
        [arm, ms_per_case(med[arm], n), f"{med[arm] / n / per_tx * 1000:.3f}", f"{rate[arm]:,.0f}",
         f"{med['engine'] / med[arm]:.2f}"] + [row[1 + ARMS.index(arm)] for row in round_rows]
        for arm in ARMS
    ]))
    print(f"\nPeak RSS of the engine arm (a fresh child each): N={n}: {rss_n['peak_rss_mb']:.1f} MB, "
          f"4N={4 * n}: {rss_4n['peak_rss_mb']:.1f} MB ({(growth - 1) * 100:+.1f}%); "
          f"RSS after imports: {rss_n['rss_mb_before'] or 0:.1f} MB, after the warm-up: "
          f"{rss_n['rss_mb_warm'] or 0:.1f} MB")

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    def per_round(a: str, b: str) -> str:
        ratios = [x / y for x, y in zip(times[a], times[b])]
        return f"{' '.join(f'{q:.2f}' for q in ratios)} (median {median(ratios):.2f})"

    print(f"Per round, engine ÷ core: {per_round('engine', 'core')}; engine ÷ raw: {per_round('engine', 'raw')}; "
          f"spiff ÷ engine: {per_round('spiff', 'engine')}")
    print(f"\nTargets on {args.db} (judged on the full run; ratios of the medians):")
    print(table(["target", "wanted", "measured", ""], [
        ["engine ÷ Core floor", f"<= {TARGET_RATIO_TO_CORE}", f"{ratio_core:.2f}",
         verdict(ratio_core <= TARGET_RATIO_TO_CORE)],
        ["SpiffWorkflow ÷ engine", f">= {TARGET_SPEEDUP_VS_SPIFF}", f"{speedup:.2f}",
         verdict(speedup >= TARGET_SPEEDUP_VS_SPIFF)],
        ["peak RSS 4N ÷ N", f"<= {TARGET_RSS_GROWTH:.2f}", f"{growth:.3f}", verdict(growth <= TARGET_RSS_GROWTH)],
        ["statements per lifecycle", f"<= {MAX_STATEMENTS} in {MAX_TRANSACTIONS} tx", f"{statements} in {per_tx} tx",
         verdict(statements <= MAX_STATEMENTS and per_tx <= MAX_TRANSACTIONS)],
        ["engine ÷ raw floor", "(reported)", f"{ratio_raw:.2f}", ""],
        ["SpiffWorkflow ÷ Core floor", "(reported)", f"{med['spiff'] / med['core']:.2f}",
         "the ceiling for an engine sending these statements through Connection.execute"],
    ], left=(0, 3)))
    if args.quick:
        print("(quick run: figures are indicative only)")

    print(json_line({
        "bench": "engine",
        "quick": bool(args.quick),
        "database": args.db,
        "n": n,
        "statements_per_lifecycle": statements,
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
