"""`mas tick` from cron: how long one run takes on an empty database, against importing the tables.

A tick that finds nothing to do should cost little more than Python loading mas.models
(SQLAlchemy and SQLModel, which every command that touches the database needs): the target
is at most 1.3 times `python -c 'import mas.models'`, measured in the same run. Each round
runs, in rotating order, three fresh processes:

    python -c 'import mas.models'
    python -m mas.cli tick --now 2026-03-03T10:00     (a migrated, empty SQLite database)
    python -m mas.cli --help

and the medians of their wall times are compared (CPU time of the child too, which the
load of a shared machine disturbs less). The modules a tick loaded are listed: no
APScheduler, Jinja2, SMTP, transitions or holidays on an empty database.

    python bench/tick.py            # 40 rounds
    python bench/tick.py --quick    # 8 rounds, well under a minute

The last line is one JSON object (with "quick").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.3
MOMENT = "2026-03-03T10:00"  # a Tuesday in term time, inside the sending window: every job looks for work
HEAVY = ("apscheduler", "jinja2", "smtplib", "transitions", "holidays", "alembic", "flask", "itsdangerous")
ARMS = {
    "import mas.models": [sys.executable, "-c", "import mas.models"],
    "mas tick (empty)": [sys.executable, "-m", "mas.cli", "tick", "--now", MOMENT],
    "mas --help": [sys.executable, "-m", "mas.cli", "--help"],
}
MODULES = ("import sys, json, runpy; sys.argv = ['mas', 'tick', '--now', %r]\n"
           "try:\n    runpy.run_module('mas.cli', run_name='__main__')\nexcept SystemExit:\n    pass\n"
           "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)" % MOMENT)


def _env(workdir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAS_")}
    env.update(PYTHONPATH=str(REPO_ROOT), MAS_ENV="test", MAS_INSTANCE_DIR=str(workdir),
               MAS_DATABASE_URL=f"sqlite:///{workdir / 'mas.sqlite3'}", PYTHONDONTWRITEBYTECODE="")
    return env


def _run(command: list[str], env: dict, cwd: Path) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 rounds instead of 40")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args(argv)
    rounds = args.rounds or (8 if args.quick else 40)

    with tempfile.TemporaryDirectory(prefix="mas-bench-tick-") as tmp:
        workdir = Path(tmp)
        env = _env(workdir)
        subprocess.run([sys.executable, "-m", "mas.cli", "db", "upgrade"], env=env, cwd=workdir, check=True,
                       stdout=subprocess.DEVNULL)
        loaded = subprocess.run([sys.executable, "-c", MODULES], env=env, cwd=workdir, check=True,
                                capture_output=True, text=True)
        tick_modules = json.loads(loaded.stderr.strip().splitlines()[-1])
        names = list(ARMS)
        for name in names:  # warm the page cache and the bytecode once
            _run(ARMS[name], env, workdir)
        walls: dict[str, list[float]] = {name: [] for name in names}
        cpus: dict[str, list[float]] = {name: [] for name in names}
        for r in range(rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:
                wall, cpu = _run(ARMS[name], env, workdir)
                walls[name].append(wall)
                cpus[name].append(cpu)

    med = {name: statistics.median(values) for name, values in walls.items()}
    cpu = {name: statistics.median(values) for name, values in cpus.items()}
    base, tick, helped = "import mas.models", "mas tick (empty)", "mas --help"
    print(f"mas tick on an empty database vs importing the tables: {rounds} rounds, rotating order")
    print(f"{'':22}{'median s':>10}{'min s':>9}{'max s':>9}{'cpu s':>9}")
    for name in names:
        print(f"{name:22}{med[name]:10.3f}{min(walls[name]):9.3f}{max(walls[name]):9.3f}{cpu[name]:9.3f}")
    ratio, cpu_ratio = med[tick] / med[base], cpu[tick] / cpu[base]
    print(f"tick / import mas.models: {ratio:.2f} (wall, medians), {cpu_ratio:.2f} (cpu); target <= {TARGET}")
    heavy = [m for m in HEAVY if m in tick_modules]
    print(f"heavy modules a tick loaded: {', '.join(heavy) or 'none'} (of {', '.join(HEAVY)})")
    result = {
        "bench": "tick", "quick": args.quick, "rounds": rounds,
        "import_models_s": round(med[base], 4), "tick_empty_s": round(med[tick], 4), "help_s": round(med[helped], 4),
        "tick_cpu_s": round(cpu[tick], 4), "import_models_cpu_s": round(cpu[base], 4),
        "ratio": round(ratio, 3), "cpu_ratio": round(cpu_ratio, 3), "target": TARGET, "met": ratio <= TARGET,
        "heavy_modules": heavy,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
