"""bench/engine.py runs end to end and reports what it promises, on SQLite and on PostgreSQL.

The figures themselves are not judged here (timed tests are forbidden): the performance
targets are read from the full bench's output. What is checked: the quick run exits 0 (the
bench exits non-zero when an arm did not close all its cases, when a floor did not write the
engine's rows, or when a lifecycle sends more statements or transactions than allowed), and
its last line is the promised JSON. One test per database.
"""

from __future__ import annotations

import importlib.util

import pytest

from tests.bench.conftest import IN_CI, run_bench

RATES = ("engine_cases_per_s", "raw_floor_cases_per_s", "core_floor_cases_per_s", "spiffworkflow_cases_per_s")
RATIOS = ("ratio_to_core_floor", "ratio_to_raw_floor", "speedup_vs_spiffworkflow")
RSS = ("peak_rss_mb_n", "peak_rss_mb_4n")
KEYS = {"bench", "quick", "database", "n", "statements_per_lifecycle", *RATES, *RATIOS, *RSS}


@pytest.mark.slow
def test_quick_engine_bench_verifies_its_arms_and_ends_with_the_promised_json(database):
    if importlib.util.find_spec("SpiffWorkflow") is None:
        message = "SpiffWorkflow (the bench's baseline) is not installed: pip install -e '.[bench]'"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    lines, result = run_bench("engine.py", "--quick", "--db", database)

    assert set(result) == KEYS
    assert result["bench"] == "engine"
    assert result["quick"] is True
    assert result["database"] == database
    assert isinstance(result["n"], int) and result["n"] > 0
    # Checked by the bench itself (it exits 2 when over): at most 50 in 6 transactions.
    assert isinstance(result["statements_per_lifecycle"], int) and 0 < result["statements_per_lifecycle"] <= 50
    for key in (*RATES, *RATIOS, *RSS):
        assert isinstance(result[key], (int, float)) and result[key] > 0, key

    # Printed only after the bench compared, round by round, the closed cases of every arm
    # and the rows of raw, core and engine with the recording's (it exits 2 before otherwise).
    [verified] = [line for line in lines if line.startswith("Verified:")]
    assert f"every arm closed {result['n']} timed" in verified
    assert any(line.startswith("per lifecycle: ") for line in lines)
