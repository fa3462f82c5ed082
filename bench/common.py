"""Helpers shared by the benches: peak RSS in a child process, medians, tables, the JSON line.

A bench prints a readable table and ends with exactly one JSON object on its last line, so
that CI and people can both read it (`last_json_line` parses it back).
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

REPO_ROOT = Path(__file__).resolve().parent.parent


def _proc_status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB.

    On Linux this is VmHWM, the high-water mark of this process's own address space. Not
    ru_maxrss: the kernel carries a process's ru_maxrss across execve, so a child started by
    subprocess (fork/vfork, then exec) reports at least its *parent's* RSS, and a small child
    of a big bench would look as big as the bench. Elsewhere: ru_maxrss (KB on Linux and the
    BSDs, bytes on macOS).
    """
    hwm = _proc_status_mb("VmHWM")
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mb() -> float | None:
    """Resident set size now (Linux only; None elsewhere), for context beside the peak."""
    return _proc_status_mb("VmRSS")


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def rotated(items: Sequence, k: int) -> list:
    """items rotated left by k: round r of an interleaved bench starts with a different arm."""
    k %= len(items)
    return list(items[k:]) + list(items[:k])


def json_line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False)


def last_json_line(text: str) -> dict[str, Any]:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines:
        raise ValueError("no output")
    return json.loads(lines[-1])


def run_child(args: Sequence[str], timeout: float | None = None) -> dict[str, Any]:
    """Run `python <args>` from the repository root in a fresh process; return its JSON line.

    A fresh interpreter per measurement keeps peak RSS honest: nothing a previous arm
    allocated (or a module it imported) is counted.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    proc = subprocess.run([sys.executable, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"child {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-4000:]}")
    return last_json_line(proc.stdout)


def checkpoint(path: str | os.PathLike) -> None:
    """Fold a SQLite file's WAL into the main file, so that copying the file copies everything."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], left: Sequence[int] = (0,)) -> str:
    """A plain fixed-width table: the `left` columns left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def fmt(row):
        return "  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()

    out = [fmt(cells[0]), "  ".join("-" * w for w in widths)]
    out.extend(fmt(r) for r in cells[1:])
    return "\n".join(out)
