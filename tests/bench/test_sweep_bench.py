"""bench/sweep.py runs end to end and reports what it promises.

The figures themselves are not judged here (timed tests are forbidden): the targets are read
from the full bench's output. What is checked: the quick run exits 0 (each sweep's child exits
non-zero unless exactly the due deadlines climbed and the expected case_event and outbox rows
were written, the full read non-zero unless it saw every open deadline), and its last line is
the promised JSON. SQLite only here: its PostgreSQL run loads 110,000 deadlines with their
cases and history into the server first, more than the smoke tests' time allows; the engine
and web smoke tests cover the PostgreSQL path of the benches.
"""

from __future__ import annotations

import pytest

from tests.bench.conftest import run_bench

SECONDS = ("sweep_1m_s", "sweep_100k_s", "full_read_1m_s", "core_floor_1m_s", "raw_floor_1m_s")
RATIOS = ("speedup_vs_full_read", "ratio_1m_to_100k")
RSS = ("peak_rss_mb_1m", "peak_rss_mb_100k")
KEYS = {"bench", "quick", "database", "open", "due", *SECONDS, *RATIOS, *RSS}


@pytest.mark.slow
def test_quick_sweep_bench_verifies_its_sweeps_and_ends_with_the_promised_json():
    lines, result = run_bench("sweep.py", "--quick")

    assert set(result) == KEYS
    assert result["bench"] == "sweep"
    assert result["quick"] is True
    assert result["database"] == "sqlite"
    for key in ("open", "due"):
        assert isinstance(result[key], int) and result[key] > 0, key
    assert result["open"] > result["due"]
    for key in (*SECONDS, *RATIOS, *RSS):
        assert isinstance(result[key], (int, float)) and result[key] > 0, key

    # Printed only after every child checked its sweep (a failed check exits non-zero first).
    [verified] = [line for line in lines if line.startswith("Verified:")]
    assert f"raised exactly {result['due']:,} due deadlines" in verified
    # The floors replayed the sweep's own recorded statements in every round (a replay that
    # raised other rows, or a recording that could not be replayed, exits non-zero first).
    floors = [line for line in lines if "floors" in line and "replayed" in line]
    assert len(floors) == 3, floors  # one per round of the quick run
