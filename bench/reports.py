"""The figures' pages at scale: the dashboard (cold and warm) and the yearly report, on SQLite and PostgreSQL.

    python bench/reports.py            # full: 100,000 cases over 20 teams (the largest 20,000), both databases
    python bench/reports.py --quick    # CI, under a minute: 10,000 cases (largest 2,000), fewer repeats
    python bench/reports.py --db sqlite

What is measured, per database (each request through the WSGI app, `app.test_client()`, logged in as the
team's coordinator; every response's status is checked, anything but 200 ends the bench with status 2):

  dashboard_cold_s   the first GET /dashboard after create_app, in a fresh interpreter (a child process:
                     nothing imported, nothing drawn, nothing cached), for the largest team; median of 3.
                     Before them one such request runs on the freshly loaded data and is printed on its
                     own: it makes the team's facts per case (mas.services.figures.facts), which the
                     bench never writes itself; every later request, cold or warm, finds them.
  dashboard_warm_s   GET /dashboard again in a running app (its charts drawn before are reused when the
                     figures did not change; the figures themselves are queried on every request); median.
  ratio_100k_to_10k  one team's dashboard (warm, median) in the installation of 100,000 cases over that in an
                     installation of 10,000 cases. The team is the same in both (team 2, 4,000 cases, the same
                     rows): only the other teams' cases differ, which must not cost it anything. Requests
                     alternate between the two installations so that load from elsewhere falls on both.
  yearly_report_s    GET /rapportage/jaarverslag/2025-2026.pdf for the largest team (figures, HTML, WeasyPrint).

The data (plain sqlite3 executemany, after mas.db.upgrade; loaded into PostgreSQL by
bench.common.load_sqlite_into_postgresql): 20 teams of three casusregisseurs and a coordinator each; per
case a youth key, the team's record of the youth, one signal, the journal (opening and each transition,
at realistic intervals), its Thuiszitterspact clock (open while at home, stopped on the offer's start,
closed with the case) and its current state's clock, and for a fifth of the open cases an open step of a
partner organisation (half of them overdue). Three in four cases are closed. NOW is 15 June 2026.

After the measurements the bench prints the query plan of every statement one dashboard request sends
(EXPLAIN QUERY PLAN; on PostgreSQL EXPLAIN under the planner settings the figures run with), then one
JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    DATABASE_KINDS,
    Scratch,
    checkpoint,
    explain,
    json_line,
    load_sqlite_into_postgresql,
    run_child,
    sqlite_path,
)

NOW = datetime(2026, 6, 15, 9, 0, tzinfo=timezone.utc)
TEAMS = 20
RATIO_TEAM_CASES = 4_000
PASSWORD = "bench-wachtwoord"
STATES = ("signaal", "gesprek", "zorgtafel", "aanbod", "terugleiding")
FINAL = "afgesloten"
KINDS = ("absoluut", "relatief", "lrv", "signaal", "luxe", "te_laat")
SOURCES = ("school", "duo", "ouder", "wijkteam", "ggd", "swv", "politie", "overig")
ROUTES = ("vrijwillig", "halt", "civiel", "strafrechtelijk")
REASONS = ("terug_naar_school", "andere_opleiding", "werk", "overige", "langdurig_ziek", "legitiem_afwezig",
           "vrijstelling", "verhuisd")
PACT = "thuiszitterspact"


def _ts(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _team_sizes(total: int, largest: int, ratio_team: int) -> list[int]:
    """Team 1 the largest, team 2 exactly `ratio_team` cases, the rest spread evenly."""
    second = min(ratio_team, max(0, total - largest))
    rest = total - largest - second
    others = [rest // (TEAMS - 2) + (1 if i < rest % (TEAMS - 2) else 0) for i in range(TEAMS - 2)]
    return [largest, second, *others]


def build(path: Path, total: int, largest: int, ratio_team: int = RATIO_TEAM_CASES) -> dict:
    """A migrated SQLite file with `total` cases; returns the people to log in as."""
    from mas.db import Database, upgrade
    from mas.services import auth

    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    password_hash = auth._hasher.hash(PASSWORD)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    now_s = _ts(NOW)
    sizes = _team_sizes(total, largest, ratio_team)
    with conn:
        conn.executemany("INSERT INTO team (id, name, municipalities, default_region, created_at) VALUES (?,?,?,?,?)",
                         [(t, f"Leerplicht {t:02d}", json.dumps([f"Gemeente {t:02d}"]), "midden", now_s)
                          for t in range(1, TEAMS + 1)])
        conn.executemany("INSERT INTO organisation (id, name, kind, is_active, created_at) VALUES (?,?,?,1,?)",
                         [(o, f"Partner {o:02d}", ("school", "wijkteam", "ggd", "zorgaanbieder")[o % 4], now_s)
                          for o in range(1, 41)])
        users, uid = [], 0
        coordinators, regisseurs = {}, {}
        for t in range(1, TEAMS + 1):
            uid += 1
            coordinators[t] = uid
            users.append((uid, f"coordinator{t}@bench.example", f"Coördinator {t}", "coordinator", t, password_hash))
            regisseurs[t] = []
            for r in range(3):
                uid += 1
                regisseurs[t].append(uid)
                users.append((uid, f"regisseur{t}.{r}@bench.example", f"Regisseur {t}.{r}", "casusregisseur", t,
                              password_hash))
        conn.executemany("INSERT INTO user (id, email, name, role, team_id, password_hash, is_active, failed_logins, "
                         "is_service_account, created_at) VALUES (?,?,?,?,?,?,1,0,0,'" + now_s + "')", users)
        conn.executemany("UPDATE team SET coordinator_id = ? WHERE id = ?", [(c, t) for t, c in coordinators.items()])
        _cases(conn, sizes, regisseurs)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {"coordinators": coordinators, "sizes": sizes}


def _cases(conn, sizes: list[int], regisseurs: dict) -> None:
    youths, records, cases, signals, events, deadlines, steps = [], [], [], [], [], [], []
    case_id = event_id = deadline_id = step_id = 0
    for team, size in enumerate(sizes, start=1):
        rng = random.Random(1000 + team)  # a team's rows do not depend on the installation's size
        for n in range(size):
            case_id += 1
            first = (NOW - timedelta(days=rng.randint(5, 730))).date()
            opened = datetime(first.year, first.month, first.day, 9, tzinfo=timezone.utc) + timedelta(days=rng.randint(0, 10))
            opened = min(opened, NOW - timedelta(hours=1))
            closed = rng.random() < 0.75
            # How far the case got: closed cases mostly through terugleiding, open ones spread.
            depth = rng.choice((0, 1, 2, 3, 4, 4, 4)) if closed else rng.randint(0, 4)
            moments, at = [opened], opened
            for _ in range(depth + (1 if closed else 0)):
                at = at + timedelta(days=rng.randint(2, 40), hours=rng.randint(0, 6))
                moments.append(at)
            if moments[-1] >= NOW:  # keep the journal in the past: squeeze into the time there is
                span = (NOW - timedelta(hours=1) - opened) / max(1, len(moments) - 1)
                moments = [opened + span * i for i in range(len(moments))]
            state = FINAL if closed else STATES[depth]
            offer_on = moments[4].date() if depth >= 4 else None
            route = rng.choice(ROUTES) if depth >= 2 else None
            reg = regisseurs[team][n % 3]
            youths.append((case_id, f"{case_id:09d}", _ts(opened)))
            records.append((case_id, case_id, team, f"Gemeente {team:02d}", _ts(opened)))
            cases.append((case_id, f"MAS-B-{case_id:07d}", team, reg, case_id, case_id, state, depth + 2, "midden",
                          first.isoformat(), route, moments[2].date().isoformat() if route else None,
                          moments[2].date().isoformat() if route == "strafrechtelijk" else None,
                          offer_on.isoformat() if offer_on else None, rng.choice(REASONS) if closed else None,
                          _ts(opened), _ts(moments[-1]) if closed else None, _ts(moments[-1])))
            signals.append((case_id, case_id, team, rng.choice(KINDS), rng.choice(SOURCES), _ts(opened)))
            event_id += 1
            events.append((event_id, case_id, _ts(opened), reg, "casusregisseur", "zaak_geopend", None, STATES[0]))
            for i in range(1, len(moments)):
                event_id += 1
                dest = FINAL if (closed and i == len(moments) - 1) else STATES[i]
                events.append((event_id, case_id, _ts(moments[i]), reg, "casusregisseur", "overgang", STATES[i - 1], dest))
            due = datetime(first.year, first.month, first.day, 21, 59, tzinfo=timezone.utc) + timedelta(days=91)
            deadline_id += 1
            if offer_on is not None:
                status, stopped, closed_at = "stopped", offer_on.isoformat(), _ts(moments[4])
            elif closed:
                status, stopped, closed_at = "closed", None, _ts(moments[-1])
            else:
                status, stopped, closed_at = "open", None, None
            rung = "tien-weken" if status == "open" and (NOW.date() - first).days > 70 else None
            deadlines.append((deadline_id, case_id, PACT, 1, first.isoformat(), _ts(due), "calendar_months", "{}",
                              rung, status, stopped, closed_at))
            if not closed:
                deadline_id += 1
                deadlines.append((deadline_id, case_id, state, 1, moments[-1].date().isoformat(),
                                  _ts(moments[-1] + timedelta(days=14)), "school_days", "{}", None, "open", None, None))
                if rng.random() < 0.2:
                    step_id += 1
                    steps.append((step_id, case_id, 1 + step_id % 40, "Stap", _ts(NOW + timedelta(days=rng.randint(-20, 20))),
                                  _ts(moments[-1])))
    conn.executemany("INSERT INTO youth (id, bsn, created_at) VALUES (?,?,?)", youths)
    conn.executemany("INSERT INTO youth_record (id, youth_id, team_id, municipality, created_at) VALUES (?,?,?,?,?)",
                     records)
    conn.executemany(
        'INSERT INTO "case" (id, reference, team_id, casusregisseur_id, youth_id, record_id, state, version, region, '
        "first_absent_on, route, route_on, pv_on, offer_started_on, closing_reason, has_suspensions, opened_at, "
        "closed_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,?,?,?)", cases)
    conn.executemany("INSERT INTO signal (case_id, youth_id, team_id, status, kind, source, received_at) "
                     "VALUES (?,?,?,'joined',?,?,?)", signals)
    conn.executemany("INSERT INTO case_event (id, case_id, at, actor_id, actor_role, kind, from_state, to_state) "
                     "VALUES (?,?,?,?,?,?,?,?)", events)
    conn.executemany("INSERT INTO deadline (id, case_id, kind, generation, started_on, due_at, rule, inputs, rung, "
                     "status, stopped_on, closed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", deadlines)
    conn.executemany("INSERT INTO step (id, case_id, organisation_id, title, due_at, status, version, created_at) "
                     "VALUES (?,?,?,?,?,'open',1,?)", steps)


# --- measuring ---------------------------------------------------------------------------------------

def _app(url: str):
    from mas.settings import load_settings
    from mas.web import create_app

    settings = load_settings(environ={}, env="test", instance_dir=Path(sqlite_path("sqlite:////tmp/x")).parent /
                             "mas-bench-reports-instance", database_url=url)
    app = create_app(settings, clock=lambda: NOW, require_totp=False)
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def _login(app, email: str):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    if response.status_code != 302:
        print(f"login as {email} failed: {response.status_code}", file=sys.stderr)
        sys.exit(2)
    return client


def _get(client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        print(f"GET {path}: {response.status_code}", file=sys.stderr)
        sys.exit(2)
    return elapsed


DASHBOARD = "/dashboard"


def child_cold(url: str, email: str) -> None:
    """In a fresh interpreter: create the app, log in (not timed), time the first dashboard."""
    app = _app(url)
    client = _login(app, email)
    print(json_line({"cold_s": _get(client, DASHBOARD)}))


def statements_of(app, client, path: str) -> list[tuple[str, object]]:
    from sqlalchemy import event

    engine = app.extensions["mas"]["db"].engine
    seen = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        _get(client, path)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return [(s, p) for s, p in seen if s.lstrip().upper().startswith(("SELECT", "WITH"))]


def explain_team_driven(url: str, statement: str, parameters) -> list[str]:
    """PostgreSQL: EXPLAIN with the planner settings the figures run under
    (mas.services.figures.data.team_driven), rolled back."""
    import psycopg

    from bench.common import psycopg_conninfo

    with psycopg.connect(psycopg_conninfo(url)) as conn:
        conn.execute("SET LOCAL enable_hashjoin = off")
        conn.execute("SET LOCAL enable_seqscan = off")
        rows = [r[0] for r in conn.execute(f"EXPLAIN {statement}", parameters or None)]
        conn.rollback()
    return rows


def measure(kind: str, quick: bool, scratch: Scratch, files: dict) -> dict:
    big, small = files["big"], files["small"]
    if kind == "postgresql":
        urls = {}
        for label, path in (("big", big), ("small", small)):
            urls[label] = scratch.new(label)
            load_sqlite_into_postgresql(path, urls[label])
    else:
        urls = {label: scratch.copy(f"sqlite:///{path}", label) for label, path in (("big", big), ("small", small))}
    largest = "coordinator1@bench.example"
    ratio_team = "coordinator2@bench.example"
    # The very first dashboard on the loaded data makes the team's facts per case (the summary of the
    # over-time panels, mas.services.figures.facts), as on an installation just migrated to 0017:
    # timed on its own and printed; the cold requests after it find the facts made.
    first = run_child(["bench/reports.py", "--child-cold", urls["big"], largest])["cold_s"]
    colds = [run_child(["bench/reports.py", "--child-cold", urls["big"], largest])["cold_s"]
             for _ in range(1 if quick else 3)]
    app_big, app_small = _app(urls["big"]), _app(urls["small"])
    client = _login(app_big, largest)
    repeats = 3 if quick else 11
    for _ in range(2):
        _get(client, DASHBOARD)
    warm = [_get(client, DASHBOARD) for _ in range(repeats)]
    team_big, team_small = _login(app_big, ratio_team), _login(app_small, ratio_team)
    for c in (team_big, team_small):
        _get(c, DASHBOARD)
    at_big, at_small = [], []
    for i in range(repeats * 2):
        pair = [(team_big, at_big), (team_small, at_small)]
        for c, out in (pair if i % 2 == 0 else pair[::-1]):
            out.append(_get(c, DASHBOARD))
    yearly = [_get(client, "/rapportage/jaarverslag/2025-2026.pdf") for _ in range(1 if quick else 3)]
    plans = []
    for statement, parameters in statements_of(app_big, client, DASHBOARD):
        try:
            plans.append((statement, explain(urls["big"], statement, parameters) if kind == "sqlite"
                          else explain_team_driven(urls["big"], statement, parameters)))
        except Exception as exc:  # noqa: BLE001 - a plan that cannot be shown is said, not fatal
            plans.append((statement, [f"(no plan: {exc})"]))
    for app in (app_big, app_small):
        app.extensions["mas"]["db"].dispose()
    result = {
        "dashboard_cold_s": round(statistics.median(colds), 3),
        "dashboard_warm_s": round(statistics.median(warm), 3),
        "ratio_100k_to_10k": round(statistics.median(at_big) / statistics.median(at_small), 2),
        "yearly_report_s": round(statistics.median(yearly), 3),
    }
    print(f"\n== {kind} ==")
    print(f"dashboard first after the load (largest team, fresh process, makes its facts): {first:.3f} s")
    print(f"dashboard cold (largest team, first request in a fresh process): {colds} -> median {result['dashboard_cold_s']} s")
    print(f"dashboard warm (largest team): median {result['dashboard_warm_s']} s of {repeats}")
    print(f"team of {files['ratio_team']} cases, warm: {statistics.median(at_big):.3f} s at {files['big_total']} cases, "
          f"{statistics.median(at_small):.3f} s at {files['small_total']} cases: ratio {result['ratio_100k_to_10k']}")
    print(f"yearly report PDF (largest team): {yearly} -> median {result['yearly_report_s']} s")
    print(f"\nquery plans of one dashboard request ({len(plans)} statements):")
    for statement, plan in plans:
        print("-- " + " ".join(statement.split())[:300])
        for line in plan:
            print("   " + line)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--db", choices=(*DATABASE_KINDS, "both"), default="both")
    parser.add_argument("--child-cold", nargs=2, metavar=("URL", "EMAIL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_cold:
        child_cold(*args.child_cold)
        return 0
    # quick: the same shape, smaller (the ratio compares 3,000 with 1,500 cases there, not 100,000 with 10,000)
    total, small_total, largest, ratio_team = ((3_000, 1_500, 600, 400) if args.quick
                                               else (100_000, 10_000, 20_000, RATIO_TEAM_CASES))
    kinds = DATABASE_KINDS if args.db == "both" else (args.db,)
    out: dict = {"bench": "reports", "quick": bool(args.quick), "cases": total}
    with Scratch("sqlite", "reports") as files_scratch:
        started = time.perf_counter()
        big, small = files_scratch.tmp / "big.sqlite3", files_scratch.tmp / "small.sqlite3"
        meta = build(big, total, largest, ratio_team)
        build(small, small_total, min(largest, small_total - ratio_team - (TEAMS - 2)), ratio_team)
        for path in (big, small):
            checkpoint(path)
        print(f"built {total} and {small_total} cases in {time.perf_counter() - started:.1f} s; "
              f"teams at {total}: largest {meta['sizes'][0]}, team 2 {meta['sizes'][1]}, others {meta['sizes'][2]}")
        files = {"big": big, "small": small, "big_total": total, "small_total": small_total, "ratio_team": ratio_team}
        for kind in kinds:
            with Scratch(kind, "reports") as scratch:
                out[kind] = measure(kind, args.quick, scratch, files)
    print(json_line(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
