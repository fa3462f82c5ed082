"""bench/engine.py runs end to end and reports what it promises.

The figures themselves are not judged here (timed tests are forbidden): the performance
targets are read from the full bench's output. What is checked: the quick run exits 0 (the
bench exits non-zero when an arm did not close all its cases, or when a floor did not send
the engine's statements or write the engine's rows), and its last line is the promised JSON.
One test, so that pytest-xdist never runs the bench twice side by side.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
RATES = ("engine_cases_per_s", "raw_floor_cases_per_s", "core_floor_cases_per_s", "spiffworkflow_cases_per_s")
RATIOS = ("ratio_to_core_floor", "ratio_to_raw_floor", "speedup_vs_spiffworkflow")
RSS = ("peak_rss_mb_n", "peak_rss_mb_4n")
KEYS = {"bench", "quick", "n", *RATES, *RATIOS, *RSS}


@pytest.mark.slow
def test_quick_engine_bench_verifies_its_arms_and_ends_with_the_promised_json():
    if importlib.util.find_spec("SpiffWorkflow") is None:
        message = "SpiffWorkflow (the bench's baseline) is not installed: pip install -e '.[bench]'"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    proc = subprocess.run([sys.executable, "bench/engine.py", "--quick"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"bench exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"

    lines = proc.stdout.strip().splitlines()
    result = json.loads(lines[-1])
    assert set(result) == KEYS
    assert result["bench"] == "engine"
    assert result["quick"] is True
    assert isinstance(result["n"], int) and result["n"] > 0
    for key in (*RATES, *RATIOS, *RSS):
        assert isinstance(result[key], (int, float)) and result[key] > 0, key

    # Printed only after the bench compared, round by round, the closed cases of every arm
    # and the rows of raw, core and engine (it exits 2 before printing it otherwise).
    [verified] = [line for line in lines if line.startswith("Verified:")]
    assert f"every arm closed {result['n']} timed" in verified
