"""Signals in by the thousand: the verzuimmeldingen import and the enrollment vangnet, on SQLite
and PostgreSQL in one run.

    python bench/intake.py           # 100,000 meldingen; vangnet over 2,500,000 youths
    python bench/intake.py --quick   # CI: 1,000 meldingen; 100,000 youths ("quick": true)

Import, three arms over the same meldingen, each on a fresh copy of the same migrated database
with one team; import and services side by side, in 10 rounds of a tenth of the meldingen
each, the arm that goes first alternating (a shared machine that gets busier slows both alike):
  import       `import_meldingen` on the CSV file: decoding, the column mapping, every row's
               checks, the duplicate check, a savepoint, `cases.receive_signal`, the melding row
  services     the same meldingen (inputs built before timing) through `cases.receive_signal`
               in batches of the same size, one transaction per batch: the import's floor
  executemany  a bare csv.reader and one `Connection.execute(insert, rows)` per table (youth,
               youth_record, case, signal): no rules at all (reported, not a target)
Target: import ÷ services ≤ 1.3 on each database.

Vangnet: a youths file (2,500,000 rows, all of leerplicht or kwalificatieplicht age), an
enrollments file holding all but 0.2 % of them, run by `run_vangnet` in a fresh child process
whose own peak RSS (VmHWM) is read. Target: < 30 s and < 500 MB on each database. The child
also reports its CPU time and its wait for a CPU (schedstat): on a shared machine the wall time
is their sum, and the wait is other processes' doing. The input files are written before any
timing.

The last line is one JSON object:
{"bench": "intake", "quick": …, "sqlite": {"import_rows_per_s", "import_ratio_to_services",
"executemany_rows_per_s", "vangnet_s", "vangnet_peak_rss_mb"}, "postgresql": {…}}.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DATABASE_KINDS, Scratch, json_line, peak_rss_mb, rotated, run_child, table  # noqa: E402

NOW = datetime(2026, 3, 3, 9, 0, tzinfo=timezone.utc)
CUTOFF = date(2026, 10, 1)
BATCH = 500
ROUNDS = 10  # import and services alternate over this many parts of the meldingen
HEADER = ("Meldingnummer;BSN;Voornaam;Achternaam;Geboortedatum;Woongemeente;BRIN;Begindatum;Einddatum;Soort verzuim;"
          "Vermoedelijke reden;Uren verzuimd;Naam melder;Functie melder")
KINDS = ("Relatief verzuim", "Langdurig relatief verzuim", "Signaalverzuim", "Luxe verzuim", "Te laat komen")


def bsns(start: int = 10_000_000):
    """BSNs passing the elfproef, in order (test numbers, no real person's)."""
    n = start
    while True:
        digits = f"{n:08d}"
        last = sum(int(d) * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2))) % 11
        if last < 10:
            yield digits + str(last)
        n += 1


def write_meldingen(path: Path, n: int) -> None:
    rng = random.Random(15)
    numbers = bsns()
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        fh.write(HEADER + "\r\n")
        for i in range(n):
            born = date(2008, 1, 1) + timedelta(days=rng.randrange(365 * 10))
            first = date(2026, 1, 5) + timedelta(days=rng.randrange(50))
            number = f"VM{i:09d}" if i % 3 else ""
            fh.write(f"{number};{next(numbers)};Sem;de Vries;{born:%d-%m-%Y};Utrecht;12AB;{first:%d-%m-%Y};;"
                     f"{KINDS[i % len(KINDS)]};Klaagt over buikpijn;{16 + i % 40};M. Jansen;mentor\r\n")


def write_population(folder: Path, n: int, missing_share: float = 0.002) -> tuple[Path, Path, int]:
    """A youths file of `n` rows, all of leerplicht or kwalificatieplicht age on CUTOFF, and an
    enrollments file holding all but `missing_share` of them. Returns the paths and the misses."""
    rng = random.Random(25)
    youths, enrollments = folder / "jongeren.csv", folder / "inschrijvingen.csv"
    every = round(1 / missing_share)
    missing = 0
    oldest = date(2008, 10, 5)
    span = (date(2021, 5, 31) - oldest).days
    with open(youths, "w", encoding="utf-8", newline="") as fy, open(enrollments, "w", encoding="utf-8",
                                                                       newline="") as fe:
        fy.write("BSN;Voornaam;Achternaam;Geboortedatum;Woongemeente\n")
        fe.write("BSN;BRIN;Inschrijfdatum;Uitschrijfdatum\n")
        for i, bsn in zip(range(n), bsns(30_000_000)):
            born = oldest + timedelta(days=rng.randrange(span))
            fy.write(f"{bsn};Sem;de Vries;{born:%d-%m-%Y};Utrecht\n")
            if i % every == every // 2:
                missing += 1
            else:
                fe.write(f"{bsn};12AB;01-08-2025;\n")
    return youths, enrollments, missing


# -- database set-up -------------------------------------------------------------------------


def _settings(url: str, folder: Path):
    from mas.settings import load_settings

    return load_settings(environ={}, env="test", instance_dir=folder / "instance", database_url=url)


def prepare(url: str) -> None:
    """Migrate and add the one team (with its coordinator) and the school."""
    from mas.db import Database, upgrade
    from mas.models import Organisation, Team

    db = Database(url)
    upgrade(db)
    t, o = Team.__table__, Organisation.__table__
    with db.begin() as conn:
        conn.execute(t.insert(), {"name": "Leerplicht Utrecht", "municipalities": ["Utrecht"], "default_region": "midden",
                                  "created_at": NOW})
        conn.execute(o.insert(), {"name": "Het Baken College", "kind": "school", "brin": "12AB", "municipality": "Utrecht",
                                  "is_active": True, "created_at": NOW})
    db.dispose()


def _counts(db) -> dict[str, int]:
    from sqlalchemy import func, select

    from mas.models import Case, Signal, Verzuimmelding

    with db.read() as conn:
        return {t.__tablename__: conn.execute(select(func.count()).select_from(t.__table__)).scalar_one()
                for t in (Case, Signal, Verzuimmelding)}


def split(path: Path, rounds: int) -> list[Path]:
    """The meldingen file as `rounds` files of consecutive rows, each with the header."""
    lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    size = -(-len(rows) // rounds)
    parts = []
    for i in range(rounds):
        part = path.with_name(f"{path.stem}-{i:02d}.csv")
        part.write_text(header + "".join(rows[i * size:(i + 1) * size]), encoding="utf-8-sig", newline="")
        parts.append(part)
    return parts


class ImportArm:
    """`import_meldingen` on each part file: decoding, mapping, checks, duplicates, receive_signal."""

    name = "import"

    def __init__(self, url: str, folder: Path, parts: list[Path]):
        from mas.context import make_context
        from mas.db import Database

        self.db, self.ctx, self.parts, self.imported = Database(url), make_context(_settings(url, folder)), parts, 0

    def run(self, i: int) -> float:
        from mas.services.actors import SYSTEM
        from mas.services.csvfiles import read_bytes
        from mas.services.verzuim_import import import_meldingen

        start = time.perf_counter()
        report = import_meldingen(self.db, self.ctx, SYSTEM, read_bytes(self.parts[i].read_bytes()), team_id=1, now=NOW,
                                  batch_size=BATCH)
        elapsed = time.perf_counter() - start
        if report.problems or report.file_problem:
            raise SystemExit(f"the import reported problems: {report.problems[:3]} {report.file_problem}")
        self.imported += report.imported
        return elapsed

    def counts(self) -> dict:
        counts = {"imported": self.imported, **_counts(self.db)}
        self.db.dispose()
        return counts


class ServicesArm:
    """The same meldingen, read and checked before timing, through receive_signal in batches."""

    name = "services"

    def __init__(self, url: str, folder: Path, parts: list[Path]):
        from mas.context import make_context
        from mas.db import Database
        from mas.services.csvfiles import read_bytes
        from mas.services.verzuim_import import Columns, load_config, read_row

        self.db, self.ctx = Database(url), make_context(_settings(url, folder))
        config = load_config(self.ctx)
        self.parts = []
        for part in parts:
            table_ = read_bytes(part.read_bytes())
            cols = Columns(table_.header, config)
            self.parts.append([read_row(cols, config, line, cells, NOW.date(), {"12AB": 1})
                               for line, cells in table_.rows()])

    def run(self, i: int) -> float:
        from mas.services import cases
        from mas.services.actors import SYSTEM

        meldingen = self.parts[i]
        start = time.perf_counter()
        for j in range(0, len(meldingen), BATCH):
            with self.db.begin() as conn:
                for m in meldingen[j:j + BATCH]:
                    cases.receive_signal(conn, self.ctx, SYSTEM, m.youth, m.signal, team_id=1, now=NOW)
        return time.perf_counter() - start

    def counts(self) -> dict:
        counts = _counts(self.db)
        self.db.dispose()
        return counts


def arm_executemany(url: str, path: Path) -> tuple[float, dict]:
    """A bare csv.reader and one insert per table with every row: what no rules cost."""
    from mas.db import Database
    from mas.models import Case, Signal, Youth, YouthRecord

    db = Database(url)
    y, r, c, s = Youth.__table__, YouthRecord.__table__, Case.__table__, Signal.__table__
    start = time.perf_counter()
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))[1:]

    def day(text):
        return date(int(text[6:10]), int(text[3:5]), int(text[0:2]))

    offset = 1_000_000  # ids clear of the other arms' (each arm has its own database anyway)
    with db.begin() as conn:
        conn.execute(y.insert(), [{"id": offset + i, "bsn": row[1], "created_at": NOW} for i, row in enumerate(rows)])
        conn.execute(r.insert(), [{"id": offset + i, "youth_id": offset + i, "team_id": 1, "given_name": row[2],
                                   "family_name": row[3], "birth_on": day(row[4]), "bsn": row[1], "municipality": row[5],
                                   "created_at": NOW} for i, row in enumerate(rows)])
        conn.execute(c.insert(), [{"id": offset + i, "reference": f"X-{i}", "team_id": 1, "youth_id": offset + i,
                                   "record_id": offset + i, "state": "x", "version": 1, "region": "midden",
                                   "first_absent_on": day(row[7]), "has_suspensions": False, "opened_at": NOW,
                                   "updated_at": NOW} for i, row in enumerate(rows)])
        conn.execute(s.insert(), [{"case_id": offset + i, "youth_id": offset + i, "team_id": 1, "status": "joined",
                                   "kind": "relatief", "source": "school", "period_first_on": day(row[7]),
                                   "hours_missed": float(row[11]), "received_at": NOW} for i, row in enumerate(rows)])
    elapsed = time.perf_counter() - start
    db.dispose()
    return elapsed, {"rows": len(rows)}


# -- the vangnet child -------------------------------------------------------------------------


def runqueue_wait_s() -> float | None:
    """Seconds this process has waited for a CPU while runnable (Linux /proc/self/schedstat):
    on a shared machine the vangnet's wall time is its CPU time plus this wait."""
    try:
        with open("/proc/self/schedstat") as fh:
            return int(fh.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


def child_vangnet(url: str, youths: str, enrollments: str, folder: str) -> None:
    from mas.context import make_context
    from mas.db import Database
    from mas.services.actors import SYSTEM
    from mas.services.vangnet import run_vangnet

    db, ctx = Database(url), make_context(_settings(url, Path(folder)))
    rss_before = peak_rss_mb()
    start, cpu, waited = time.perf_counter(), time.process_time(), runqueue_wait_s()
    report = run_vangnet(db, ctx, SYSTEM, youths, enrollments, cutoff=CUTOFF, team_id=1, now=NOW)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    waited = runqueue_wait_s() - waited if waited is not None else None
    second = time.perf_counter()
    again = run_vangnet(db, ctx, SYSTEM, youths, enrollments, cutoff=CUTOFF, team_id=1, now=NOW)
    second = time.perf_counter() - second
    db.dispose()
    print(json.dumps({"vangnet_s": elapsed, "vangnet_cpu_s": cpu, "vangnet_cpu_wait_s": waited,
                      "peak_rss_mb": peak_rss_mb(), "rss_before_mb": rss_before, "youths": report.youths,
                      "in_age": report.in_age, "misses": report.misses, "new_entries": report.new_entries,
                      "second_run_new": again.new_entries, "second_run_s": second}))


# -- the run ---------------------------------------------------------------------------------


def run_database(kind: str, folder: Path, meldingen: Path, youths: Path, enrollments: Path, expected_misses: int,
                 n: int) -> tuple[dict, list]:
    rows = []
    with Scratch(kind, "intake", folder) as scratch:
        print(f"# {scratch.describe()}", flush=True)
        base = scratch.new("base")
        prepare(base)
        results = {}
        # import and services side by side: the same part of the meldingen in each round, the
        # arm that goes first alternating, so a machine that gets busier slows both alike
        parts = split(meldingen, ROUNDS)
        arms = [ServicesArm(scratch.copy(base, "services"), folder, parts),
                ImportArm(scratch.copy(base, "import"), folder, parts)]
        spent = {arm.name: [] for arm in arms}
        for i in range(ROUNDS):
            for arm in rotated(arms, i):
                spent[arm.name].append(arm.run(i))
        for arm in arms:
            counts = arm.counts()
            elapsed = results[arm.name] = sum(spent[arm.name])
            rows.append((kind, arm.name, n, f"{elapsed:.2f}", f"{n / elapsed:,.0f}", json.dumps(counts)))
            print(f"  {arm.name}: {elapsed:.2f} s, {n / elapsed:,.0f} rows/s {counts}", flush=True)
            if counts["signal"] != n or counts["case"] != n:
                raise SystemExit(f"{arm.name}: expected {n} signals and cases, found {counts}")
        print("  per round (s): " + "; ".join(
            f"{name} " + " ".join(f"{t:.1f}" for t in times) for name, times in spent.items()), flush=True)
        url = scratch.copy(base, "executemany")
        elapsed, counts = arm_executemany(url, meldingen)
        results["executemany"] = elapsed
        rows.append((kind, "executemany", n, f"{elapsed:.2f}", f"{n / elapsed:,.0f}", json.dumps(counts)))
        print(f"  executemany: {elapsed:.2f} s, {n / elapsed:,.0f} rows/s {counts}", flush=True)
        scratch.drop(url)
        vurl = scratch.copy(base, "vangnet")
        child = run_child(["bench/intake.py", "--child-vangnet", vurl, str(youths), str(enrollments), str(folder)])
        if child["misses"] != expected_misses or child["new_entries"] != expected_misses or child["second_run_new"]:
            raise SystemExit(f"vangnet found {child}, expected {expected_misses} misses once")
        wait = child["vangnet_cpu_wait_s"]
        print(f"  vangnet: {child['vangnet_s']:.2f} s wall = {child['vangnet_cpu_s']:.2f} s CPU"
              + (f" + {wait:.2f} s waiting for a CPU (other processes)" if wait is not None else "")
              + f"; {child}", flush=True)
    return {
        "import_rows_per_s": round(n / results["import"], 1),
        "import_ratio_to_services": round(results["import"] / results["services"], 3),
        "executemany_rows_per_s": round(n / results["executemany"], 1),
        "vangnet_s": round(child["vangnet_s"], 2),
        "vangnet_peak_rss_mb": round(child["peak_rss_mb"], 1),
    }, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 meldingen and 100,000 youths, for CI")
    parser.add_argument("--databases", default=",".join(DATABASE_KINDS), help="comma-separated: sqlite,postgresql")
    parser.add_argument("--meldingen", type=int, help="number of meldingen (default 100,000; --quick 1,000)")
    parser.add_argument("--youths", type=int, help="number of youths for the vangnet (default 2,500,000; --quick 100,000)")
    parser.add_argument("--child-vangnet", nargs=4, metavar=("URL", "YOUTHS", "ENROLLMENTS", "FOLDER"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_vangnet:
        child_vangnet(*args.child_vangnet)
        return 0
    n, population = (1_000, 100_000) if args.quick else (100_000, 2_500_000)
    n, population = args.meldingen or n, args.youths or population
    out: dict = {"bench": "intake", "quick": bool(args.quick)}
    if args.meldingen or args.youths:
        out["sizes"] = {"meldingen": n, "youths": population}  # not the sizes: said so in the line
    all_rows = []
    with tempfile.TemporaryDirectory(prefix="mas-bench-intake-") as tmp:
        folder = Path(tmp)
        meldingen = folder / "meldingen.csv"
        start = time.perf_counter()
        write_meldingen(meldingen, n)
        youths, enrollments, misses = write_population(folder, population)
        print(f"# files: {n:,} meldingen, {population:,} youths ({misses:,} without enrollment) in "
              f"{time.perf_counter() - start:.1f} s", flush=True)
        for kind in args.databases.split(","):
            out[kind], rows = run_database(kind, folder, meldingen, youths, enrollments, misses, n)
            all_rows.extend(rows)
    print(table(("database", "arm", "rows", "s", "rows/s", "rows written"), all_rows, left=(0, 1, 5)))
    for kind in args.databases.split(","):
        r = out[kind]
        print(f"{kind}: import ÷ receive_signal batches = {r['import_ratio_to_services']} (target ≤ 1.3); "
              f"vangnet {r['vangnet_s']} s (target < 30), peak RSS {r['vangnet_peak_rss_mb']} MB (target < 500)")
    print(json_line(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
